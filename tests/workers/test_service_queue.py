"""With a broker configured, the service's sync triggers go through the workers' queue.

The run is recorded once, by a worker, under the request key the service chose,
and ``/api/v1/workers`` shows the workers' health and each connection's last result.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from _support.sandbox import RunningSandbox
from _support.service import allowing
from asc_access.config import Settings
from asc_access.queue.config import WorkerConfig
from asc_access.service.app import create_app as create_service
from asc_access.store.db import open_engine
from asc_access.workers.celery_app import create_app
from workers._cluster import WorkerProcess, subprocess_env, wait_for_workers
from workers._helpers import connect_sandbox_key, run_rows

TOKEN = "service-queue-admin-token-" + "x" * 16


@pytest.fixture
def env(
    worker_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    full = worker_env | {
        "ASC_ACCESS_HOME": str(tmp_path / "home"),
        "ASC_ACCESS_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "ASC_ACCESS_API_TOKEN": TOKEN,
    }
    # The service reads the queue settings from its own environment, as in production.
    for name, value in full.items():
        monkeypatch.setenv(name, value)
    return full


def test_service_trigger_runs_on_a_worker(
    env: dict[str, str], tmp_path: Path, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    settings = Settings.from_env(env)
    engine = open_engine(settings)
    team = sandbox_factory()
    connect_sandbox_key(engine, settings, "acme", team, team.keys["admin"])
    celery = create_app(WorkerConfig.from_env(env))
    worker = WorkerProcess(subprocess_env(env), tmp_path / "worker.log", concurrency=1)
    try:
        wait_for_workers(celery, [worker])
        allowed = Settings.from_env(allowing(env, team.base_url))
        app = create_service(allowed, engine=engine, scheduler=False)

        async def drive() -> tuple[dict[str, object], dict[str, object]]:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            transport = httpx.ASGITransport(app=app)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://svc") as client,
            ):
                started = await client.post("/api/v1/connections/acme/sync", headers=headers)
                assert started.status_code == 202, started.text
                for _ in range(300):
                    runs = await client.get("/api/v1/sync/runs?connection=acme", headers=headers)
                    items = runs.json()["items"]
                    if items and items[0]["status"] == "succeeded":
                        break
                    await asyncio.sleep(0.1)
                status = await client.get("/api/v1/workers", headers=headers)
                assert status.status_code == 200, status.text
                return items[0], status.json()

        run, status = asyncio.run(drive())
        assert run["status"] == "succeeded", worker.log_tail()
        rows = run_rows(engine)
        assert len(rows) == 1
        assert rows[0].request_key.startswith("service:")
        # A worker ran it: the task with the service's request key has its result.
        done = celery.AsyncResult(rows[0].request_key).get(timeout=30)
        assert done["status"] == "succeeded"
        assert done["run_id"] == rows[0].id
        assert status["mode"] == "workers"
        assert status["ok"] is True
        assert len(status["workers"]) == 1
        (acme,) = status["connections"]
        assert acme["last_success"]["run_id"] == rows[0].id
    finally:
        worker.stop()
        celery.pool.force_close_all()
        engine.dispose()
