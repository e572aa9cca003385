"""Key rotation's safety net: the previous key, kept until the new one has synced once.

:func:`asc_access.store.connections.set_key` keeps the replaced key in the
``previous_*`` columns. The sync confirms the rotation inside the transaction
that writes its first successful picture with the new key (:func:`confirm_rotation`);
when Apple refuses the new key in that sync, or the new key sees another team,
:func:`restore_previous_key` puts the old key back, so a wrong key never
replaces a working one for good.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, select, update

from asc_access.store.schema import connections
from asc_access.store.timeutil import utc_now

__all__ = [
    "KEY_FIELDS",
    "as_previous",
    "confirm_rotation",
    "pending_rotation",
    "restore_previous_key",
]

#: What a rotation replaces (and keeps as ``previous_<field>`` until the new key has synced).
KEY_FIELDS = ("key_id", "issuer_id", "key_type", "api_url", "encrypted_private_key")


def as_previous(current: object) -> dict[str, Any]:
    """The columns that keep ``current``'s key (a saved connection) as the previous one."""
    return {f"previous_{name}": getattr(current, name) for name in KEY_FIELDS}


def pending_rotation(conn: Connection, connection_id: int) -> tuple[bool, bool]:
    """Whether a rotated key awaits its first sync, and whether it asked to move teams."""
    c = connections.c
    row = conn.execute(
        select(c.previous_key_id, c.rotation_move).where(c.id == connection_id)
    ).first()
    if row is None or row.previous_key_id is None:
        return False, False
    return True, bool(row.rotation_move)


_NO_PREVIOUS: dict[str, Any] = {f"previous_{name}": None for name in KEY_FIELDS}
_NO_PREVIOUS["rotation_move"] = None


def confirm_rotation(conn: Connection, connection_id: int) -> None:
    """The rotated key has synced: forget the previous key (inside the sync's transaction)."""
    conn.execute(
        update(connections)
        .where(connections.c.id == connection_id, connections.c.previous_key_id.is_not(None))
        .values(**_NO_PREVIOUS)
    )


def restore_previous_key(db: Engine, connection_id: int) -> bool:
    """Put the previous key back (its id, issuer, type, URL and key); ``False`` if none is kept."""
    c = connections.c
    with db.begin() as conn:
        row = conn.execute(select(connections).where(c.id == connection_id)).first()
        if row is None or row._mapping["previous_key_id"] is None:
            return False
        m = row._mapping
        conn.execute(
            update(connections)
            .where(c.id == connection_id)
            .values(
                **{name: m[f"previous_{name}"] for name in KEY_FIELDS},
                capabilities=None,
                updated_at=utc_now(),
                **_NO_PREVIOUS,
            )
        )
    return True
