"""Governance over the service's REST API: violations, a policy check, a campaign end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _support.service import ADMIN_TOKEN, allowing, lifespan
from actions.helpers import demo
from asc_access.config import Settings
from asc_access.governance.evidence import verify_csv
from asc_access.service import create_app
from governance.support import connect, sync

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def home(sandbox: Any, _isolated_env: Path) -> Path:
    """A connected, synced demo team and a policy file (the CLI runs outside any event loop)."""
    connect("acme", sandbox)
    assert sync("acme").exit_code == 0
    (_isolated_env / "policies.yaml").write_text(
        "policies:\n  - id: one-admin\n    kind: max_admins\n    max: 1\n"
    )
    return _isolated_env


@pytest.fixture
async def api(home: Path, sandbox: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.from_env(
        allowing(
            {"ASC_ACCESS_HOME": str(home), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN},
            sandbox.base_url,
        )
    )
    app = create_app(settings, scheduler=False)
    transport = httpx.ASGITransport(app=app)
    async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="https://t") as c:
        yield c
    app.state.ctx.engine.dispose()


async def test_violations_and_a_campaign_over_the_api(api: httpx.AsyncClient) -> None:
    checked = await api.post("/api/v1/policies/check", headers=AUTH)
    assert checked.status_code == 200, checked.text
    (violation,) = checked.json()["violations"]
    assert violation["policy"] == "one-admin"
    listed = (await api.get("/api/v1/violations", headers=AUTH)).json()["violations"]
    assert [v["id"] for v in listed] == [violation["id"]]
    assert (await api.get("/api/v1/violations")).status_code == 401

    started = await api.post(
        "/api/v1/campaigns", headers=AUTH, json={"name": "API review", "due": "2026-12-31"}
    )
    assert started.status_code == 201, started.text
    campaign = started.json()["id"]
    body = {"decision": "revoke", "connection": "acme", "email": demo("noah"), "comment": "left"}
    decided = await api.post(f"/api/v1/campaigns/{campaign}/decisions", headers=AUTH, json=body)
    assert decided.json()["decided"] == 1
    bulk = await api.post(
        f"/api/v1/campaigns/{campaign}/decisions",
        headers=AUTH,
        json={"decision": "keep", "undecided": True},
    )
    assert bulk.json()["decided"] == 13
    closed = await api.post(f"/api/v1/campaigns/{campaign}/close", headers=AUTH)
    assert closed.status_code == 200, closed.text
    assert closed.json()["outcomes"] == {"done": 1, "kept": 13}
    shown = (await api.get(f"/api/v1/campaigns/{campaign}", headers=AUTH)).json()
    noah = next(i for i in shown["items"] if i["email"] == demo("noah"))
    assert noah["decided_by"] == "token:admin"
    assert noah["after"] is None
    late = await api.post(f"/api/v1/campaigns/{campaign}/decisions", headers=AUTH, json=body)
    assert late.status_code == 400  # a usage error: decisions are frozen after close
    assert "closed" in late.json()["message"]
    report = await api.get(f"/api/v1/campaigns/{campaign}/report?format=csv", headers=AUTH)
    assert verify_csv(report.text)
    assert report.text.rstrip().endswith(report.headers["X-Content-Digest"])
    pdf = await api.get(f"/api/v1/campaigns/{campaign}/report?format=pdf", headers=AUTH)
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["X-Content-Digest"] == report.headers["X-Content-Digest"]


@pytest.fixture
async def fresh_api(sandbox: Any, _isolated_env: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A connected team never synced, a policy file, and the service over them."""
    await asyncio.to_thread(connect, "acme", sandbox)  # the CLI runs its own event loop
    (_isolated_env / "policies.yaml").write_text(
        "policies:\n  - id: one-admin\n    kind: max_admins\n    max: 1\n"
    )
    env = {"ASC_ACCESS_HOME": str(_isolated_env), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN}
    app = create_app(Settings.from_env(allowing(env, sandbox.base_url)), scheduler=False)
    transport = httpx.ASGITransport(app=app)
    async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="https://t") as c:
        yield c
    app.state.ctx.engine.dispose()


async def test_a_sync_started_by_the_service_evaluates_the_policies(
    fresh_api: httpx.AsyncClient,
) -> None:
    assert (await fresh_api.get("/api/v1/violations", headers=AUTH)).json()["violations"] == []
    started = await fresh_api.post("/api/v1/connections/acme/sync", headers=AUTH)
    assert started.status_code == 202, started.text
    run_url = started.json()["run_url"]
    for _ in range(200):
        run = (await fresh_api.get(run_url, headers=AUTH)).json()
        if run["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert run["status"] == "succeeded"
    for _ in range(100):  # the hook runs right after the sync, in a thread
        found = (await fresh_api.get("/api/v1/violations", headers=AUTH)).json()["violations"]
        if found:
            break
        await asyncio.sleep(0.05)
    assert [(v["policy"], v["connection"]) for v in found] == [("one-admin", "acme")]
