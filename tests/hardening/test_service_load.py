"""A bounded load test of the service on loopback: no 5xx, no data without a token, p99 reported.

uvicorn serves the app on 127.0.0.1 in a thread (over a synced demo team); the
load generator of ``benchmarks/bench_service_load.py`` sends a fixed number of
requests (a weighted mix of list endpoints, exports, the review, plans that
read the sandbox, and unauthenticated requests) from four concurrent clients,
and stops by itself. Timings are printed, never asserted; the benchmark runs
the same load against ``asc-access serve`` in a subprocess.
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from _support.sandbox import RunningSandbox
from _support.service import serve_in_thread
from asc_access.config import Settings
from asc_access.service import create_app
from hardening.support import cli

TOKEN = "load-admin-token-00000000000000000000"
REQUESTS = 400
CLIENTS = 4


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_service_load.py"
    spec = importlib.util.spec_from_file_location("bench_service_load", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_service_under_a_bounded_load(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = sandbox.keys["admin"]
    connected = cli(
        "connect", "bench", "--key-id", key.key_id, "--issuer-id", str(key.issuer_id),
        "--private-key-file", str(key.private_key_file), "--api-url", sandbox.base_url,
    )  # fmt: skip
    assert connected.exit_code == 0, connected.stdout + connected.stderr
    assert cli("sync", "bench").exit_code == 0
    monkeypatch.setenv("ASC_ACCESS_API_TOKEN", TOKEN)
    monkeypatch.setenv("ASC_ACCESS_ALLOWED_API_URLS", sandbox.base_url)
    bench = _bench()
    app = create_app(Settings.from_env(), scheduler=False)
    with serve_in_thread(app) as live:
        result = asyncio.run(
            bench.run_load(live.base_url, TOKEN, requests=REQUESTS, concurrency=CLIENTS)
        )
    print()
    bench.report(result)
    assert result["server_errors"] == []
    assert result["unauthenticated_ok"] == []
    statuses = {line.rsplit(" -> ", 1)[1] for line in result["statuses"]}
    assert statuses <= {"200", "201", "401"}, result["statuses"]
    assert sum(p["n"] for p in result["by_endpoint"].values()) == REQUESTS
