"""Sync benchmark: a generated team of 10,000 members, 1,000 apps and 500 invitations.

The sandbox runs as a separate process (``asc-access sandbox``) with 50 ms of
latency on every API call, so the figures below are the sync's own: this
process holds only the API client, the sync engine and the store.

Prints:

- requests sent (the sandbox's own count) against the lower bound
  ⌈users/200⌉ + ⌈apps/200⌉ + ⌈invitations/200⌉ + follow-ups for capped app lists;
- wall time against the critical path (pages of the longest stream × latency), and
  against the members' pages read alone, one after the other (Apple's cursors are
  opaque, so no client can fetch page n+1 before page n: that chain, with the
  server's and the decoder's time per page, is the practical floor);
- store rows written per second (the one snapshot transaction);
- peak RSS of this process;
- the same for a second, quiet sync (nothing changed: no rows, no events).

    .venv/bin/python benchmarks/bench_sync.py                      # SQLite in a temp dir
    .venv/bin/python benchmarks/bench_sync.py --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from asc_access import runtime
from asc_access.config import Settings
from asc_access.credentials import CredentialFlags, evaluate, gather_credentials
from asc_access.store import connections as connection_store
from asc_access.sync import SyncResult, sync_connection


def _start_sandbox(args: argparse.Namespace, state_dir: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-c",
        "from asc_access.cli.main import main; main()",
        "sandbox",
        "--seed",
        "generated",
        "--users",
        str(args.users),
        "--apps",
        str(args.apps),
        "--invitations",
        str(args.invitations),
        "--random-seed",
        str(args.random_seed),
        "--latency-ms",
        str(args.latency_ms),
        "--state-dir",
        str(state_dir),
        "--port",
        "0",
    ]
    env = {**os.environ, "ASC_ACCESS_HOME": str(state_dir / "home")}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_ready(process: subprocess.Popen[bytes], state_dir: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    path = state_dir / "sandbox.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"the sandbox exited: {err}")
        if path.exists():
            try:
                state: dict[str, Any] = json.loads(path.read_text())
                httpx.get(f"{state['base_url']}/_sandbox/info", timeout=5).raise_for_status()
            except (ValueError, httpx.HTTPError):
                time.sleep(0.2)
                continue
            return state
        time.sleep(0.2)
    raise SystemExit("the sandbox did not start within 120 s")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


async def _users_chain(engine: Any, settings: Settings, name: str) -> tuple[int, float]:
    """Page the members alone, as the sync does: the chain no concurrency can shorten."""
    async with runtime.client_for_connection(engine, settings, name) as client:
        started = time.perf_counter()
        pages = 0
        async for _ in client.users.pages(
            include_visible_apps=True, limit=200, visible_apps_limit=50
        ):
            pages += 1
        return pages, time.perf_counter() - started


async def _sync(engine: Any, settings: Settings, name: str) -> tuple[SyncResult, float]:
    connection_id = connection_store.get_connection(engine, name).id
    async with runtime.client_for_connection(engine, settings, name) as client:
        started = time.perf_counter()
        result = await sync_connection(engine, client, connection_id)
        return result, time.perf_counter() - started


def _report(
    label: str, result: SyncResult, wall: float, served: int, args: argparse.Namespace
) -> None:
    pages = {
        "users": math.ceil(result.users / 200) or 1,
        "apps": math.ceil(result.apps / 200) or 1,
        "invitations": math.ceil(result.invitations / 200) or 1,
    }
    longest = max(pages, key=lambda k: pages[k])
    critical = pages[longest] * args.latency_ms / 1000
    rows_per_second = result.rows_written / result.write_seconds if result.write_seconds else 0.0
    print(f"\n{label}")
    print(
        f"  team            {result.users:,} members, {result.apps:,} apps, "
        f"{result.invitations:,} invitations; {len(result.changes)} change events"
    )
    print(
        f"  requests        {served} served by the sandbox, {result.requests_used} counted by "
        f"the client; lower bound {result.lower_bound} = {pages['users']} + {pages['apps']} + "
        f"{pages['invitations']} pages + {result.follow_ups} follow-ups for capped app lists"
    )
    print(
        f"  wall time       {wall:.2f} s (read {result.fetch_seconds:.2f} s, "
        f"write {result.write_seconds:.2f} s); critical path {critical:.2f} s "
        f"= {pages[longest]} pages of {longest} × {args.latency_ms} ms"
    )
    print(f"  store           {result.rows_written:,} rows written, {rows_per_second:,.0f} rows/s")
    print(f"  peak RSS        {_rss_mb():.0f} MB")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--apps", type=int, default=1_000)
    parser.add_argument("--invitations", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--random-seed", type=int, default=0)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        process = _start_sandbox(args, root / "sandbox")
        try:
            state = _wait_ready(process, root / "sandbox")
            print(
                f"sandbox: {args.users:,} users / {args.apps:,} apps / {args.invitations} "
                f"invitations, {args.latency_ms} ms latency, separate process, ready after "
                f"{time.perf_counter() - started:.1f} s"
            )
            home = root / "home"
            environ = {"ASC_ACCESS_HOME": str(home)}
            if args.database_url:
                environ["ASC_ACCESS_DATABASE_URL"] = args.database_url
            settings = Settings.from_env(environ)
            engine = runtime.open_store(settings)
            print(f"store: {engine.dialect.name}; peak RSS before the sync {_rss_mb():.0f} MB")
            admin = next(k for k in state["keys"] if k["name"] == "admin")
            flags = CredentialFlags(
                key_id=admin["key_id"],
                issuer_id=admin["issuer_id"],
                private_key_file=admin["private_key_file"],
            )
            evaluation = evaluate(gather_credentials(flags, environ={}))
            name = f"bench-{int(time.time())}"
            outcome = asyncio.run(
                runtime.connect(engine, settings, name, evaluation, api_url=state["base_url"])
            )
            if not outcome.saved:
                raise SystemExit(f"could not connect: {outcome.report.code}")
            control = httpx.Client(base_url=f"{state['base_url']}/_sandbox/", timeout=30)
            pages, chain = asyncio.run(_users_chain(engine, settings, name))
            print(
                f"members' pages alone: {pages} pages in {chain:.2f} s "
                f"({chain / pages * 1000:.0f} ms a page: {args.latency_ms} ms latency + the "
                "sandbox building and the client decoding 200 members with their apps)"
            )
            for label in ("first sync (baseline: every row written)", "second sync (nothing new)"):
                control.post("stats/reset").raise_for_status()
                result, wall = asyncio.run(_sync(engine, settings, name))
                served = int(control.get("stats").json()["requests"])
                _report(label, result, wall, served, args)
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
