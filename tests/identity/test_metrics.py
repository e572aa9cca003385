"""``GET /metrics``: scraped before and after real syncs against the sandbox, counters move."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from _support.sandbox import RunningSandbox
from _support.service import ADMIN_TOKEN
from asc_access import metrics

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _scrape(client: httpx.AsyncClient, token: str) -> dict[Any, float]:
    r = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return _samples(r.text)


async def _sync(client: httpx.AsyncClient, name: str, token: str) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/connections/{name}/sync", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 202, r.text
    url = r.json()["run_url"] or f"/api/v1/sync/runs?connection={name}"
    for _ in range(400):
        run = (await client.get(url, headers=ADMIN)).json()
        run = run["items"][0] if "items" in run else run
        if run["status"] != "running":
            return dict(run)
        await asyncio.sleep(0.05)
    raise AssertionError("the sync did not finish")


async def test_metrics_need_a_token_of_any_role(
    client: httpx.AsyncClient, role_tokens: dict[str, str]
) -> None:
    r = await client.get("/metrics")
    assert r.status_code == 401
    assert r.json()["cause"] == "token_missing"
    for role in ("viewer", "operator", "admin"):
        samples = await _scrape(client, role_tokens[role])
        assert all(name.startswith("asc_access_") for name, _ in samples if "asc_access" in name)
        assert ("asc_access_queue_depth", (("queue", "in-process"),)) in samples


async def test_a_sync_moves_the_counters(
    client: httpx.AsyncClient, role_tokens: dict[str, str], sandbox: RunningSandbox
) -> None:
    k = sandbox.keys["admin"]
    body = {
        "name": "metered",
        "key_id": k.key_id,
        "issuer_id": k.issuer_id,
        "api_url": sandbox.base_url,
        "private_key": k.private_key_pem,
    }
    assert (await client.post("/api/v1/connections", json=body, headers=ADMIN)).status_code == 201
    before = await _scrape(client, role_tokens["viewer"])

    run = await _sync(client, "metered", role_tokens["operator"])
    assert run["status"] == "succeeded", run
    after = await _scrape(client, role_tokens["viewer"])

    ok = {"outcome": "succeeded", "code": "none"}
    assert (
        _value(after, "asc_access_syncs_total", **ok)
        == _value(before, "asc_access_syncs_total", **ok) + 1
    )
    count = "asc_access_sync_duration_seconds_count"
    assert (
        _value(after, count, outcome="succeeded") == _value(before, count, outcome="succeeded") + 1
    )
    sent = _value(after, "asc_access_apple_requests_total", key_id=k.key_id) - _value(
        before, "asc_access_apple_requests_total", key_id=k.key_id
    )
    assert sent >= run["requests_used"] >= 1
    remaining = _value(after, "asc_access_rate_budget_remaining", key_id=k.key_id)
    assert remaining == run["rate_limit"]["remaining"]
    assert 0 < remaining < run["rate_limit"]["limit"]

    # A key revoked in App Store Connect: the failed sync is counted with its code.
    sandbox.revoke_key(k.key_id)
    run = await _sync(client, "metered", role_tokens["operator"])
    assert run["status"] == "failed"
    failed = await _scrape(client, role_tokens["viewer"])
    bad = {"outcome": "failed", "code": "APP-101"}
    assert (
        _value(failed, "asc_access_syncs_total", **bad)
        == _value(after, "asc_access_syncs_total", **bad) + 1
    )


async def test_notification_and_scim_counters_are_there_to_count(
    client: httpx.AsyncClient, role_tokens: dict[str, str]
) -> None:
    before = await _scrape(client, role_tokens["viewer"])
    metrics.record_notification("slack", "delivered")
    metrics.record_scim_operation("create", "ok")
    after = await _scrape(client, role_tokens["viewer"])
    name = "asc_access_notification_deliveries_total"
    labels = {"channel": "slack", "outcome": "delivered"}
    assert _value(after, name, **labels) == _value(before, name, **labels) + 1
    name = "asc_access_scim_operations_total"
    labels = {"operation": "create", "outcome": "ok"}
    assert _value(after, name, **labels) == _value(before, name, **labels) + 1


def test_worker_processes_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    """Two worker processes count syncs; a third (the service) scrapes their sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = (
        "import asyncio; from asc_access import metrics\n"
        "async def ok(): return 1\n"
        "asyncio.run(metrics.metered_sync(ok()))\n"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    scrape = "from asc_access import metrics; print(metrics.exposition().decode())"
    out = subprocess.run(
        [sys.executable, "-c", scrape], env=env, check=True, timeout=60, capture_output=True
    ).stdout.decode()
    samples = _samples(out)
    assert _value(samples, "asc_access_syncs_total", outcome="succeeded", code="none") == 2
