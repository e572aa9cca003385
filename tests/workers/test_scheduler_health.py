"""The scheduler's due computation and de-duplication, and the health report's pieces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import Engine

from asc_access.config import Settings
from asc_access.queue.config import WorkerConfig
from asc_access.queue.health import connection_health, queue_depth, worker_health
from asc_access.queue.scheduler import Scheduler, due_syncs
from asc_access.store import runs
from asc_access.store.db import open_engine
from asc_access.workers.celery_app import create_app
from workers._helpers import add_connection

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(worker_env: dict[str, str]) -> Iterator[Engine]:
    engine = open_engine(Settings.from_env(worker_env | {"ASC_ACCESS_HOME": "/nonexistent"}))
    yield engine
    engine.dispose()


def _run(engine: Engine, conn_id: int, started: datetime, status: str, key: str) -> int:
    run_id = runs.start_run(engine, conn_id, started_at=started, request_key=key)
    if status == "succeeded":
        with engine.begin() as conn:
            runs.finish_run(conn, run_id, finished_at=started, stats=runs.RunStats())
    elif status == "failed":
        runs.fail_run(
            engine,
            run_id,
            finished_at=started + timedelta(seconds=5),
            code="APP-104",
            cause="rate_limited",
            message="stopped before the reserve",
            stats=runs.RunStats(),
        )
    return run_id


def test_due_syncs_follow_each_connections_interval(engine: Engine) -> None:
    never = add_connection(engine, "never-synced", interval=600)
    fresh = add_connection(engine, "fresh", interval=600)
    stale = add_connection(engine, "stale", interval=600)
    add_connection(engine, "switched-off", interval=0)
    _run(engine, fresh, NOW - timedelta(seconds=599), "succeeded", "k1")
    started = NOW - timedelta(seconds=601)
    _run(engine, stale, started, "failed", "k2")
    due = {d.connection: d for d in due_syncs(engine, NOW)}
    assert set(due) == {"never-synced", "stale"}
    assert due["never-synced"].request_key == f"schedule:{never}:0"
    # The key names the due slot: whoever computes it from the same state agrees.
    assert due["stale"].request_key == f"schedule:{stale}:{int(started.timestamp()) + 600}"
    later = {d.connection: d for d in due_syncs(engine, NOW + timedelta(seconds=5))}
    assert later["stale"].request_key == due["stale"].request_key
    assert later["fresh"].request_key == f"schedule:{fresh}:{int(NOW.timestamp()) + 1}"


def test_scheduler_queues_each_due_sync_once(
    engine: Engine, worker_env: dict[str, str], redis_client: Redis[Any]
) -> None:
    config = WorkerConfig.from_env(worker_env)
    app = create_app(config)
    first = add_connection(engine, "a", interval=600)
    busy = add_connection(engine, "b", interval=600)
    redis_client.set(config.key("lock", "connection", busy), "someone|x", px=10_000)
    one = Scheduler(app, engine, redis_client, config, clock=lambda: NOW)
    two = Scheduler(app, engine, redis_client, config, clock=lambda: NOW)  # a second process
    sent = one.tick_once()
    assert [s.connection_id for s in sent] == [first]  # b's sync is running: not queued
    assert two.tick_once() == []
    assert one.tick_once() == []
    assert queue_depth(redis_client, config) == {"name": config.queue, "depth": 1, "unacked": 0}
    app.pool.force_close_all()


def test_connection_health_shows_last_success_and_last_error(engine: Engine) -> None:
    acme = add_connection(engine, "acme")
    add_connection(engine, "idle")
    ok_id = _run(engine, acme, NOW - timedelta(hours=2), "succeeded", "k1")
    bad_id = _run(engine, acme, NOW - timedelta(hours=1), "failed", "k2")
    running_id = _run(engine, acme, NOW, "running", "k3")
    health = {c["name"]: c for c in connection_health(engine)}
    acme_health = health["acme"]
    assert acme_health["running"] is True
    assert acme_health["last_run"]["run_id"] == running_id
    assert acme_health["last_success"]["run_id"] == ok_id
    assert acme_health["last_error"] == {
        "at": (NOW - timedelta(hours=1) + timedelta(seconds=5)).isoformat(),
        "run_id": bad_id,
        "code": "APP-104",
        "cause": "rate_limited",
        "message": "stopped before the reserve",
    }
    assert health["idle"]["last_run"] is None
    assert health["idle"]["last_success"] is None
    assert health["idle"]["last_error"] is None


def test_no_worker_answers_when_none_runs(worker_env: dict[str, str]) -> None:
    app = create_app(WorkerConfig.from_env(worker_env))
    assert worker_health(app, timeout=0.3) == []
    app.pool.force_close_all()
