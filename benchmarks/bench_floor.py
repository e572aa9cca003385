"""Sync wall time against the floor, and the cost of a missing included total.

For each team size (default 1,000 and 10,000 members), one ``asc-access sandbox``
process (a separate process, latency on every call, hourly limit raised so
nothing is paced) and, in this same run:

- the floor: the member pages read in sequence by a bare HTTP client (httpx, one
  token, follow ``links.next``, nothing decoded beyond the next link). Apple's
  cursors are opaque, so no client can ask for page n+1 before page n arrives;
- the sync (real client, real engine, a fresh SQLite store): wall time and
  wall ÷ floor (target <= 1.2), for first syncs (``--repeat`` connections on the
  same key, each mirror written whole) and as many re-syncs of the first one
  (medians; each floor is measured just before its sync);
- requests of a sync with ``meta.paging.total`` on included app lists, and of one
  with the sandbox told to omit it (``POST /_sandbox/included-totals``), with the
  number of people whose included list was exactly full (50; ``--exactly-full``
  members are given exactly 50 apps first, through the API).

    .venv/bin/python benchmarks/bench_floor.py [--sizes 1000,10000] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from asc_access import runtime
from asc_access.api.query import Query
from asc_access.api.resources._base import visible_apps_query
from asc_access.config import Settings
from asc_access.credentials import CredentialFlags, TokenManager, evaluate, gather_credentials
from asc_access.store import connections as connection_store
from asc_access.store.mirror import load_snapshot
from asc_access.sync import SyncResult, sync_connection

sys.path.insert(0, str(Path(__file__).parent))
from bench_sync import _start_sandbox, _wait_ready

#: The members query exactly as the sync sends it (same fields, same include, same limits).
MEMBERS_QUERY = "/v1/users?" + urlencode(
    visible_apps_query(Query(), include=True, limit=50).limit(200).params()
)


def _floor(base_url: str, tokens: TokenManager) -> tuple[int, float]:
    """Member pages read one after the other by a bare client: (pages, seconds)."""
    headers = {"Authorization": f"Bearer {tokens.token()}"}
    with httpx.Client(headers=headers, timeout=60) as client:
        started = time.perf_counter()
        url: str | None = base_url + MEMBERS_QUERY
        pages = 0
        while url:
            response = client.get(url)
            response.raise_for_status()
            url = response.json().get("links", {}).get("next")
            pages += 1
        return pages, time.perf_counter() - started


async def _sync(engine: Any, settings: Settings, name: str) -> tuple[SyncResult, float]:
    connection_id = connection_store.get_connection(engine, name).id
    async with runtime.client_for_connection(engine, settings, name) as client:
        started = time.perf_counter()
        result = await sync_connection(engine, client, connection_id)
        return result, time.perf_counter() - started


def _connect(
    engine: Any, settings: Settings, state: dict[str, Any], name: str, *, force: bool = False
) -> TokenManager:
    admin = next(k for k in state["keys"] if k["name"] == "admin")
    flags = CredentialFlags(
        key_id=admin["key_id"],
        issuer_id=admin["issuer_id"],
        private_key_file=admin["private_key_file"],
    )
    evaluation = evaluate(gather_credentials(flags, environ={}))
    outcome = asyncio.run(
        runtime.connect(engine, settings, name, evaluation, api_url=state["base_url"], force=force)
    )
    if not outcome.saved or evaluation.credentials is None:
        raise SystemExit(f"could not connect: {outcome.report.code}")
    return TokenManager(evaluation.credentials)


def _exactly_full(engine: Any, name: str) -> int:
    connection_id = connection_store.get_connection(engine, name).id
    with engine.connect() as conn:
        snap = load_snapshot(conn, connection_id)
    people = [*snap.users.values(), *snap.invitations.values()]
    return sum(1 for p in people if not p.all_apps_visible and len(p.app_ids) == 50)


def _make_exactly_full(base_url: str, tokens: TokenManager, count: int) -> None:
    """Give ``count`` restricted members exactly 50 apps (the include cap), through the API."""
    headers = {"Authorization": f"Bearer {tokens.token()}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        apps = [a["id"] for a in client.get("/v1/apps?limit=200").json()["data"]][:50]
        users = client.get("/v1/users?limit=200").json()["data"]
        chosen = [u["id"] for u in users if not u["attributes"]["allAppsVisible"]][:count]
        body = {"data": [{"type": "apps", "id": a} for a in apps]}
        for user_id in chosen:
            url = f"/v1/users/{user_id}/relationships/visibleApps"
            client.patch(url, json=body).raise_for_status()


def _report(label: str, runs: list[tuple[float, SyncResult, float]], note: str) -> None:
    """Median floor and sync (the run of median wall time) of ``runs``, and their ratio."""
    if not runs:
        return
    floor = statistics.median(r[0] for r in runs)
    _, result, wall = sorted(runs, key=lambda r: r[2])[(len(runs) - 1) // 2]
    print(
        f"  {label:15} floor {floor:.2f} s, sync {wall:.2f} s (read {result.fetch_seconds:.2f} s, "
        f"write {result.write_seconds:.2f} s): wall / floor = {wall / floor:.2f} ({note})"
    )


@dataclass
class FloorTeam:
    """A running sandbox team, a store with the ``told`` connection, and its tokens."""

    state: dict[str, Any]
    control: httpx.Client
    settings: Settings
    engine: Any
    tokens: TokenManager


@contextmanager
def floor_team(args: argparse.Namespace, users: int, root: Path) -> Iterator[FloorTeam]:
    """A sandbox of ``users`` members (apps and invitations scaled), limit raised, connected."""
    sandbox_args = argparse.Namespace(
        users=users,
        apps=max(150, users // 10),
        invitations=max(50, users // 20),
        random_seed=args.random_seed,
        latency_ms=args.latency_ms,
    )
    process = _start_sandbox(sandbox_args, root / "sandbox")
    try:
        state = _wait_ready(process, root / "sandbox")
        control = httpx.Client(base_url=f"{state['base_url']}/_sandbox/", timeout=30)
        control.post("rate-limit", json={"limit": 1_000_000}).raise_for_status()
        settings = Settings.from_env({"ASC_ACCESS_HOME": str(root / "home")})
        engine = runtime.open_store(settings)
        tokens = _connect(engine, settings, state, "told")
        yield FloorTeam(state, control, settings, engine, tokens)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _one_size(args: argparse.Namespace, users: int, root: Path) -> None:
    apps, invitations = max(150, users // 10), max(50, users // 20)
    with floor_team(args, users, root) as team:
        state, control, settings = team.state, team.control, team.settings
        engine, tokens = team.engine, team.tokens
        _connect(engine, settings, state, "untold", force=True)  # same key, on purpose
        _make_exactly_full(state["base_url"], tokens, args.exactly_full)
        _floor(state["base_url"], tokens)  # warm-up: the sandbox renders its app cache once
        # First syncs: "told", then other connections on the same key (each a fresh mirror).
        firsts = ["told", *(f"first-{n}" for n in range(2, args.repeat + 1))]
        for name in firsts[1:]:
            _connect(engine, settings, state, name, force=True)
        first_runs: list[tuple[float, SyncResult, float]] = []  # (floor, sync, wall), in turn
        runs: list[tuple[float, SyncResult, float]] = []
        for name in firsts:
            pages, floor = _floor(state["base_url"], tokens)
            result, wall = asyncio.run(_sync(engine, settings, name))
            first_runs.append((floor, result, wall))
        for _ in range(args.repeat):
            pages, floor = _floor(state["base_url"], tokens)
            control.post("stats/reset").raise_for_status()
            result, wall = asyncio.run(_sync(engine, settings, "told"))
            runs.append((floor, result, wall))
        told = int(control.get("stats").json()["requests"])
        control.post("included-totals", json={"omit": True}).raise_for_status()
        control.post("stats/reset").raise_for_status()
        asyncio.run(_sync(engine, settings, "untold"))
        untold = int(control.get("stats").json()["requests"])
        print(
            f"\n{users:,} members, {apps:,} apps, {invitations} invitations, "
            f"{args.latency_ms} ms latency; floor = {pages} member pages in sequence, bare httpx"
        )
        note = f"median of {len(runs)}; target <= 1.2"
        _report("first sync", first_runs, f"the whole team written; {note}")
        _report("re-sync", runs, note)
        print(
            f"  requests        {told} with included totals (lower bound "
            f"{runs[-1][1].lower_bound}); {untold} without them (+{untold - told}; "
            f"{_exactly_full(engine, 'untold')} people with exactly 50 apps)"
        )


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--random-seed", type=int, default=0)
    parser.add_argument(
        "--repeat", type=int, default=3, help="first syncs (fresh connections) and re-syncs each"
    )
    parser.add_argument(
        "--exactly-full", type=int, default=10, help="members given exactly 50 apps first"
    )
    args = parser.parse_args()
    for users in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
            _one_size(args, users, Path(tmp))


if __name__ == "__main__":
    main()
