"""The sync task: idempotent, one per connection at a time, safe to deliver twice.

``sync_connection_task(connection, request_key)``. The request key is the Celery
task id; the sync writes it to ``sync_runs.request_key`` (unique). Delivery is at
least once, so the task is written to be run again:

1. A run with this key that already finished → its summary, nothing new.
2. A scheduled trigger (``schedule_interval``) for a connection that ran within
   half an interval → ``skipped``.
3. The connection's Redis lock (:mod:`.lock`) is taken. Held by *another* request:
   that sync is running now, and this trigger joins it (``coalesced``, naming the
   holder's request key) rather than starting a second run. Held by *this* request
   (a redelivery while the first delivery still runs, or the lock of a dead worker
   that has not expired yet): wait for it, then go to 1 again. Held by an action
   step on that team (:mod:`.team_lock`): wait for it too.
4. Under the lock, a ``running`` row with this key can only be the remains of a
   delivery whose worker died mid-sync; the sync writes its snapshot, changes and
   the run's end in one transaction, so nothing else of it exists. The row is
   removed and the sync runs again under the same key: one run per request key.
5. The sync records its own run (succeeded or failed with code and cause). A
   failure before it could (a key that cannot be decrypted) is recorded here, so
   every task leaves a run row and ``workers status`` can show the last error.

While the sync runs, the lock is renewed; if it is ever lost, the sync is
cancelled (it leaves the previous snapshot untouched).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from redis import Redis

from asc_access.config import Settings
from asc_access.errors import AscAccessError
from asc_access.governance.check import deliver_pending
from asc_access.governance.notify import NotifySettings
from asc_access.queue.app import ALERTS_TASK, SYNC_TASK, send_alerts
from asc_access.queue.config import WorkerConfig
from asc_access.queue.lock import ConnectionLock
from asc_access.queue.logging import bind, log_context
from asc_access.queue.team_lock import ACTION_PREFIX
from asc_access.store.db import open_engine
from asc_access.store.handle import Database
from asc_access.store.refs import ConnectionRef, find_ref
from asc_access.store.task_runs import (
    finished_run,
    ran_recently,
    reclaim_stale_run,
    record_early_failure,
    run_of_request,
)
from asc_access.sync.admission import SyncDeferred
from asc_access.syncs import sync_connection
from asc_access.workers.budget import RedisRateBudget
from asc_access.workers.idempotency import run_summary, time_limit_summary

__all__ = [
    "ConnectionRef",
    "LockBusyError",
    "SyncRunner",
    "WorkerContext",
    "register_tasks",
    "run_sync_task",
]

log = logging.getLogger("asc_access.workers.tasks")

#: Runs one sync: (engine, settings, connection, request_key, budget) → anything.
SyncRunner = Callable[[Database, Settings, ConnectionRef, str, RedisRateBudget], Awaitable[object]]


class LockBusyError(Exception):
    """This request's own earlier delivery still holds the lock: try again later."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"lock still held by an earlier delivery; retry in {retry_in:.0f} s")
        self.retry_in = retry_in


async def default_runner(
    engine: Database,
    settings: Settings,
    connection: ConnectionRef,
    request_key: str,
    budget: RedisRateBudget,
) -> object:
    """The one sync (:func:`asc_access.syncs.sync_connection`), paced by the shared budget.

    The connection's lock is already held (the team lock's very key); the policies'
    alerts go out as a task of their own.
    """
    return await sync_connection(
        engine, settings, connection, request_key=request_key, budget=budget, alerts=send_alerts
    )


@dataclass
class WorkerContext:
    """What a worker process keeps between tasks: settings, engine, Redis, budget."""

    settings: Settings
    config: WorkerConfig
    runner: SyncRunner = default_runner
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _engine: Database | None = None
    _redis: Redis[Any] | None = None
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_env(cls) -> WorkerContext:
        """Settings and worker settings from the environment."""
        return cls(settings=Settings.from_env(), config=WorkerConfig.from_env())

    @property
    def engine(self) -> Database:
        """The store (opened, schema ensured, on first use in this process)."""
        with self._guard:
            if self._engine is None:
                self._engine = open_engine(self.settings)
            return self._engine

    @property
    def redis(self) -> Redis[Any]:
        """A Redis client for locks and budgets."""
        with self._guard:
            if self._redis is None:
                self._redis = Redis.from_url(self.config.broker_url)
            return self._redis

    def lock_for(self, connection_id: int) -> ConnectionLock:
        """The lock of one connection."""
        return ConnectionLock(
            self.redis,
            self.config.key("lock", "connection", connection_id),
            ttl_seconds=self.config.lock_ttl,
        )

    def budget(self) -> RedisRateBudget:
        """The shared per-key rate budget."""
        return RedisRateBudget(
            self.redis,
            key_prefix=self.config.key_prefix,
            max_in_flight=self.config.key_max_in_flight,
            reserve=self.config.key_reserve,
            window=self.config.key_window,
        )


async def _run_watched(coro: Awaitable[object], lost: threading.Event, poll: float = 0.2) -> object:
    """Run ``coro``; cancel it if the lock is lost."""
    task = asyncio.ensure_future(coro)
    while not task.done():
        await asyncio.wait({task}, timeout=poll)
        if lost.is_set() and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise LockLostError
    return task.result()


class LockLostError(Exception):
    """The connection's lock expired under a running sync (it was cancelled)."""


def _answer(ref: ConnectionRef, request_key: str, status: str, **extra: Any) -> dict[str, Any]:
    """The task's JSON answer when no run of its own was recorded."""
    return {
        "connection": ref.name,
        "connection_id": ref.id,
        "request_key": request_key,
        "status": status,
        **extra,
    }


def _acquire(ctx: WorkerContext, ref: ConnectionRef, request_key: str) -> str | dict[str, Any]:
    """The lock token, or a finished answer (coalesced / duplicate)."""
    lock = ctx.lock_for(ref.id)
    deadline = time.monotonic() + ctx.config.lock_ttl + 5
    while True:
        token = lock.try_acquire(request_key)
        if token is not None:
            return token
        holder = lock.holder()
        action_holds = holder is not None and holder.request_key.startswith(ACTION_PREFIX)
        if holder is not None and holder.request_key != request_key and not action_holds:
            log.info("sync already running; joining it", extra={"holder": holder.request_key})
            return _answer(ref, request_key, "coalesced", into_request_key=holder.request_key)
        finished = finished_run(ctx.engine, request_key)
        if finished is not None:
            return run_summary(finished, duplicate=True)
        if time.monotonic() > deadline:
            raise LockBusyError(retry_in=max(1.0, ctx.config.lock_ttl / 2))
        time.sleep(0.25)


def run_sync_task(
    ctx: WorkerContext,
    connection: str | int,
    request_key: str,
    *,
    schedule_interval: int | None = None,
) -> dict[str, Any]:
    """The body of the sync task (see the module docstring); returns a JSON summary."""
    with log_context(request_key=request_key):
        ref = find_ref(ctx.engine, connection)
        if ref is None:
            log.warning("connection no longer exists", extra={"connection_ref": connection})
            return {"connection": connection, "request_key": request_key, "status": "missing"}
        bind(connection=ref.name, connection_id=ref.id)
        answered = _answered_before(ctx, ref, request_key, schedule_interval)
        if answered is not None:
            return answered
        acquired = _acquire(ctx, ref, request_key)
        if isinstance(acquired, dict):
            return acquired
        with ctx.lock_for(ref.id).held(acquired) as lease:
            return _run_locked(ctx, ref, request_key, lease.lost)


def _answered_before(
    ctx: WorkerContext, ref: ConnectionRef, request_key: str, schedule_interval: int | None
) -> dict[str, Any] | None:
    """Steps 1 and 2: a request that already ran, or a scheduled trigger that came too soon."""
    finished = finished_run(ctx.engine, request_key)
    if finished is not None:
        log.info("request already ran; returning its run", extra={"run_id": finished.id})
        return run_summary(finished, duplicate=True)
    if schedule_interval:
        recent = ran_recently(ctx.engine, ref.id, schedule_interval, ctx.clock())
        if recent is not None and recent.request_key != request_key:
            log.info("synced recently; scheduled trigger skipped")
            return _answer(ref, request_key, "skipped", recent_run_id=recent.id)
    return None


def _run_locked(
    ctx: WorkerContext, ref: ConnectionRef, request_key: str, lost: threading.Event
) -> dict[str, Any]:
    """Steps 4 and 5, under the connection's lock: run the sync once, answer with its run."""
    finished = finished_run(ctx.engine, request_key)
    if finished is not None:
        return run_summary(finished, duplicate=True)
    stale = reclaim_stale_run(ctx.engine, request_key)
    if stale is not None:
        log.warning(
            "an earlier delivery died mid-sync; running again", extra={"stale_run_id": stale}
        )
    started = time.monotonic()
    log.info("sync started")
    try:
        sync = ctx.runner(ctx.engine, ctx.settings, ref, request_key, ctx.budget())
        asyncio.run(_run_watched(sync, lost))
    except LockLostError:
        log.error("lock lost mid-sync; sync cancelled")  # noqa: TRY400 - no traceback
        return _answer(ref, request_key, "lock_lost")
    except SyncDeferred as deferral:
        log.info("%s", deferral, extra={"retry_in": round(deferral.wait_seconds, 1)})
        return {
            **deferral.as_dict(),
            "connection_id": ref.id,
            "request_key": request_key,
            "retry_in": deferral.wait_seconds,
        }
    except AscAccessError as error:
        record_early_failure(ctx.engine, ref.id, request_key, error, ctx.clock())
    run = run_of_request(ctx.engine, request_key)
    if run is None:  # pragma: no cover - the runner must record its run
        raise RuntimeError("the sync finished without recording its run")
    bind(run_id=run.id)
    log.info(
        "sync %s",
        run.status,
        extra={
            "status": run.status,
            "code": run.error_code,
            "cause": run.error_cause,
            "requests_used": run.stats.requests_used,
            "seconds": round(time.monotonic() - started, 3),
        },
    )
    return run_summary(run)


_context: WorkerContext | None = None


def worker_context() -> WorkerContext:
    """This process's context (built from the environment on first use)."""
    global _context
    if _context is None:
        _context = WorkerContext.from_env()
    return _context


def register_tasks(app: Any) -> None:
    """Register the sync task and the alerts task on a Celery app."""

    @app.task(name=ALERTS_TASK)  # type: ignore[untyped-decorator]
    def deliver_alerts_task() -> int:
        return len(deliver_pending(worker_context().engine, NotifySettings.from_env()))

    @app.task(name=SYNC_TASK, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
    def sync_connection_task(
        self: Any,
        connection: str | int,
        request_key: str | None = None,
        schedule_interval: int | None = None,
    ) -> dict[str, Any]:
        key = request_key or self.request.id
        with log_context(task_id=self.request.id):
            try:
                result = run_sync_task(
                    worker_context(), connection, key, schedule_interval=schedule_interval
                )
            except LockBusyError as busy:
                raise self.retry(countdown=busy.retry_in) from busy
            except SoftTimeLimitExceeded:
                # The sync was interrupted and recorded its run as failed.
                log.warning("sync interrupted by the task time limit")
                result = time_limit_summary(worker_context().engine, connection, key)
            if result.get("status") == "deferred":
                # Not failed: queued again for when the key's budget has refilled.
                raise self.retry(countdown=max(1.0, float(result["retry_in"])))
            result["worker"] = self.request.hostname
            return result
