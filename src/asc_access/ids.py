"""Nominal identifier types, and the one rule for names people give things.

Identifier types are plain strings at run time and distinct for the type checker.
:func:`name_problem` is the rule for every name a person chooses (API tokens,
connections): it is part of URLs (``/api/v1/connections/{name}``), file names
and audit lines, so it must survive all three unchanged.
"""

import re
from typing import NewType

__all__ = [
    "NAME_RULE",
    "AppId",
    "ConnectionName",
    "InvitationId",
    "IssuerId",
    "KeyId",
    "UserId",
    "name_problem",
    "shown_name",
]

KeyId = NewType("KeyId", str)
IssuerId = NewType("IssuerId", str)
UserId = NewType("UserId", str)
InvitationId = NewType("InvitationId", str)
AppId = NewType("AppId", str)
ConnectionName = NewType("ConnectionName", str)

#: The rule, as a person reads it.
NAME_RULE = "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def shown_name(name: str) -> str:
    """How a message may quote a refused name: quoted when short, else only its length.

    A long value is often a secret pasted into the wrong field; it is never echoed.
    """
    if len(name) <= 64 and "PRIVATE KEY" not in name.upper():
        return repr(name)
    return f"(a value of {len(name)} characters, not shown)"


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a usable name (``None`` when it is).

    ASCII only, so no control, bidi or look-alike characters; no ``/``; never
    ``.`` or ``..``. ``fullmatch``, so a trailing newline is refused too.
    """
    if _NAME.fullmatch(name):
        return None
    return NAME_RULE
