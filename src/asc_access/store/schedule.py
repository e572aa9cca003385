"""Which connections are due for a scheduled sync: one query, one rule.

Both schedulers ask here, the service's in-process one and the workers' one
(``asc-access scheduler``). A connection is *due* at ``now`` when

- its ``sync_interval_seconds`` is above 0 (0 turns scheduling off for it),
- it holds a key (a connection without one cannot sync), and
- it never ran, or its last run started at least one interval before ``now``.

``due_epoch`` names the due slot: the last run's start (whole seconds since the
epoch) plus the interval, or 0 for a first sync. Whoever computes it from the
same state agrees on it, so it makes a deterministic request key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from asc_access.store import schema
from asc_access.store.connections import connection_record
from asc_access.store.handle import Database
from asc_access.store.refs import ConnectionRef, ref_of
from asc_access.store.timeutil import as_utc

__all__ = ["DueSync", "due_syncs"]


@dataclass(frozen=True, slots=True)
class DueSync:
    """A connection whose scheduled sync is due, and the slot it is due for."""

    ref: ConnectionRef
    interval: int
    due_epoch: int

    @property
    def connection(self) -> str:
        """The connection's name."""
        return self.ref.name

    @property
    def connection_id(self) -> int:
        """The connection's store id."""
        return self.ref.id

    @property
    def request_key(self) -> str:
        """The trigger's deterministic request key, ``schedule:<id>:<due epoch>``."""
        return f"schedule:{self.ref.id}:{self.due_epoch}"


def due_syncs(db: Database, now: datetime) -> list[DueSync]:
    """The connections due for a scheduled sync at ``now`` (aware), by name."""
    c, r = schema.connections.c, schema.sync_runs.c
    last = (
        select(r.connection_id, func.max(r.started_at).label("last_started"))
        .group_by(r.connection_id)
        .subquery()
    )
    query = (
        select(schema.connections, last.c.last_started)
        .select_from(schema.connections.outerjoin(last, last.c.connection_id == c.id))
        .where(c.encrypted_private_key.is_not(None), c.sync_interval_seconds > 0)
        .order_by(c.name)
    )
    with db.connect() as conn:
        rows = conn.execute(query).all()
    due: list[DueSync] = []
    for row in rows:
        interval = int(row.sync_interval_seconds)
        if row.last_started is None:
            due.append(DueSync(ref_of(connection_record(row)), interval, 0))
            continue
        started = as_utc(row.last_started)
        if started + timedelta(seconds=interval) <= now:
            due.append(
                DueSync(
                    ref_of(connection_record(row)), interval, int(started.timestamp()) + interval
                )
            )
    return due
