"""Where a sync's wall time goes beyond the floor (a diagnostic companion of bench_floor.py).

Same set-up as ``bench_floor.py`` (one ``asc-access sandbox`` process, latency on
every call, hourly limit raised). Then, for a first sync and a re-sync:

- spans (``time.perf_counter``) around the phases: the member pages' round trips
  (request sent → response back), the time from the last member page to the end of
  reading, and each step of the final transaction (wrapped here, the product is not
  changed);
- with ``--profile``, a cProfile of each sync (top functions by own time; cProfile
  slows Python code down, so compare its shares, not its seconds);

    .venv/bin/python benchmarks/profile_floor.py [--users 10000] [--latency-ms 20] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import inspect
import io
import itertools
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from asc_access.api import transport as transport_module
from asc_access.config import Settings
from asc_access.sync import engine as engine_module
from asc_access.sync import streams as streams_module

sys.path.insert(0, str(Path(__file__).parent))
from bench_floor import MEMBERS_QUERY, _floor, _sync, floor_team
from bench_sync import _users_chain

SPANS: dict[str, float] = defaultdict(float)
TRIPS: list[tuple[float, float]] = []  # member pages: (sent, back)
ENDS: dict[str, float] = {}  # reading tasks: when the last one of each kind ended


def _timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            SPANS[name] += time.perf_counter() - started

    return wrapper


def _ended(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await func(*args, **kwargs)
        finally:
            ENDS[name] = time.perf_counter()

    return wrapper


def _instrument() -> None:
    names = [
        "lock_connection",
        "close_interrupted_runs",
        "last_succeeded_run",
        "load_snapshot",
        "check_and_confirm",
        "diff_snapshots",
        "write_snapshot",
        "insert_changes",
        "finish_run",
        "forget_on_disk",
        "_record_health",
        "start_run",
        "_connection_name",
        "_commit",
    ]
    for name in names:
        if hasattr(engine_module, name):
            setattr(engine_module, name, _timed(name, getattr(engine_module, name)))
    reader = streams_module.TeamReader
    for name in dir(reader):
        method = getattr(reader, name)
        if name.endswith(("_users", "_invitations", "_apps", "follow_up")) and (
            inspect.iscoroutinefunction(method)
        ):
            setattr(reader, name, _ended(name, method))
    for name in ("_snapshot", "_build", "_finish"):
        if hasattr(reader, name):
            setattr(reader, name, _timed(f"reader.{name}", getattr(reader, name)))
    original = transport_module.Transport.request

    async def request(self: Any, method: str, target: str, **kwargs: Any) -> Any:
        started = time.perf_counter()
        response = await original(self, method, target, **kwargs)
        if "/v1/users" in target and "relationships" not in target:
            TRIPS.append((started, time.perf_counter()))
        return response

    transport_module.Transport.request = request  # type: ignore[method-assign]


async def _async_floor(base_url: str, tokens: Any) -> float:
    headers = {"Authorization": f"Bearer {tokens.token()}"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        started = time.perf_counter()
        url: str | None = base_url + MEMBERS_QUERY
        while url:
            response = await client.get(url)
            url = response.json().get("links", {}).get("next")
        return time.perf_counter() - started


def _run(engine: Any, settings: Settings, label: str, profile: bool) -> None:
    SPANS.clear()
    ENDS.clear()
    TRIPS.clear()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    cpu = time.process_time()
    result, wall = asyncio.run(_sync(engine, settings, "told"))
    cpu = time.process_time() - cpu
    if profiler:
        profiler.disable()
    trips = sorted(TRIPS)
    in_flight = sum(back - sent for sent, back in trips)
    gaps = sum(b[0] - a[1] for a, b in itertools.pairwise(trips))
    print(
        f"\n{label}: wall {wall:.3f} s (read {result.fetch_seconds:.3f}, "
        f"write {result.write_seconds:.3f}), {len(trips)} member pages, CPU {cpu:.3f} s"
    )
    print(f"  member pages in flight {in_flight:.3f} s; gaps between them {gaps:.3f} s")
    if trips:
        print(
            f"  first page sent at +{trips[0][0] - trips[0][0]:.3f}, "
            f"last page back after {trips[-1][1] - trips[0][0]:.3f} s"
        )
    for name, at in sorted(ENDS.items(), key=lambda kv: kv[1]):
        print(f"  {name:24} ended {at - trips[0][0]:.3f} s after the first member page was sent")
    for name, seconds in sorted(SPANS.items(), key=lambda kv: -kv[1]):
        print(f"  {name:24} {seconds:.3f} s")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())


def main() -> None:
    """Set up one sandbox, then time a first sync and a re-sync."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--random-seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    _instrument()
    with (
        tempfile.TemporaryDirectory(prefix="profile-floor-") as tmp,
        floor_team(args, args.users, Path(tmp)) as team,
    ):
        engine, settings, tokens = team.engine, team.settings, team.tokens
        base_url = team.state["base_url"]
        _floor(base_url, tokens)  # warm-up
        pages, floor = _floor(base_url, tokens)
        print(f"floor {floor:.3f} s ({pages} member pages, bare httpx)")
        print(f"bare async httpx {asyncio.run(_async_floor(base_url, tokens)):.3f} s")
        pages, chain = asyncio.run(_users_chain(engine, settings, "told"))
        print(f"member pages alone through the product client {chain:.3f} s ({pages})")
        _run(engine, settings, "first sync", args.profile)
        pages, floor = _floor(base_url, tokens)
        print(f"\nfloor {floor:.3f} s ({pages} member pages, bare httpx)")
        _run(engine, settings, "re-sync", args.profile)


if __name__ == "__main__":
    main()
