"""The one place the service reaches into the rest of the library.

Every route and page goes through these functions, so the service stays a thin
shell: the store, connections, diagnosis, sync and actions modules do the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asc_access import runtime
from asc_access.actions import Team
from asc_access.actions.locking import TeamLock
from asc_access.api import PacingBudget
from asc_access.config import Settings
from asc_access.service.explain import explain_cause as _explain_cause
from asc_access.service.scheduler import DueConnections
from asc_access.service.syncing import SyncRunner
from asc_access.store import connections
from asc_access.store.handle import Database
from asc_access.store.refs import ConnectionRef, resolve_ref
from asc_access.store.schedule import due_syncs
from asc_access.syncs import request_syncs, sync_connection
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


def open_store(settings: Settings) -> Database:
    """The store for ``settings`` (home created, schema current)."""
    return runtime.open_store(settings)


def sync_runner(
    engine: Database,
    settings: Settings,
    client_kwargs: dict[str, Any],
    policy: UrlPolicy | None = None,
) -> SyncRunner:
    """How the service runs one sync of a named connection (the sync records its run).

    The connection is resolved once; :func:`asc_access.syncs.request_syncs` decides
    where it runs (the workers with a broker, else here under the team lock). A
    connection whose stored URL the ``policy`` refuses (saved before the rule, or by
    the CLI) is not synced: nothing is sent there.
    """
    allowed = policy or UrlPolicy.from_settings(settings)

    kwargs = dict(client_kwargs)
    # One budget for every sync of this process: syncs sharing a key are admitted together.
    budget = kwargs.pop("budget", None) or PacingBudget()

    async def here(ref: ConnectionRef, request_key: str) -> object:
        return await sync_connection(
            engine,
            settings,
            ref,
            request_key=request_key,
            budget=budget,
            lock=runtime.team_lock(settings),  # a sync never interleaves with an action step
            progress_interval=0.5,
            client_kwargs=kwargs,
        )

    async def run(name: str, request_key: str) -> object:
        ref = resolve_ref(engine, name)
        await asyncio.to_thread(allowed.check, ref.api_url)
        requested = await request_syncs(
            engine,
            settings,
            [ref],
            lambda r: here(r, request_key),
            wait=True,
            request_key=request_key,
        )
        return (requested.queued or requested.ran)[0]

    return run


def team_lock(settings: Settings) -> TeamLock:
    """The per-team lock action steps run under (in-process, or Redis with a broker)."""
    return runtime.team_lock(settings)


def worker_status(engine: Database, settings: Settings) -> dict[str, Any]:
    """The workers' view (pings, queue depth, per-connection last success / error).

    Without a broker everything runs inside this process: say so.
    """
    if not settings.broker_url:
        return {"mode": "in-process", "broker": None, "ok": True}
    # lazy: the [workers] extra (Celery, Redis): only a service with a broker needs it
    from asc_access.queue.health import status_for_settings

    report = status_for_settings(settings, engine)
    return {"mode": "workers", **report}


def due_connections(engine: Database, policy: UrlPolicy | None = None) -> DueConnections:
    """Which connections' next scheduled sync is due (the store's one rule, shared with
    the workers' scheduler: :mod:`asc_access.store.schedule`).

    Connections at a URL the ``policy`` does not list are never due.
    """

    def due(now: datetime) -> list[str]:
        return [
            d.ref.name
            for d in due_syncs(engine, now)
            if policy is None or policy.listed(d.ref.api_url)
        ]

    return due


def connection_id(engine: Database, name: str) -> int:
    """The store id of the connection ``name``; :class:`NotFoundLocallyError` if unknown."""
    return connections.get_connection(engine, name).id


def explain_cause(code: str | None, cause: str | None, **facts: object) -> dict[str, Any] | None:
    """Title and numbered fix steps for a recorded ``code``/``cause`` (``None`` if neither)."""
    explanation = _explain_cause(code, cause, facts)
    return explanation.as_dict() if explanation is not None else None


def connection_names(engine: Database) -> list[str]:
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
