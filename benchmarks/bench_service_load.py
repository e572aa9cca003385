"""Service load benchmark: latency percentiles of the REST API on loopback under concurrent clients.

Starts a sandbox team (demo, or generated with --users/--apps/--invitations),
connects and syncs it into a fresh SQLite store, runs ``asc-access serve`` as a
subprocess on 127.0.0.1, then sends a fixed number of requests from a few
concurrent httpx clients — a mix of list endpoints, exports, the review, plans
(which read the sandbox), and unauthenticated requests that must get 401 — and
prints p50 / p90 / p99 / max latency per endpoint and overall, throughput, and
every status seen. It stops by itself; nothing is asserted on timings (the
test suite's bounded run asserts no 5xx).

    .venv/bin/python benchmarks/bench_service_load.py [--requests 3000] [--concurrency 8]
        [--users 2000 --apps 100 --invitations 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx

TOKEN = "bench-admin-token-000000000000000000"
DOMAIN = "northwindlabs.example.com"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mix(users: int) -> list[tuple[str, str, Any, bool, int]]:
    """(method, path, json body, authenticated, weight) of the requests sent."""
    email = f"noah.williams@{DOMAIN}" if not users else "nobody@example.com"
    return [
        ("GET", "/api/v1/health", None, False, 3),
        ("GET", "/api/v1/me", None, True, 3),
        ("GET", "/api/v1/connections", None, True, 5),
        ("GET", "/api/v1/users?limit=50", None, True, 15),
        ("GET", "/api/v1/users?limit=50&offset=100&role=DEVELOPER", None, True, 5),
        ("GET", "/api/v1/people?limit=50&search=a", None, True, 10),
        ("GET", "/api/v1/invitations?limit=50", None, True, 5),
        ("GET", "/api/v1/apps?limit=100", None, True, 5),
        ("GET", "/api/v1/changes?limit=20", None, True, 5),
        ("GET", "/api/v1/review", None, True, 3),
        ("GET", "/api/v1/export?format=json", None, True, 2),
        ("GET", "/api/v1/audit", None, True, 3),
        ("GET", "/api/v1/sync/runs", None, True, 3),
        ("GET", "/api/v1/users", None, False, 8),  # no token: must be 401
        (
            "POST",
            "/api/v1/actions/plans",
            {"action": "set-roles", "connection": "bench", "email": email, "roles": ["SALES"]},
            True,
            2,
        ),
    ]


async def run_load(
    base_url: str,
    token: str,
    *,
    requests: int,
    concurrency: int,
    users: int = 0,
    seed: int = 1,
) -> dict[str, Any]:
    """Send ``requests`` requests from ``concurrency`` clients; latencies and statuses."""
    rng = random.Random(seed)
    choices = mix(users)
    weights = [c[4] for c in choices]
    plan = [rng.choices(choices, weights)[0] for _ in range(requests)]
    queue: asyncio.Queue[tuple[str, str, Any, bool, int]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    unauthenticated_ok: list[str] = []
    server_errors: list[str] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            while not queue.empty():
                method, path, body, authed, _ = queue.get_nowait()
                headers = {"Authorization": f"Bearer {token}"} if authed else {}
                started = time.perf_counter()
                response = await http.request(method, path, json=body, headers=headers)
                elapsed = time.perf_counter() - started
                label = f"{method} {path.split('?')[0]}{'' if authed else ' (no token)'}"
                latencies[label].append(elapsed)
                statuses[f"{label} -> {response.status_code}"] += 1
                if response.status_code >= 500:
                    server_errors.append(f"{label}: {response.text[:200]}")
                if not authed and path != "/api/v1/health" and response.status_code != 401:
                    unauthenticated_ok.append(f"{label} -> {response.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    every = sorted(x for values in latencies.values() for x in values)
    return {
        "requests": requests,
        "concurrency": concurrency,
        "wall_seconds": wall,
        "per_second": requests / wall if wall else 0.0,
        "overall": percentiles(every),
        "by_endpoint": {label: percentiles(sorted(v)) for label, v in sorted(latencies.items())},
        "statuses": dict(sorted(statuses.items())),
        "server_errors": server_errors,
        "unauthenticated_ok": unauthenticated_ok,
    }


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 / p90 / p99 / max in milliseconds of sorted ``values``."""
    if not values:
        return {}
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    return {
        "n": len(values),
        "p50_ms": round(q[49] * 1000, 1),
        "p90_ms": round(q[89] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "max_ms": round(values[-1] * 1000, 1),
    }


def report(result: dict[str, Any]) -> None:
    """Print the figures."""
    o = result["overall"]
    print(
        f"{result['requests']} requests, {result['concurrency']} clients, "
        f"{result['wall_seconds']:.1f} s, {result['per_second']:.0f} req/s; "
        f"p50 {o['p50_ms']} ms, p90 {o['p90_ms']} ms, p99 {o['p99_ms']} ms, max {o['max_ms']} ms"
    )
    for label, p in result["by_endpoint"].items():
        print(
            f"  {label:<42} n={p['n']:<5} p50 {p['p50_ms']:>7} ms  p99 {p['p99_ms']:>7} ms  "
            f"max {p['max_ms']:>7} ms"
        )
    print(f"  5xx: {len(result['server_errors'])}; unauthenticated but not 401: "
          f"{len(result['unauthenticated_ok'])}")  # fmt: skip


def main() -> None:
    """Set up a team, serve it from a subprocess, load it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--users", type=int, default=0)
    parser.add_argument("--apps", type=int, default=0)
    parser.add_argument("--invitations", type=int, default=0)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from _support.sandbox import start_sandbox  # type: ignore[import-not-found]

    home = Path(tempfile.mkdtemp(prefix="asc-bench-load-"))
    env = {**os.environ, "ASC_ACCESS_HOME": str(home), "ASC_ACCESS_API_TOKEN": TOKEN}
    exe = str(Path(sys.executable).with_name("asc-access"))
    with start_sandbox(users=args.users, apps=args.apps, invitations=args.invitations) as sbx:
        key = sbx.keys["admin"]
        for command in (
            ["connect", "bench", "--key-id", key.key_id, "--issuer-id", str(key.issuer_id),
             "--private-key-file", str(key.private_key_file), "--api-url", sbx.base_url],
            ["sync", "bench"],
        ):  # fmt: skip
            subprocess.run([exe, *command], env=env, check=True, capture_output=True)
        env["ASC_ACCESS_ALLOWED_API_URLS"] = sbx.base_url  # the service may call the sandbox
        port = _free_port()
        server = subprocess.Popen(
            [exe, "serve", "--port", str(port), "--no-scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the service did not start")
                time.sleep(0.2)
            team = f"{args.users} users" if args.users else "demo team"
            print(f"asc-access serve (subprocess) on {base}, SQLite, {team}")
            result = asyncio.run(
                run_load(
                    base, TOKEN, requests=args.requests, concurrency=args.concurrency,
                    users=args.users,
                )
            )  # fmt: skip
            report(result)
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
