"""The rule a key rotation keeps: the same team at the same URL, unless a move is asked.

:func:`rotation_refusal` is pure (no store, no network); :func:`asc_access.runtime.rotate_key`
asks it before contacting the new key's team and again with what the doctor learned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asc_access.credentials import Credentials
    from asc_access.store.connections import ConnectionRecord

__all__ = ["rotation_refusal"]

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
