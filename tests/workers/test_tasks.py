"""The sync task's idempotency and locking, in-process, against real Redis and PostgreSQL.

The runner here stands in for the sync engine with the same run bookkeeping
(open a ``running`` row under the request key, close it at the end); the real
sync through real Celery workers is exercised in ``test_celery_e2e.py``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from asc_access.config import Settings
from asc_access.errors import SecretStoreError, ServerError
from asc_access.queue.config import WorkerConfig
from asc_access.store import runs
from asc_access.store.db import open_engine
from asc_access.workers.budget import RedisRateBudget
from asc_access.workers.tasks import ConnectionRef, WorkerContext, run_sync_task
from workers._helpers import add_connection, run_rows


@dataclass
class FakeSync:
    """Records its run like the sync engine does; can be slowed down or made to fail."""

    seconds: float = 0.0
    fail_before_run: Exception | None = None
    fail_during_run: Exception | None = None
    calls: list[str] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)

    async def __call__(
        self,
        engine: Engine,
        settings: Settings,
        connection: ConnectionRef,
        request_key: str,
        budget: RedisRateBudget,
    ) -> object:
        self.calls.append(request_key)
        if self.fail_before_run is not None:
            raise self.fail_before_run
        now = datetime.now(UTC)
        run_id = runs.start_run(engine, connection.id, started_at=now, request_key=request_key)
        self.started.set()
        await asyncio.sleep(self.seconds)
        if self.fail_during_run is not None:
            error = self.fail_during_run
            runs.fail_run(
                engine,
                run_id,
                finished_at=datetime.now(UTC),
                code=getattr(error, "code", None),
                cause=getattr(error, "cause", None),
                message=str(error),
                stats=runs.RunStats(),
            )
            raise error
        with engine.begin() as conn:
            runs.finish_run(conn, run_id, finished_at=datetime.now(UTC), stats=runs.RunStats())
        return run_id


@pytest.fixture
def engine(worker_env: dict[str, str]) -> Iterator[Engine]:
    settings = Settings.from_env(worker_env | {"ASC_ACCESS_HOME": "/nonexistent"})
    engine = open_engine(settings)
    yield engine
    engine.dispose()


def _context(worker_env: dict[str, str], engine: Engine, runner: FakeSync) -> WorkerContext:
    settings = Settings.from_env(worker_env | {"ASC_ACCESS_HOME": "/nonexistent"})
    return WorkerContext(
        settings=settings,
        config=WorkerConfig.from_env(worker_env),
        runner=runner,
        _engine=engine,
    )


def test_a_second_delivery_returns_the_first_run(
    worker_env: dict[str, str], engine: Engine
) -> None:
    conn_id = add_connection(engine, "acme")
    runner = FakeSync()
    ctx = _context(worker_env, engine, runner)
    first = run_sync_task(ctx, conn_id, "req-1")
    again = run_sync_task(ctx, "acme", "req-1")
    assert first["status"] == "succeeded"
    assert again["status"] == "succeeded"
    assert again["duplicate"] is True
    assert again["run_id"] == first["run_id"]
    assert runner.calls == ["req-1"]
    assert [row.request_key for row in run_rows(engine)] == ["req-1"]


def test_two_triggers_at_once_yield_one_run(worker_env: dict[str, str], engine: Engine) -> None:
    conn_id = add_connection(engine, "acme")
    runner = FakeSync(seconds=1.0)
    ctx = _context(worker_env, engine, runner)
    results: dict[str, dict[str, object]] = {}
    first = threading.Thread(target=lambda: results.update(a=run_sync_task(ctx, conn_id, "req-a")))
    first.start()
    assert runner.started.wait(5)
    results["b"] = run_sync_task(ctx, conn_id, "req-b")
    first.join()
    assert results["a"]["status"] == "succeeded"
    assert results["b"]["status"] == "coalesced"
    assert results["b"]["into_request_key"] == "req-a"
    assert runner.calls == ["req-a"]
    assert len(run_rows(engine)) == 1


def test_a_dead_deliverys_run_is_taken_over_once(
    worker_env: dict[str, str], engine: Engine
) -> None:
    conn_id = add_connection(engine, "acme")
    ctx = _context(worker_env, engine, FakeSync())
    # What a worker killed mid-sync leaves: a running row under the key, and a lock
    # that nobody renews any more.
    stale_id = runs.start_run(engine, conn_id, started_at=datetime.now(UTC), request_key="req-1")
    assert ctx.lock_for(conn_id).try_acquire("req-1") is not None
    result = run_sync_task(ctx, conn_id, "req-1")  # waits for the lock to expire (3 s)
    assert result["status"] == "succeeded"
    rows = run_rows(engine)
    assert [(row.request_key, row.status) for row in rows] == [("req-1", "succeeded")]
    assert rows[0].id != stale_id


def test_a_failure_before_the_run_is_recorded(worker_env: dict[str, str], engine: Engine) -> None:
    conn_id = add_connection(engine, "acme")
    error = SecretStoreError("the stored key cannot be decrypted", cause="master_key_wrong")
    ctx = _context(worker_env, engine, FakeSync(fail_before_run=error))
    result = run_sync_task(ctx, conn_id, "req-1")
    assert result["status"] == "failed"
    assert result["cause"] == "master_key_wrong"
    assert [(row.status, row.error_cause) for row in run_rows(engine)] == [
        ("failed", "master_key_wrong")
    ]


def test_a_failed_sync_is_recorded_once(worker_env: dict[str, str], engine: Engine) -> None:
    conn_id = add_connection(engine, "acme")
    ctx = _context(worker_env, engine, FakeSync(fail_during_run=ServerError("boom")))
    result = run_sync_task(ctx, conn_id, "req-1")
    assert (result["status"], result["code"]) == ("failed", "APP-105")
    assert run_sync_task(ctx, conn_id, "req-1")["duplicate"] is True
    assert len(run_rows(engine)) == 1


def test_a_lost_lock_cancels_the_sync(worker_env: dict[str, str], engine: Engine) -> None:
    conn_id = add_connection(engine, "acme")
    runner = FakeSync(seconds=10.0)
    ctx = _context(worker_env, engine, runner)
    stealer = threading.Timer(0.5, lambda: ctx.redis.delete(ctx.lock_for(conn_id).name))
    stealer.start()
    result = run_sync_task(ctx, conn_id, "req-1")
    stealer.join()
    assert result["status"] == "lock_lost"


def test_a_scheduled_trigger_skips_a_connection_that_just_ran(
    worker_env: dict[str, str], engine: Engine
) -> None:
    conn_id = add_connection(engine, "acme", interval=600)
    runner = FakeSync()
    ctx = _context(worker_env, engine, runner)
    run_sync_task(ctx, conn_id, "manual:1")
    result = run_sync_task(ctx, conn_id, "schedule:1:0", schedule_interval=600)
    assert result["status"] == "skipped"
    assert runner.calls == ["manual:1"]


def test_a_removed_connection_is_reported_not_retried(
    worker_env: dict[str, str], engine: Engine
) -> None:
    ctx = _context(worker_env, engine, FakeSync())
    assert run_sync_task(ctx, 999, "req-1")["status"] == "missing"
