"""The last-Admin rule across processes: the team lock on Redis, shared with the workers.

Two ``asc-access remove`` processes, configured with the broker (so they take the
workers' Redis lock of the connection), each remove one of the team's last two
Admins at the same moment. Every sandbox request is slowed, writes included, so
without a lock shared between the processes both read "another Admin is left"
before either delete lands. Exactly one must succeed; the other is refused by
the last-Admin rule after its fresh read inside the lock.

A sync task that finds an action step holding the lock waits for it rather than
joining it as if it were a sync.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from _support.sandbox import RunningSandbox
from asc_access.config import Settings
from asc_access.queue.config import WorkerConfig
from asc_access.queue.lock import ConnectionLock
from asc_access.queue.team_lock import ACTION_PREFIX, RedisTeamLock
from asc_access.workers.tasks import WorkerContext, run_sync_task
from workers._cluster import ASC_ACCESS

PRIYA = "priya.raman@northwindlabs.example.com"
MARCUS = "marcus.okafor@northwindlabs.example.com"


def _env(worker_env: dict[str, str], home: Path) -> dict[str, str]:
    return {**os.environ, **worker_env, "ASC_ACCESS_HOME": str(home)}


def _connect(env: dict[str, str], sandbox: RunningSandbox) -> None:
    key = sandbox.keys["admin"]
    args = ["connect", "northwind", "--key-id", key.key_id, "--issuer-id", str(key.issuer_id)]
    args += ["--private-key-file", str(key.private_key_file), "--api-url", sandbox.base_url]
    done = subprocess.run(
        [ASC_ACCESS, *args, "--json"], env=env, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode()


def _admins(sandbox: RunningSandbox) -> set[str]:
    users = httpx.get(
        f"{sandbox.base_url}/v1/users?filter[roles]=ADMIN&limit=200",
        headers=sandbox.headers("admin"),
    ).json()["data"]
    return {u["attributes"]["username"] for u in users}


def test_two_processes_removing_the_last_two_admins(
    worker_env: dict[str, str], sandbox: RunningSandbox, tmp_path: Path
) -> None:
    env = _env(worker_env, tmp_path / "home")
    _connect(env, sandbox)
    sandbox.add_fault(latency_ms=700)  # reads and writes: a wide read-check-write window
    procs = [
        subprocess.Popen(
            [ASC_ACCESS, "remove", email, "--connection", "northwind", "--yes", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for email in (PRIYA, MARCUS)
    ]
    docs: list[dict[str, Any]] = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert out, err.decode()
        docs.append(json.loads(out))
    sandbox.clear_faults()

    outcomes = sorted(d["steps"][0]["outcome"] for d in docs)
    assert outcomes == ["done", "failed"], docs
    refused = next(d for d in docs if d["steps"][0]["outcome"] == "failed")
    assert refused["steps"][0]["cause"] == "last_admin", refused
    assert len(_admins(sandbox) & {PRIYA, MARCUS}) == 1


def test_a_sync_waits_for_an_action_step_holding_the_lock(
    worker_env: dict[str, str], redis_url: str, tmp_path: Path
) -> None:
    config = WorkerConfig.from_env(worker_env)
    settings = Settings.from_env({**worker_env, "ASC_ACCESS_HOME": str(tmp_path / "home")})
    synced_at: list[float] = []

    async def runner(*_: Any) -> object:
        synced_at.append(time.monotonic())
        raise RuntimeError("stop here: only the waiting is under test")

    ctx = WorkerContext(settings=settings, config=config, runner=runner)
    from asc_access.store import connections

    ctx.engine  # noqa: B018 - open the store (schema) before adding the connection
    record = connections.add_connection(
        ctx.engine,
        name="northwind",
        key_id="ABCDEFGHIJ",
        issuer_id=None,
        key_type="individual",
        api_url="http://127.0.0.1:9",
        encrypted_private_key=b"x",
        healthy=True,
    )
    lock = RedisTeamLock(Redis.from_url(redis_url), config)
    released = threading.Event()
    held = threading.Event()
    released_at: list[float] = []

    def hold_for_a_while() -> None:
        import asyncio

        async def run() -> None:
            async with lock.hold("northwind", record.id):
                held.set()
                await asyncio.sleep(1.0)
                released_at.append(time.monotonic())
            released.set()

        asyncio.run(run())

    holder = threading.Thread(target=hold_for_a_while)
    holder.start()
    assert held.wait(10)
    raw = ConnectionLock(ctx.redis, config.key("lock", "connection", record.id), ttl_seconds=3)
    state = raw.holder()
    assert state is not None
    assert state.request_key.startswith(ACTION_PREFIX)
    try:
        result = run_sync_task(ctx, "northwind", "manual:after-the-action")
    except RuntimeError:
        result = {"status": "ran"}
    holder.join(10)
    assert result.get("status") != "coalesced", result
    assert synced_at, "the sync never ran"
    assert released_at
    assert synced_at[0] >= released_at[0]
