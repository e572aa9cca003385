"""The rules for saving a key on a connection.

:func:`rotation_refusal`: a rotation keeps the same team at the same URL unless a
move is asked (pure: no store, no network; :func:`asc_access.runtime.rotate_key`
asks it before contacting the new key's team and again with what the doctor
learned). :func:`same_key_warnings`: one key is saved under one name only, unless
forced (the same team mirrored twice would be counted twice by reviews).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asc_access.errors import UsageError

if TYPE_CHECKING:
    from asc_access.credentials import Credentials
    from asc_access.store.connections import ConnectionRecord
    from asc_access.store.handle import Database

__all__ = ["rotation_refusal", "same_key_warnings"]

_MOVE_HINT = " Ask for an explicit move (--move, or move: true) if that is what you want."


def rotation_refusal(
    record: ConnectionRecord,
    creds: Credentials | None,
    url: str,
    capabilities: dict[str, bool | None] | None,
) -> str | None:
    """Why rotating ``record`` to ``creds`` at ``url`` would move it (``None``: it would not).

    Apple tells nobody which user an individual key belongs to, so for those the
    same key type and no lost capability stand in for "the same user"; the first
    sync then checks the team itself (:mod:`asc_access.sync.rotation`).
    """
    if url != record.api_url.rstrip("/"):
        return f"a new key keeps the connection's API URL ({record.api_url}), not {url}." + (
            _MOVE_HINT
        )
    if creds is None:
        return None  # the doctor explains what is wrong with the key
    if creds.key_type != record.key_type:
        return (
            f"connection {record.name!r} uses a {record.key_type} key; the new key is a "
            f"{creds.key_type} key, so it may not be of the same team." + _MOVE_HINT
        )
    if (
        record.key_type == "team"
        and (creds.issuer_id or "").lower() != (record.issuer_id or "").lower()
    ):
        return (
            f"the new key's issuer ({creds.issuer_id}) is not this connection's "
            f"({record.issuer_id}): it belongs to another team." + _MOVE_HINT
        )
    lost = sorted(
        k
        for k, v in (record.capabilities or {}).items()
        if v and (capabilities or {}).get(k) is False
    )
    if record.key_type == "individual" and capabilities is not None and lost:
        return (
            f"the new individual key cannot {', '.join(lost)} as the old one could: it looks "
            "like another user's key." + _MOVE_HINT
        )
    return None


def same_key_warnings(
    engine: Database, creds: Credentials | None, *, force: bool
) -> tuple[str, ...]:
    """Refuse (unless ``force``) a key already saved under another name; else warn.

    The same key twice mirrors one team twice, and reviews would count everyone twice.
    """
    if creds is None:
        return ()
    from asc_access.store import connections as store  # lazy: the doctor never needs it

    twins = [r.name for r in store.connections_with_key(engine, creds.key_id, creds.issuer_id)]
    if not twins:
        return ()
    message = (
        f"key {creds.key_id} is already saved as connection {', '.join(repr(t) for t in twins)}; "
        "a second connection with the same key mirrors the same team twice"
    )
    if not force:
        raise UsageError(
            f"{message}: use that connection (or `connections rotate-key` to change its key), "
            "or pass --force to save it again",
            context={"conflict": True, "connections": twins},
        )
    return (message + " (saved anyway: --force)",)
