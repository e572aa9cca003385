"""Real Celery workers (``asc-access worker`` processes) syncing sandbox teams.

Against the machine's real Redis and PostgreSQL, each test in a key prefix and a
database schema of its own: 50 connections over several teams synced by two worker
processes with every run recorded exactly once; a worker SIGKILLed mid-sync whose
task is delivered again and completed with no duplicate runs or change events; two
triggers of one connection at once yielding one run.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from _support.sandbox import RunningSandbox
from asc_access.cli.main import app as main_app
from asc_access.config import Settings
from asc_access.queue.app import SYNC_TASK
from asc_access.queue.config import WorkerConfig
from asc_access.queue.dispatch import enqueue_sync
from asc_access.queue.health import queue_depth
from asc_access.store import schema
from asc_access.store.db import open_engine
from asc_access.workers.celery_app import create_app
from workers._cluster import WorkerProcess, subprocess_env, wait_for_workers
from workers._helpers import connect_sandbox_key, run_rows

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


class Cluster:
    """Settings, store, Celery app and worker processes of one test."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env = env
        self.tmp = tmp
        self.settings = Settings.from_env(env)
        self.config = WorkerConfig.from_env(env)
        self.engine: Engine = open_engine(self.settings)
        self.app = create_app(self.config)
        self.workers: list[WorkerProcess] = []

    def start_workers(self, count: int, *, concurrency: int = 2) -> list[WorkerProcess]:
        started = [
            WorkerProcess(
                subprocess_env(self.env),
                self.tmp / f"worker-{len(self.workers) + i}.log",
                concurrency=concurrency,
            )
            for i in range(count)
        ]
        self.workers.extend(started)
        wait_for_workers(self.app, started)
        return started

    def enqueue(
        self, names: list[str] | None, wait: bool, timeout: float = 60
    ) -> list[dict[str, Any]]:
        return enqueue_sync(
            self.settings, names, wait, timeout=timeout, engine=self.engine, config=self.config
        )

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.app.pool.force_close_all()
        self.engine.dispose()

    def logs(self) -> str:
        return "\n---\n".join(w.log_tail(60) for w in self.workers)


@pytest.fixture
def cluster_overrides() -> dict[str, str]:
    """Extra settings for a test's workers (parametrize to change)."""
    return {}


@pytest.fixture
def cluster(
    worker_env: dict[str, str], cluster_overrides: dict[str, str], tmp_path: Path
) -> Iterator[Cluster]:
    env = (
        worker_env
        | cluster_overrides
        | {
            "ASC_ACCESS_HOME": str(tmp_path / "home"),
            "ASC_ACCESS_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        }
    )
    running = Cluster(env, tmp_path)
    try:
        yield running
    finally:
        running.close()


def _change_rows(engine: Engine) -> list[Any]:
    c = schema.changes
    with engine.connect() as conn:
        return list(conn.execute(select(c).order_by(c.c.id)).all())


def test_fifty_connections_over_several_teams_two_workers_each_run_once(
    cluster: Cluster, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    teams = [sandbox_factory(latency_ms=10) for _ in range(5)]
    names: list[str] = []
    for t, team in enumerate(teams):
        keys = [team.keys["admin"], team.issue_key(role="ADMIN")]
        for i in range(10):  # five connections on each of two keys per team
            name = f"team{t}-conn{i:02d}"
            connect_sandbox_key(cluster.engine, cluster.settings, name, team, keys[i % 2])
            names.append(name)
        team.reset_stats()
    cluster.start_workers(2, concurrency=2)

    results = cluster.enqueue(None, wait=True, timeout=120)

    assert sorted(r["connection"] for r in results) == sorted(names)
    bad = [r for r in results if r["status"] != "succeeded"]
    assert bad == [], f"{bad}\n{cluster.logs()}"
    # Both worker processes took part.
    assert len({r["worker"].split("@")[0] for r in results}) == 2, cluster.logs()
    rows = run_rows(cluster.engine)
    assert len(rows) == 50
    assert sorted(row.request_key for row in rows) == sorted(r["request_key"] for r in results)
    assert {row.status for row in rows} == {"succeeded"}
    assert len({row.connection_id for row in rows}) == 50
    # What the runs say they spent is what the sandboxes served, and none was a 429.
    served = [team.stats() for team in teams]
    assert sum(s["requests"] for s in served) == sum(row.requests_used for row in rows)
    assert all("429" not in s["by_status"] for s in served)

    # The same tasks delivered again (as after a lost acknowledgement): no new runs.
    for r in results[:10]:
        cluster.app.AsyncResult(r["request_key"]).forget()  # wait for the new answers
    again = [
        cluster.app.send_task(
            SYNC_TASK, args=[r["connection_id"], r["request_key"]], task_id=r["request_key"]
        )
        for r in results[:10]
    ]
    replies = [a.get(timeout=60) for a in again]
    assert {reply["status"] for reply in replies} == {"succeeded"}
    assert all(reply["duplicate"] for reply in replies)
    assert len(run_rows(cluster.engine)) == 50


# A task delivered to a worker that vanished is delivered again after the visibility
# timeout (an hour by default; seconds here), and the dead holder's lock expires (3 s).
@pytest.mark.parametrize("cluster_overrides", [{"ASC_ACCESS_VISIBILITY_TIMEOUT": "4"}])
def test_worker_killed_mid_sync_task_redelivered_and_completed_once(
    cluster: Cluster, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    team = sandbox_factory()
    connect_sandbox_key(cluster.engine, cluster.settings, "acme", team, team.keys["admin"])
    (first,) = cluster.start_workers(1, concurrency=1)
    (baseline,) = cluster.enqueue(["acme"], wait=True, timeout=60)
    assert baseline["status"] == "succeeded", cluster.logs()
    assert _change_rows(cluster.engine) == []  # the first sync is the baseline

    # Changes made in App Store Connect meanwhile: the next sync must record each once.
    member, roles = _a_developer(team)
    team.set_roles(member, [*roles, "MARKETING"])
    team.add_fault(latency_ms=1500)  # every call slow: the sync takes several seconds
    (queued,) = cluster.enqueue(["acme"], wait=False)
    key = queued["request_key"]
    _wait_until(lambda: any(r.request_key == key for r in run_rows(cluster.engine)), 30)
    time.sleep(0.5)  # the sync is reading from the sandbox now
    first.kill()
    rows = {r.request_key: r for r in run_rows(cluster.engine)}
    assert rows[key].status == "running"  # killed mid-sync: nothing finished it
    redis = Redis.from_url(cluster.config.broker_url)
    # Delivered, never acknowledged: what `workers status` shows as "delivered".
    assert queue_depth(redis, cluster.config) == {
        "name": cluster.config.queue,
        "depth": 0,
        "unacked": 1,
    }
    redis.close()

    team.clear_faults()
    cluster.start_workers(1, concurrency=1)
    outcome = cluster.app.AsyncResult(key).get(timeout=60)
    assert outcome["status"] == "succeeded", cluster.logs()

    runs_of_key = [r for r in run_rows(cluster.engine) if r.request_key == key]
    assert len(runs_of_key) == 1
    assert runs_of_key[0].status == "succeeded"
    assert len(run_rows(cluster.engine)) == 2  # the baseline and this one
    changes = _change_rows(cluster.engine)
    assert [c.change_type for c in changes] == ["user_roles_changed"]
    assert {c.run_id for c in changes} == {runs_of_key[0].id}


def test_two_triggers_of_one_connection_at_once_yield_one_run(
    cluster: Cluster, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    team = sandbox_factory(latency_ms=400)
    connect_sandbox_key(cluster.engine, cluster.settings, "acme", team, team.keys["admin"])
    cluster.start_workers(2, concurrency=1)
    one = cluster.enqueue(["acme"], wait=False)
    two = cluster.enqueue(["acme"], wait=False)
    results = [cluster.app.AsyncResult(doc["request_key"]).get(timeout=60) for doc in (*one, *two)]
    statuses = sorted(r["status"] for r in results)
    assert statuses == ["coalesced", "succeeded"], cluster.logs()
    ran = next(r for r in results if r["status"] == "succeeded")
    joined = next(r for r in results if r["status"] == "coalesced")
    assert joined["into_request_key"] == ran["request_key"]
    assert len(run_rows(cluster.engine)) == 1

    # The command line goes through the same queue, and shows the workers' view.
    runner = CliRunner()
    synced = runner.invoke(main_app, ["sync", "acme", "--wait", "--json"], env=cluster.env)
    assert synced.exit_code == 0, synced.output
    (doc,) = json.loads(synced.stdout)["syncs"]
    assert (doc["status"], doc["connection"]) == ("succeeded", "acme")
    assert len(run_rows(cluster.engine)) == 2
    status = runner.invoke(main_app, ["workers", "status", "--json"], env=cluster.env)
    assert status.exit_code == 0, status.output
    report = json.loads(status.stdout)
    assert report["ok"] is True
    assert len(report["workers"]) == 2
    (acme,) = report["connections"]
    assert acme["last_success"]["run_id"] == doc["run_id"]
    assert acme["last_error"] is None


def _a_developer(team: RunningSandbox) -> tuple[str, list[str]]:
    """A member who is a developer and nothing that sees all apps: (id, roles)."""
    response = httpx.get(f"{team.base_url}/v1/users?limit=200", headers=team.headers())
    response.raise_for_status()
    for user in response.json()["data"]:
        roles = user["attributes"]["roles"]
        if roles == ["DEVELOPER"]:
            return user["id"], roles
    raise AssertionError("the demo team has no plain developer")


def _wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


@pytest.mark.parametrize("cluster_overrides", [{"ASC_ACCESS_SYNC_TIME_LIMIT": "2"}])
def test_a_sync_over_the_time_limit_is_interrupted_and_recorded(
    cluster: Cluster, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    team = sandbox_factory()
    connect_sandbox_key(cluster.engine, cluster.settings, "acme", team, team.keys["admin"])
    cluster.start_workers(1, concurrency=1)
    team.add_fault(latency_ms=4000)  # each call outlasts the 2 s limit
    (result,) = cluster.enqueue(["acme"], wait=True, timeout=30)
    assert result["status"] == "failed", cluster.logs()
    assert result["time_limit_exceeded"] is True
    (row,) = run_rows(cluster.engine)
    assert (row.id, row.status) == (result["run_id"], "failed")
    assert _change_rows(cluster.engine) == []
