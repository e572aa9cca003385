"""Sandbox benchmark: startup time and pages per second paging every user.

Runs the sandbox with uvicorn on a loopback port (in a thread of this process, so
client and server share one interpreter) and pages through ``/v1/users`` with a
plain httpx client, following ``links.next``. Prints, for 1,000 and 10,000 users:
startup time, pages per second, and the mean time per page over the first and the
last quarter of pages (equal figures mean a steady cost per page).

    .venv/bin/python benchmarks/bench_sandbox.py
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx
import jwt

from asc_access.sandbox import Sandbox, SandboxOptions
from asc_access.sandbox.server import ThreadedServer

SIZES = ((1_000, 200, 50), (10_000, 1_000, 500))  # users, apps, invitations
QUERIES = (
    ("limit=200", "/v1/users?limit=200"),
    ("limit=50", "/v1/users?limit=50"),
    (
        "limit=200 include=visibleApps",
        (
            "/v1/users?limit=200&include=visibleApps&limit[visibleApps]=50"
            "&fields[apps]=name,bundleId,sku,primaryLocale"
        ),
    ),
)


def _token(sandbox: Sandbox) -> str:
    key = sandbox.named_keys["admin"]
    now = int(time.time())
    claims = {"iss": sandbox.issuer_id, "iat": now, "exp": now + 1200, "aud": "appstoreconnect-v1"}
    return jwt.encode(claims, key.private_key_pem, algorithm="ES256", headers={"kid": key.key_id})


def _page_all(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[int, list[float]]:
    seen = 0
    timings: list[float] = []
    next_url: str | None = url
    while next_url:
        started = time.perf_counter()
        response = client.get(next_url, headers=headers)
        document: dict[str, Any] = response.json()
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        seen += len(document["data"])
        next_url = document["links"].get("next")
    return seen, timings


def main() -> None:
    """Run and print the figures."""
    print("sandbox benchmark (server: uvicorn in a thread of this process; client: httpx)")
    for users, apps, invitations in SIZES:
        started = time.perf_counter()
        sandbox = Sandbox(
            SandboxOptions(
                seed="generated",
                users=users,
                apps=apps,
                invitations=invitations,
                random_seed=0,
                rate_limit=1_000_000,
            )
        )
        built = time.perf_counter() - started
        with ThreadedServer(sandbox) as server:
            serving = time.perf_counter() - started
            print(
                f"\n{users:,} users / {apps:,} apps / {invitations} invitations: "
                f"team + keys built in {built:.2f} s, serving after {serving:.2f} s"
            )
            headers = {"Authorization": f"Bearer {_token(sandbox)}"}
            with httpx.Client(base_url=server.base_url) as client:
                for label, url in QUERIES:
                    _page_all(client, url, headers)  # warm the sorted view and caches
                    begun = time.perf_counter()
                    seen, timings = _page_all(client, url, headers)
                    elapsed = time.perf_counter() - begun
                    assert seen == users
                    quarter = max(1, len(timings) // 4)
                    first = statistics.mean(timings[:quarter]) * 1000
                    last = statistics.mean(timings[-quarter:]) * 1000
                    print(
                        f"  {label:<30} {len(timings):>4} pages in {elapsed:6.2f} s = "
                        f"{len(timings) / elapsed:7.1f} pages/s, {users / elapsed:8.0f} users/s; "
                        f"ms/page first quarter {first:6.2f}, last quarter {last:6.2f}"
                    )


if __name__ == "__main__":
    main()
