"""Addresses the mirror has ever seen, so a mistyped leaver is an error, not "already removed".

``remove`` and ``offboard`` of someone Apple does not show end ``already``
only for a person we saw once (a member or invitee in the mirror, or in its
change history) who is gone now. An address no mirrored team has ever seen is
most likely a typo: :func:`check_known` raises a :class:`UsageError` that
suggests the closest addresses we know (:mod:`difflib`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from asc_access.errors import UsageError
from asc_access.store.lookups import known_addresses

if TYPE_CHECKING:
    from asc_access.store.handle import Database

__all__ = ["check_known", "closest", "known_addresses"]


def closest(email: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known addresses nearest to ``email`` (best first)."""
    return difflib.get_close_matches(email, sorted(known), n=n, cutoff=0.6)


def check_known(engine: Database | None, email: str, teams: Iterable[str]) -> None:
    """Raise :class:`UsageError` when no mirrored team has ever seen ``email``.

    Called only once Apple showed the person on none of ``teams``. Without a
    store (library use) there is no history to judge by, and nothing is raised.
    """
    if engine is None:
        return
    known = known_addresses(engine)
    if email in known:
        return
    names = list(teams)
    where = f"team {names[0]}" if len(names) == 1 else f"any of the teams {', '.join(names)}"
    near = closest(email, known)
    hint = (
        f"; did you mean {' or '.join(near)}?"
        if near
        else "; `asc-access users --email TEXT` searches the mirror"
    )
    raise UsageError(
        f"{email} is not on {where}, and no mirrored team has ever had that address "
        f"(nothing to remove){hint}",
        context={"email": email, "suggestions": near},
    )
