"""The one place the service reaches into the rest of the library.

Every route and page goes through these functions, so the service stays a thin
shell: the store, connections, diagnosis, sync and actions modules do the work.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select

from asc_access import runtime
from asc_access.actions import Team
from asc_access.actions.locking import TeamLock
from asc_access.api import PacingBudget
from asc_access.config import Settings
from asc_access.metrics import metered_sync
from asc_access.service.explain import explain_cause as _explain_cause
from asc_access.service.scheduler import DueConnections
from asc_access.service.syncing import SyncRunner
from asc_access.store import connections, schema
from asc_access.store.timeutil import as_utc
from asc_access.sync import sync_connection
from asc_access.sync.admission import admitted
from asc_access.urlpolicy import UrlPolicy

if TYPE_CHECKING:
    from asc_access.service.context import ServiceContext

__all__ = [
    "connection_id",
    "connection_names",
    "due_connections",
    "explain_cause",
    "open_store",
    "open_teams",
    "sync_runner",
    "team_lock",
    "worker_status",
]


def open_store(settings: Settings) -> Engine:
    """The store for ``settings`` (home created, schema current)."""
    return runtime.open_store(settings)


def sync_runner(
    engine: Engine,
    settings: Settings,
    client_kwargs: dict[str, Any],
    policy: UrlPolicy | None = None,
) -> SyncRunner:
    """How the service runs one sync of a named connection (the sync records its run).

    A connection whose stored URL the ``policy`` refuses (saved before the rule,
    or by the CLI) is not synced: nothing is sent there.
    """
    allowed = policy or UrlPolicy.from_settings(settings)

    kwargs = dict(client_kwargs)
    # One budget for every sync of this process: syncs sharing a key are admitted together.
    budget = kwargs.setdefault("budget", PacingBudget())

    async def run(name: str, request_key: str) -> object:
        api_url = connections.get_connection(engine, name).api_url
        await asyncio.to_thread(allowed.check, api_url)
        if settings.broker_url:
            # Scale-out: the workers run it (with their lock and shared rate budget).
            return await asyncio.to_thread(_queued_sync, engine, settings, name, request_key)
        record = connections.get_connection(engine, name)
        with admitted(engine, record.id, name, budget, record.key_id, request_key, clock=time.time):
            client = runtime.client_for_connection(engine, settings, name, **kwargs)
            try:
                # The lock action steps on this team take: a sync never interleaves with one.
                async with client, runtime.team_lock(settings).hold(name, record.id):
                    return await metered_sync(
                        sync_connection(
                            engine,
                            client,
                            record.id,
                            request_key=request_key,
                            progress_interval=0.5,
                        )
                    )
            finally:
                from asc_access.governance.check import after_sync

                await asyncio.to_thread(after_sync, engine, settings)  # never fails the sync

    return run


def _queued_sync(engine: Engine, settings: Settings, name: str, request_key: str) -> object:
    from asc_access.workers.dispatch import enqueue_sync

    (doc,) = enqueue_sync(settings, [name], wait=True, engine=engine, request_key=request_key)
    return doc


def team_lock(settings: Settings) -> TeamLock:
    """The per-team lock action steps run under (in-process, or Redis with a broker)."""
    return runtime.team_lock(settings)


def worker_status(engine: Engine, settings: Settings) -> dict[str, Any]:
    """The workers' view (pings, queue depth, per-connection last success / error).

    Without a broker everything runs inside this process: say so.
    """
    if not settings.broker_url:
        return {"mode": "in-process", "broker": None, "ok": True}
    from asc_access.workers.health import status_for_settings

    report = status_for_settings(settings, engine)
    return {"mode": "workers", **report}


def due_connections(engine: Engine, policy: UrlPolicy | None = None) -> DueConnections:
    """Which connections' next scheduled sync is due: interval passed since their last run.

    Connections at a URL the ``policy`` does not list are never due.
    """
    c, r = schema.connections.c, schema.sync_runs.c

    def due(now: datetime) -> list[str]:
        last = (
            select(r.connection_id, func.max(r.started_at).label("last"))
            .group_by(r.connection_id)
            .subquery()
        )
        query = (
            select(c.name, c.sync_interval_seconds, last.c.last, c.api_url)
            .select_from(schema.connections.outerjoin(last, last.c.connection_id == c.id))
            .where(c.encrypted_private_key.is_not(None))
            .order_by(c.name)
        )
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        names = []
        for name, interval, last_started, api_url in rows:
            if interval is None or interval <= 0:
                continue  # 0 turns scheduling off for that connection
            if policy is not None and not policy.listed(str(api_url)):
                continue
            if last_started is None or as_utc(last_started) + timedelta(seconds=interval) <= now:
                names.append(str(name))
        return names

    return due


def connection_id(engine: Engine, name: str) -> int:
    """The store id of the connection ``name``; :class:`NotFoundLocallyError` if unknown."""
    return connections.get_connection(engine, name).id


def explain_cause(code: str | None, cause: str | None, **facts: object) -> dict[str, Any] | None:
    """Title and numbered fix steps for a recorded ``code``/``cause`` (``None`` if neither)."""
    explanation = _explain_cause(code, cause, facts)
    return explanation.as_dict() if explanation is not None else None


def connection_names(engine: Engine) -> list[str]:
    """Every connection's name, sorted."""
    return [r.name for r in connections.list_connections(engine)]


@asynccontextmanager
async def open_teams(ctx: ServiceContext, names: list[str]) -> AsyncIterator[dict[str, Team]]:
    """API clients for the named connections, as the actions' teams; closed afterwards."""
    records = [connections.get_connection(ctx.engine, name) for name in names]
    for record in records:
        await asyncio.to_thread(ctx.url_policy.check, record.api_url)
    async with AsyncExitStack() as stack:
        teams: dict[str, Team] = {}
        for record in records:
            client = runtime.client_for_connection(
                ctx.engine, ctx.settings, record.name, **ctx.client_kwargs
            )
            await stack.enter_async_context(client)
            teams[record.name] = Team(
                name=record.name, source=client, connection_id=record.id, store=ctx.engine
            )
        yield teams


Clock = Callable[[], datetime]
