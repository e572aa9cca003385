"""Writing a new picture of a connection: only the rows that changed.

New rows are inserted, changed rows updated, rows that went away deleted, all
in batches (``executemany``); a team that did not change costs no writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from asc_access.store import schema
from asc_access.store.bulk import insert_values
from asc_access.store.snapshot import (
    MirrorApp,
    MirrorInvitation,
    MirrorPerson,
    MirrorUser,
    Snapshot,
    mirror_row,
    row_names,
    row_values,
)
from asc_access.store.timeutil import as_utc

__all__ = ["record_digest", "write_snapshot"]


class _Writer:
    """Batches the inserts, updates and deletes of one table family."""

    def __init__(self, conn: Connection, connection_id: int, now: datetime) -> None:
        self.conn = conn
        self.connection_id = connection_id
        self.now = as_utc(now)
        self.rows = 0

    def insert(self, table: Any, names: tuple[str, ...], values: list[tuple[Any, ...]]) -> None:
        """Insert ``values`` (each in the order of ``names``) as rows of this connection."""
        if values:
            cid = self.connection_id
            lines = ((cid, *value) for value in values)
            self.rows += insert_values(self.conn, table, ("connection_id", *names), lines)

    def update(self, table: Any, key: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            values: dict[str, Any] = {
                name: bindparam(f"v_{name}") for name in rows[0] if name != "_key"
            }
            stmt = (
                table.update()
                .where(
                    and_(
                        table.c.connection_id == self.connection_id,
                        table.c[key] == bindparam("_key"),
                    )
                )
                .values(values)
            )
            params = [
                {"_key": row["_key"], **{f"v_{k}": v for k, v in row.items() if k != "_key"}}
                for row in rows
            ]
            self.conn.execute(stmt, params)
            self.rows += len(rows)

    def delete(self, table: Any, keys: dict[str, str], rows: list[dict[str, Any]]) -> None:
        """Delete ``rows``; ``keys`` maps column names to the row dict's keys."""
        if rows:
            conditions = [table.c.connection_id == self.connection_id]
            conditions += [table.c[col] == bindparam(f"k_{col}") for col in keys]
            params = [{f"k_{col}": row[field] for col, field in keys.items()} for row in rows]
            self.conn.execute(table.delete().where(and_(*conditions)), params)
            self.rows += len(rows)


def write_snapshot(
    conn: Connection, connection_id: int, old: Snapshot, new: Snapshot, *, now: datetime
) -> int:
    """Make the stored mirror equal ``new`` (stored now: ``old``); returns rows written.

    Writing any row moves the connection's ``mirror_generation`` on.
    """
    w = _Writer(conn, connection_id, now)
    _write_family(
        w,
        old.users,
        new.users,
        MirrorUser,
        schema.users,
        "user_id",
        schema.user_apps,
    )
    _write_family(
        w,
        old.invitations,
        new.invitations,
        MirrorInvitation,
        schema.invitations,
        "invitation_id",
        schema.invitation_apps,
    )
    inserts = [(k, *row_values(v)) for k, v in new.apps.items() if k not in old.apps]
    updates = [
        {"_key": k, **mirror_row(v)}
        for k, v in new.apps.items()
        if k in old.apps and old.apps[k] != v
    ]
    gone = [{"id": k} for k in old.apps if k not in new.apps]
    w.insert(schema.apps, ("app_id", *row_names(MirrorApp)), inserts)
    w.update(schema.apps, "app_id", updates)
    w.delete(schema.apps, {"app_id": "id"}, gone)
    if w.rows:  # the picture changed: a copy read before this is out of date
        _next_generation(conn, connection_id)
    return w.rows


def _next_generation(conn: Connection, connection_id: int) -> None:
    """Move the connection's ``mirror_state.generation`` on (from 0 when it has no row).

    The stored digest is cleared with it: only the sync that wrote the picture knows it.
    """
    column = schema.mirror_state.c.generation
    _upsert_state(
        conn,
        connection_id,
        first={"generation": 1, "digest": None},
        then={"generation": column + 1, "digest": None},
    )


def record_digest(conn: Connection, connection_id: int, digest: str) -> None:
    """Note ``digest`` as the stored picture's (the caller wrote or compared all of it)."""
    _upsert_state(
        conn, connection_id, first={"generation": 0, "digest": digest}, then={"digest": digest}
    )


def _upsert_state(
    conn: Connection, connection_id: int, *, first: dict[str, Any], then: dict[str, Any]
) -> None:
    """The connection's ``mirror_state`` row: inserted as ``first``, else updated with ``then``."""
    table = schema.mirror_state
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(connection_id=connection_id, **first)
    conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.connection_id], set_=then))


def _write_family(
    w: _Writer,
    old: Mapping[str, MirrorPerson],
    new: Mapping[str, MirrorPerson],
    kind: type[MirrorPerson],
    table: Any,
    key: str,
    app_table: Any,
) -> None:
    inserts: list[tuple[Any, ...]] = []
    updates: list[dict[str, Any]] = []
    gone: list[dict[str, Any]] = []
    grant: list[tuple[str, str]] = []
    revoke: list[dict[str, Any]] = []
    now = w.now
    for ident, item in new.items():
        before = old.get(ident)
        if before is None:
            inserts.append((ident, now, *row_values(item)))
            grant.extend((ident, a) for a in sorted(item.app_ids))
            continue
        if before.row_differs(item):
            updates.append({"_key": ident, **mirror_row(item)})
        if before.app_ids != item.app_ids:
            grant.extend((ident, a) for a in sorted(item.app_ids - before.app_ids))
            revoke.extend({"id": ident, "app": a} for a in sorted(before.app_ids - item.app_ids))
    for ident, before in old.items():
        if ident not in new:
            gone.append({"id": ident})
            revoke.extend({"id": ident, "app": a} for a in sorted(before.app_ids))
    w.delete(app_table, {key: "id", "app_id": "app"}, revoke)
    w.delete(table, {key: "id"}, gone)
    w.insert(table, (key, "first_seen_at", *row_names(kind)), inserts)
    w.update(table, key, updates)
    w.insert(app_table, (key, "app_id"), grant)
