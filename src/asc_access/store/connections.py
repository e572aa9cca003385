"""Saved connections: one row per App Store Connect key, with its health and history.

The private key is stored only as the vault's ciphertext
(``encrypted_private_key``); this module never sees plain key material.
``last_ok_at`` (when Apple last accepted the key) and ``capabilities`` (what it
could do then) are the history the doctor uses to tell ``revoked_after_working``
and ``permissions_revoked`` from first-time failures; they survive a key
rotation only when the new key passes (see :func:`set_key`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from asc_access.errors import NotFoundLocallyError, UsageError
from asc_access.store.db import checkpoint_wal
from asc_access.store.names import allowed_name
from asc_access.store.rotation import as_previous
from asc_access.store.rows import json_view, record
from asc_access.store.schema import connections
from asc_access.store.timeutil import utc_or_now

__all__ = [
    "ConnectionRecord",
    "add_connection",
    "check_connection_name",
    "connection_record",
    "connections_with_key",
    "delete_connection",
    "get_connection",
    "get_connection_by_id",
    "list_connections",
    "set_key",
    "update_health",
]

#: What :meth:`ConnectionRecord.as_dict` shows, in order (never the key material).
_SHOWN = (
    *("id", "name", "key_id", "issuer_id", "key_type", "api_url", "sync_interval_seconds"),
    *("healthy", "health_code", "health_cause", "health_checked_at", "last_ok_at"),
    *("capabilities", "created_at", "updated_at", "has_key", "rotation_pending"),
    "previous_key_id",
)


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    """A saved connection (the encrypted key is kept out of ``repr``)."""

    id: int
    name: str
    key_id: str
    issuer_id: str | None
    key_type: str
    api_url: str
    sync_interval_seconds: int
    healthy: bool
    health_code: str | None
    health_cause: str | None
    health_checked_at: datetime | None
    last_ok_at: datetime | None
    capabilities: dict[str, bool | None] | None
    created_at: datetime
    updated_at: datetime
    encrypted_private_key: bytes | None = field(default=None, repr=False)
    previous_key_id: str | None = None
    previous_issuer_id: str | None = None
    rotation_move: bool = False

    @property
    def has_key(self) -> bool:
        """Whether encrypted key material is stored."""
        return bool(self.encrypted_private_key)

    @property
    def rotation_pending(self) -> bool:
        """A rotated key has not synced yet (the previous key is kept until it has)."""
        return self.previous_key_id is not None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (never the key material, not even encrypted)."""
        return json_view(self, *_SHOWN)


def connection_record(row: Any) -> ConnectionRecord:
    """A saved connection from a ``connections`` row."""
    m = row._mapping
    return record(
        ConnectionRecord,
        row,
        healthy=bool(m["healthy"]),
        capabilities=dict(m["capabilities"]) if m["capabilities"] else None,
        rotation_move=bool(m["rotation_move"]),
    )


def check_connection_name(name: str) -> str:
    """Return ``name`` if it may name a connection, else raise :class:`UsageError`.

    The same rule as for API tokens (:func:`asc_access.ids.name_problem`).
    """
    return allowed_name(name, "connection")


def add_connection(
    db: Engine,
    *,
    name: str,
    key_id: str,
    issuer_id: str | None,
    key_type: str,
    api_url: str,
    encrypted_private_key: bytes,
    healthy: bool,
    health_code: str | None = None,
    health_cause: str | None = None,
    last_ok_at: datetime | None = None,
    capabilities: Mapping[str, bool | None] | None = None,
    sync_interval_seconds: int = 3600,
    now: datetime | None = None,
) -> ConnectionRecord:
    """Save a new connection; :class:`UsageError` when the name is taken or not allowed."""
    check_connection_name(name)
    moment = utc_or_now(now)
    values = {
        "name": name,
        "key_id": key_id,
        "issuer_id": issuer_id,
        "key_type": key_type,
        "api_url": api_url,
        "encrypted_private_key": encrypted_private_key,
        "sync_interval_seconds": sync_interval_seconds,
        "healthy": healthy,
        "health_code": health_code,
        "health_cause": health_cause,
        "health_checked_at": moment,
        "last_ok_at": last_ok_at,
        "capabilities": dict(capabilities) if capabilities is not None else None,
        "created_at": moment,
        "updated_at": moment,
    }
    try:
        with db.begin() as conn:
            conn.execute(insert(connections).values(**values))
            return _get(conn, name)
    except IntegrityError:
        raise UsageError(
            f"a connection named {name!r} already exists: use `asc-access connections "
            f"rotate-key {name}` to replace its key, or remove it first"
        ) from None


def _get(conn: Connection, name: str) -> ConnectionRecord:
    row = conn.execute(select(connections).where(connections.c.name == name)).first()
    if row is None:
        raise NotFoundLocallyError(
            f"no connection named {name!r} (see `asc-access connections`)",
            context={"connection": name},
        )
    return connection_record(row)


def get_connection(db: Engine | Connection, name: str) -> ConnectionRecord:
    """The connection called ``name``; :class:`NotFoundLocallyError` when there is none."""
    if isinstance(db, Connection):
        return _get(db, name)
    with db.connect() as conn:
        return _get(conn, name)


def get_connection_by_id(db: Engine, connection_id: int) -> ConnectionRecord:
    """The connection with this id; :class:`NotFoundLocallyError` when there is none."""
    with db.connect() as conn:
        row = conn.execute(select(connections).where(connections.c.id == connection_id)).first()
    if row is None:
        raise NotFoundLocallyError(f"no connection with id {connection_id}")
    return connection_record(row)


def list_connections(db: Engine) -> list[ConnectionRecord]:
    """Every saved connection, by name."""
    with db.connect() as conn:
        rows = conn.execute(select(connections).order_by(connections.c.name)).all()
    return [connection_record(row) for row in rows]


def connections_with_key(db: Engine, key_id: str, issuer_id: str | None) -> list[ConnectionRecord]:
    """Saved connections holding this key (same Key ID and Issuer ID), by name."""
    c = connections.c
    issuer = c.issuer_id.is_(None) if issuer_id is None else c.issuer_id == issuer_id
    with db.connect() as conn:
        rows = conn.execute(
            select(connections).where(c.key_id == key_id, issuer).order_by(c.name)
        ).all()
    return [connection_record(row) for row in rows]


def update_health(
    db: Engine,
    name: str,
    *,
    healthy: bool,
    code: str | None = None,
    cause: str | None = None,
    accepted: bool = False,
    capabilities: Mapping[str, bool | None] | None = None,
    now: datetime | None = None,
) -> ConnectionRecord:
    """Record a doctor or sync verdict.

    ``accepted`` (Apple accepted the key in this check) moves ``last_ok_at``
    forward; ``capabilities`` (when measured) replaces the stored ones.
    """
    moment = utc_or_now(now)
    values: dict[str, Any] = {
        "healthy": healthy,
        "health_code": None if healthy else code,
        "health_cause": None if healthy else cause,
        "health_checked_at": moment,
        "updated_at": moment,
    }
    if accepted:
        values["last_ok_at"] = moment
    if capabilities is not None and any(v is not None for v in capabilities.values()):
        values["capabilities"] = dict(capabilities)
    with db.begin() as conn:
        result = conn.execute(
            update(connections).where(connections.c.name == name).values(**values)
        )
        if result.rowcount == 0:
            raise NotFoundLocallyError(f"no connection named {name!r}")
        return _get(conn, name)


def set_sync_interval(db: Engine, name: str, seconds: int) -> ConnectionRecord:
    """Set how often the scheduler syncs ``name`` (seconds; 0 turns scheduling off)."""
    if seconds < 0:
        raise UsageError(f"a sync interval cannot be negative (got {seconds})")
    with db.begin() as conn:
        result = conn.execute(
            update(connections)
            .where(connections.c.name == name)
            .values(sync_interval_seconds=seconds, updated_at=utc_or_now(None))
        )
        if result.rowcount == 0:
            raise NotFoundLocallyError(f"no connection named {name!r}")
        return _get(conn, name)


def set_key(
    db: Engine,
    name: str,
    *,
    key_id: str,
    issuer_id: str | None,
    key_type: str,
    encrypted_private_key: bytes,
    healthy: bool,
    capabilities: Mapping[str, bool | None] | None = None,
    accepted: bool = True,
    api_url: str | None = None,
    move: bool = False,
    now: datetime | None = None,
) -> ConnectionRecord:
    """Replace a connection's key in place (same id, so its mirror and history stay).

    The key replaced is kept as the *previous* key until the new one's first
    successful sync (:func:`~asc_access.store.rotation.confirm_rotation`); if Apple
    refuses the new key there or it sees another team,
    :func:`~asc_access.store.rotation.restore_previous_key` brings it back. When
    an earlier rotation is still unconfirmed, its previous key (the last one known
    to work) is the one kept. ``move`` marks an explicit move to another team or URL.
    """
    moment = utc_or_now(now)
    values: dict[str, Any] = {
        "key_id": key_id,
        "issuer_id": issuer_id,
        "key_type": key_type,
        "encrypted_private_key": encrypted_private_key,
        "healthy": healthy,
        "health_code": None,
        "health_cause": None,
        "health_checked_at": moment,
        "updated_at": moment,
        "capabilities": dict(capabilities) if capabilities is not None else None,
        "last_ok_at": moment if accepted else None,
    }
    if api_url is not None:
        values["api_url"] = api_url
    with db.begin() as conn:
        current = _get(conn, name)
        if not current.rotation_pending and current.encrypted_private_key:
            values.update(as_previous(current))
        values["rotation_move"] = move or (current.rotation_pending and current.rotation_move)
        conn.execute(update(connections).where(connections.c.id == current.id).values(**values))
        record = _get(conn, name)
    checkpoint_wal(db)  # the old key's page images leave the write-ahead log now
    return record


def delete_connection(db: Engine, name: str) -> ConnectionRecord:
    """Delete a connection and everything mirrored for it; the key material goes with the row.

    The encrypted key is overwritten first, so it is gone even where the
    database keeps deleted pages around until a vacuum. On SQLite the
    write-ahead log, which still holds earlier page images with the key, is
    then checkpointed and truncated (best effort: a reader holding an old
    snapshot delays it to a later checkpoint).
    """
    with db.begin() as conn:
        record = _get(conn, name)
        conn.execute(
            update(connections)
            .where(connections.c.id == record.id)
            .values(encrypted_private_key=b"\x00" * len(record.encrypted_private_key or b""))
        )
        conn.execute(delete(connections).where(connections.c.id == record.id))
    checkpoint_wal(db)
    return record
