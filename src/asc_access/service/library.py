"""The one place the service reaches into the rest of the library.

Every route and page goes through these functions, so the service stays a thin
shell: the store, connections, diagnosis, sync and actions modules do the work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from asc_access.config import Settings
from asc_access.errors import SyncError
from asc_access.service.scheduler import DueConnections
from asc_access.service.syncing import SyncRunner
from asc_access.store import schema
from asc_access.store.db import open_engine
from asc_access.store.timeutil import as_utc

__all__ = ["due_connections", "open_store", "sync_runner"]


def open_store(settings: Settings) -> Engine:
    """The store for ``settings`` (home created, schema current)."""
    return open_engine(settings)


def sync_runner(engine: Engine, settings: Settings, client_kwargs: dict[str, Any]) -> SyncRunner:
    """How the service runs one sync of a named connection."""

    del engine, settings, client_kwargs

    async def run(name: str, request_key: str) -> object:
        del request_key
        raise SyncError(f"cannot sync {name!r}: the sync engine is not available yet")

    return run


def due_connections(engine: Engine) -> DueConnections:
    """Which connections' next scheduled sync is due: interval passed since their last run."""
    c, r = schema.connections.c, schema.sync_runs.c

    def due(now: datetime) -> list[str]:
        last = (
            select(r.connection_id, func.max(r.started_at).label("last"))
            .group_by(r.connection_id)
            .subquery()
        )
        query = (
            select(c.name, c.sync_interval_seconds, last.c.last)
            .select_from(schema.connections.outerjoin(last, last.c.connection_id == c.id))
            .where(c.encrypted_private_key.is_not(None))
            .order_by(c.name)
        )
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        names = []
        for name, interval, last_started in rows:
            if interval is None or interval <= 0:
                continue  # 0 turns scheduling off for that connection
            if last_started is None or as_utc(last_started) + timedelta(seconds=interval) <= now:
                names.append(str(name))
        return names

    return due


Clock = Callable[[], datetime]
