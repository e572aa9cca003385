"""SCIM bridge benchmark: SCIM operations per minute, latency, and Apple requests per operation.

Starts a sandbox team (generated, ``--users``/``--apps``, with ``--latency-ms``
per Apple request), connects and syncs it into a fresh SQLite store, runs
``asc-access serve`` as a subprocess, creates a SCIM token, then sends the
operations an IdP sends one at a time — a page of 100 Users (an import),
Okta's look-up (``userName eq``), a create, a role change (PATCH), a
deactivation (PATCH ``active: false``) — and prints for each kind: operations
per minute, p50 / max latency, and the Apple requests it cost (read from the
sandbox's counters) against the minimum (a create: one POST plus its verifying
read; a look-up or a page: none, they read the mirror).

    .venv/bin/python benchmarks/bench_scim.py [--ops 20] [--users 300 --apps 20] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

TOKEN = "bench-admin-token-000000000000000000"
ASC = "urn:ietf:params:scim:schemas:extension:appstoreconnect:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#: The fewest Apple requests each operation can cost: the write plus its verifying read.
MINIMUM = {"list page": 0, "lookup": 0, "create": 2, "change roles": 2, "deactivate": 2}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _apple_requests(sandbox: Any) -> int:
    return int(sandbox.stats()["requests"])


def _timed(
    sandbox: Any, scim: httpx.Client, figures: dict[str, list[tuple[float, int]]], kind: str,
    method: str, path: str, **kw: Any,
) -> httpx.Response:  # fmt: skip
    before = _apple_requests(sandbox)
    started = time.perf_counter()
    response = scim.request(method, path, **kw)
    elapsed = time.perf_counter() - started
    if response.status_code >= 400:
        raise SystemExit(f"{kind}: {response.status_code} {response.text[:300]}")
    figures[kind].append((elapsed, _apple_requests(sandbox) - before))
    return response


def run(sandbox: Any, scim: httpx.Client, ops: int) -> dict[str, list[tuple[float, int]]]:
    """Send ``ops`` operations of each kind; (seconds, Apple requests) per operation."""
    figures: dict[str, list[tuple[float, int]]] = defaultdict(list)
    listed = scim.get("/Users", params={"count": 200}).json()["Resources"]
    members = [
        u for u in listed
        if u[ASC]["roles"] == ["DEVELOPER"] and not u[ASC]["allAppsVisible"]
    ][:ops]  # fmt: skip
    if len(members) < ops:
        raise SystemExit(f"only {len(members)} restricted developers; raise --users")
    for i in range(ops):
        page = {"startIndex": 1 + 100 * i, "count": 100}
        _timed(sandbox, scim, figures, "list page", "GET", "/Users", params=page)
    for i in range(ops):
        email = f"scim-bench-{i}@example.org"
        lookup = {"filter": f'userName eq "{email}"', "startIndex": 1, "count": 100}
        _timed(sandbox, scim, figures, "lookup", "GET", "/Users", params=lookup)
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ASC],
            "userName": email,
            "name": {"givenName": "Bench", "familyName": f"Person {i}"},
            ASC: {"roles": ["DEVELOPER"], "allAppsVisible": True},
        }
        _timed(sandbox, scim, figures, "create", "POST", "/Users", json=body)
    for user in members:
        change = {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": f"{ASC}:roles",
                            "value": ["DEVELOPER", "MARKETING"]}],
        }  # fmt: skip
        _timed(sandbox, scim, figures, "change roles", "PATCH", f"/Users/{user['id']}", json=change)
        off = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}
        _timed(sandbox, scim, figures, "deactivate", "PATCH", f"/Users/{user['id']}", json=off)
    return figures


def report(figures: dict[str, list[tuple[float, int]]]) -> None:
    """Print one line per kind of operation."""
    print(f"{'operation':<14} {'n':>3} {'ops/min':>8} {'p50 ms':>8} {'max ms':>8} "
          f"{'Apple req/op':>13} {'minimum':>8}")  # fmt: skip
    total_time = sum(t for rows in figures.values() for t, _ in rows)
    total_ops = sum(len(rows) for rows in figures.values())
    for kind, rows in figures.items():
        times = sorted(t for t, _ in rows)
        requests = [n for _, n in rows]
        print(
            f"{kind:<14} {len(rows):>3} {60 * len(rows) / sum(times):>8.0f} "
            f"{statistics.median(times) * 1000:>8.1f} {times[-1] * 1000:>8.1f} "
            f"{statistics.mean(requests):>13.1f} {MINIMUM[kind]:>8}"
        )
    print(
        f"all: {total_ops} operations, {60 * total_ops / total_time:.0f} per minute, one at a time"
    )


def main() -> None:
    """Set up a team, serve it, drive it as an IdP would, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=20)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from _support.sandbox import start_sandbox  # type: ignore[import-not-found]

    home = Path(tempfile.mkdtemp(prefix="asc-bench-scim-"))
    env = {**os.environ, "ASC_ACCESS_HOME": str(home), "ASC_ACCESS_API_TOKEN": TOKEN}
    exe = str(Path(sys.executable).with_name("asc-access"))
    with start_sandbox(
        users=args.users, apps=args.apps, invitations=5, latency_ms=args.latency_ms,
        rate_limit=100_000,
    ) as sbx:  # fmt: skip
        key = sbx.keys["admin"]
        env["ASC_ACCESS_ALLOWED_API_URLS"] = sbx.base_url
        for command in (
            ["connect", "bench", "--key-id", key.key_id, "--issuer-id", str(key.issuer_id),
             "--private-key-file", str(key.private_key_file), "--api-url", sbx.base_url],
            ["sync", "bench"],
        ):  # fmt: skip
            subprocess.run([exe, *command], env=env, check=True, capture_output=True)
        created = subprocess.run(
            [exe, "tokens", "create", "bench-idp", "--scim", "bench", "--json"],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        scim_token = json.loads(created.stdout)["token"]
        port = _free_port()
        server = subprocess.Popen(
            [exe, "serve", "--port", str(port), "--no-scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}/scim/v2"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/ServiceProviderConfig", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the service did not start")
                time.sleep(0.2)
            headers = {"Authorization": f"Bearer {scim_token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=120) as scim:
                print(
                    f"sandbox: {args.users} members, {args.apps} apps, "
                    f"{args.latency_ms} ms per Apple request"
                )
                report(run(sbx, scim, args.ops))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
