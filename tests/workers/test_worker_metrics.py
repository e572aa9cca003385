"""Syncs run by real worker processes show up in the service's ``GET /metrics``.

Workers and service share ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multiprocess mode, docs/deploy.md): each worker process writes its samples there
and the service's scrape sums them.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from _support.sandbox import RunningSandbox
from asc_access.config import Settings
from asc_access.queue.config import WorkerConfig
from asc_access.service.app import create_app as create_service
from asc_access.store.db import open_engine
from asc_access.workers.celery_app import create_app
from workers._cluster import WorkerProcess, subprocess_env, wait_for_workers
from workers._helpers import connect_sandbox_key

TOKEN = "worker-metrics-admin-token-" + "x" * 16


def _count(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def test_a_worker_sync_is_counted_in_the_service_scrape(
    worker_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    prom = tmp_path / "prom"
    prom.mkdir()
    team = sandbox_factory()
    env = worker_env | {
        "ASC_ACCESS_ALLOWED_API_URLS": team.base_url,  # the service calls only listed origins
        "ASC_ACCESS_HOME": str(tmp_path / "home"),
        "ASC_ACCESS_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "ASC_ACCESS_API_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(prom),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env(env)
    engine = open_engine(settings)
    key = team.keys["admin"]
    connect_sandbox_key(engine, settings, "acme", team, key)
    celery = create_app(WorkerConfig.from_env(env))
    worker = WorkerProcess(subprocess_env(env), tmp_path / "worker.log", concurrency=1)
    try:
        wait_for_workers(celery, [worker])
        app = create_service(settings, engine=engine, scheduler=False)

        async def drive() -> tuple[str, str]:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            transport = httpx.ASGITransport(app=app)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://svc") as client,
            ):
                before = (await client.get("/metrics", headers=headers)).text
                started = await client.post("/api/v1/connections/acme/sync", headers=headers)
                assert started.status_code == 202, started.text
                for _ in range(300):
                    runs = await client.get("/api/v1/sync/runs?connection=acme", headers=headers)
                    items = runs.json()["items"]
                    if items and items[0]["status"] != "running":
                        break
                    await asyncio.sleep(0.1)
                assert items[0]["status"] == "succeeded", worker.log_tail()
                after = await client.get("/metrics", headers=headers)
                assert after.status_code == 200, after.text
                return before, after.text

        before, after = asyncio.run(drive())
        ok = {"outcome": "succeeded", "code": "none"}
        assert _count(after, "asc_access_syncs_total", **ok) == (
            _count(before, "asc_access_syncs_total", **ok) + 1
        ), worker.log_tail()
        assert _count(after, "asc_access_apple_requests_total", key_id=key.key_id) >= 1
        assert _count(after, "asc_access_rate_budget_remaining", key_id=key.key_id) > 0
    finally:
        worker.stop()
        celery.pool.force_close_all()
        engine.dispose()
