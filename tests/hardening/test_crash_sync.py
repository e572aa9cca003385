"""A sync killed with SIGKILL at random points never leaves the store inconsistent.

The sandbox serves a generated team with latency; before every sync the team
is replaced by another generated team (a different ``random_seed``), so each
sync has thousands of changes to write and a kill can land while reading
Apple, while diffing or in the middle of the one snapshot transaction. The
sync runs as a real ``asc-access sync NAME --json`` subprocess; the kill is
sent a random (seeded) time after the sandbox saw its first request.

After every kill, read with the ``sqlite3`` module rather than the product:

- ``PRAGMA integrity_check`` is ``ok``;
- either no new run succeeded and every mirror row and change event is
  exactly as before, or the kill came after the commit: one new succeeded run
  and the mirror equals what the sandbox holds;
- no run is left claiming success without its snapshot;
- a run the kill left ``running`` is closed as failed (``interrupted``) by the
  next sync of that connection, which succeeds and mirrors the sandbox exactly.

``ASC_HARDENING_SEED`` and ``ASC_HARDENING_CRASH_KILLS`` change the seed and
the number of kills (default 10, about a minute on two busy cores).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from _support.sandbox import RunningSandbox, start_sandbox
from hardening.support import apple_truth, cli, dump_tables, mirror_picture

SEED = int(os.environ.get("ASC_HARDENING_SEED", "20260317"))
KILLS = int(os.environ.get("ASC_HARDENING_CRASH_KILLS", "10"))
TEAM = {"users": 1500, "apps": 80, "invitations": 200}
ASC_ACCESS = Path(sys.executable).with_name("asc-access")


def _runs(database: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT id, status, error_code, error_cause, finished_at FROM sync_runs ORDER BY id"
        ).fetchall()


def _integrity(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _connection_id(database: Path, name: str) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT id FROM connections WHERE name = ?", (name,)).fetchone()[0])


def _sync_process(out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as stdout:
        return subprocess.Popen(
            [str(ASC_ACCESS), "sync", "crash", "--json"],
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            env=os.environ.copy(),
        )


def _wait_for_first_request(running: RunningSandbox, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 120
    while running.stats()["requests"] == 0:
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _kill_after_first_request(
    running: RunningSandbox, process: subprocess.Popen[bytes], delay: float
) -> int | None:
    """SIGKILL ``process`` ``delay`` s after the sandbox saw its first request.

    Returns how many requests the sandbox had seen when the kill was sent
    (``None``: the sync ended first).
    """
    if not _wait_for_first_request(running, process):
        return None
    end = time.monotonic() + delay
    while time.monotonic() < end:
        if process.poll() is not None:
            return None
        time.sleep(0.005)
    if process.poll() is not None:
        return None
    seen = int(running.stats()["requests"])
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    return seen


def _new_team(running: RunningSandbox, team_seed: int) -> None:
    running.reset(seed="generated", random_seed=team_seed, **TEAM)


def _full_sync(home: Path, running: RunningSandbox | None = None) -> tuple[dict[str, Any], float]:
    """A complete CLI sync; its JSON, and the seconds from its first request to its exit."""
    out = home / "sync.json"
    process = _sync_process(out)
    first = time.monotonic()
    if running is not None:
        _wait_for_first_request(running, process)
        first = time.monotonic()
    assert process.wait(180) == 0, out.read_text()[-2000:]
    document: dict[str, Any] = json.loads(out.read_text())
    return document, time.monotonic() - first


def _assert_mirror_is_truth(running: RunningSandbox, home: Path, connection_id: int) -> None:
    from asc_access.store.db import make_engine

    engine = make_engine(f"sqlite:///{home / 'asc-access.db'}")
    try:
        assert mirror_picture(engine, connection_id) == apple_truth(running)
    finally:
        engine.dispose()


def _recover_in_process(home: Path, connection_id: int) -> None:
    """The next sync, run through the library (same code as the CLI, no start-up cost)."""
    from asc_access.config import Settings
    from asc_access.runtime import client_for_connection, open_store
    from asc_access.sync import sync_connection

    settings = Settings.from_env()
    engine = open_store(settings)

    async def run() -> None:
        async with client_for_connection(engine, settings, "crash") as client:
            await sync_connection(engine, client, connection_id)

    try:
        asyncio.run(run())
    finally:
        engine.dispose()


@pytest.mark.slow
def test_sync_killed_at_random_points_leaves_the_store_consistent(
    _isolated_env: Path,  # noqa: PT019 - its value is the home directory
) -> None:
    home = _isolated_env
    database = home / "asc-access.db"
    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    with start_sandbox(random_seed=1, latency_ms=20, **TEAM) as running:
        key = running.keys["admin"]
        connected = cli(
            "connect", "crash", "--key-id", key.key_id, "--issuer-id", str(key.issuer_id),
            "--private-key-file", str(key.private_key_file), "--api-url", running.base_url,
        )  # fmt: skip
        assert connected.exit_code == 0, connected.stdout + connected.stderr
        connection_id = _connection_id(database, "crash")
        baseline, _ = _full_sync(home)
        assert baseline["ok"] is True
        _new_team(running, team_seed=2)
        changed, work = _full_sync(home, running)  # a sync with every row changing, timed
        assert changed["ok"] is True
        requests = int(changed["requests_used"])
        _assert_mirror_is_truth(running, home, connection_id)

        for kill in range(KILLS):
            _new_team(running, team_seed=100 + kill)
            before_rows = dump_tables(database)
            before_runs = _runs(database)
            process = _sync_process(home / "killed.json")
            seen = _kill_after_first_request(running, process, rng.uniform(0.0, work * 0.85))
            killed = seen is not None
            phase = "while reading Apple" if (seen or 0) < requests else "after reading"
            assert _integrity(database) == "ok", f"kill {kill}"
            after_runs = _runs(database)
            new_runs = [r for r in after_runs if r[0] > before_runs[-1][0]]
            succeeded = [r for r in new_runs if r[1] == "succeeded"]
            assert len(succeeded) <= 1
            if succeeded:
                # The kill came after the commit: the new picture is complete.
                _assert_mirror_is_truth(running, home, connection_id)
                outcomes["killed after the commit" if killed else "finished before the kill"] += 1
            else:
                assert killed
                assert dump_tables(database) == before_rows, f"kill {kill}: mirror changed"
                assert all(r[1] != "succeeded" for r in new_runs)
                stale = [r for r in new_runs if r[1] == "running"]
                assert stale, "the killed run was closed by nobody"
                outcomes[f"killed {phase}, before the commit"] += 1
            # Every other kill, the next sync runs to the end; otherwise the next kill
            # lands on a store a killed sync just left.
            if kill % 2 == 1:
                _recover_in_process(home, connection_id)
                _assert_mirror_is_truth(running, home, connection_id)
                leftover = [r for r in _runs(database) if r[1] == "running"]
                assert leftover == [], "a killed run still claims to be running"
                interrupted = [r for r in _runs(database) if r[3] == "interrupted"]
                assert all(r[1] == "failed" and r[4] is not None for r in interrupted)

        # The last word: a complete sync from the command line.
        _new_team(running, team_seed=999)
        final, _ = _full_sync(home)
        assert final["ok"] is True
        assert final["status"] == "succeeded"
        _assert_mirror_is_truth(running, home, connection_id)
        assert _integrity(database) == "ok"
        assert [r for r in _runs(database) if r[1] == "running"] == []
    print(f"\nsync crash loop (seed {SEED}, {KILLS} kills, window {work:.2f} s): {dict(outcomes)}")
