"""Regression: a sync whose process was killed left its run ``running`` for ever.

A SIGKILL gives the sync no chance to close its run row (found by
``test_crash_sync``). The next sync of the connection to commit now closes
such rows as ``failed`` with the cause ``interrupted``; a run that was in fact
still alive keeps the last word when it ends.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import Engine

from _support.sandbox import RunningSandbox
from asc_access.config import Settings
from asc_access.runtime import client_for_connection, open_store
from asc_access.store import runs
from asc_access.store.connections import get_connection
from asc_access.sync import sync_connection
from hardening.support import cli


def _connect(running: RunningSandbox) -> tuple[Engine, Settings, int]:
    key = running.keys["admin"]
    result = cli(
        "connect", "acme", "--key-id", key.key_id, "--issuer-id", str(key.issuer_id),
        "--private-key-file", str(key.private_key_file), "--api-url", running.base_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    settings = Settings.from_env()
    engine = open_store(settings)
    return engine, settings, get_connection(engine, "acme").id


def _sync(engine: Engine, settings: Settings, connection_id: int) -> int:
    async def run() -> int:
        async with client_for_connection(engine, settings, "acme") as client:
            return (await sync_connection(engine, client, connection_id)).run_id

    return asyncio.run(run())


def _run(engine: Engine, run_id: int) -> runs.RunRecord:
    with engine.connect() as conn:
        record = runs.get_run(conn, run_id)
    assert record is not None
    return record


def test_next_sync_closes_a_run_its_killed_process_left_running(sandbox: RunningSandbox) -> None:
    engine, settings, connection_id = _connect(sandbox)
    _sync(engine, settings, connection_id)
    # What a process killed mid-sync leaves behind: a run opened and never closed.
    stale = runs.start_run(engine, connection_id, started_at=datetime.now(UTC))
    assert _run(engine, stale).status == "running"

    fresh = _sync(engine, settings, connection_id)

    record = _run(engine, stale)
    assert record.status == "failed"
    assert record.error_cause == runs.INTERRUPTED
    assert record.error_code is None
    assert record.finished_at is not None
    assert f"run {fresh} completed after it" in (record.error_message or "")
    assert _run(engine, fresh).status == "succeeded"
    with engine.connect() as conn:
        assert runs.list_runs(conn, status="running") == []
    # The command line shows it as failed, not running.
    doc = cli("connections", "show", "acme", "--json")
    assert doc.exit_code == 0, doc.stderr


def test_a_run_still_alive_keeps_the_last_word(sandbox: RunningSandbox) -> None:
    engine, settings, connection_id = _connect(sandbox)
    alive = runs.start_run(engine, connection_id, started_at=datetime.now(UTC))
    _sync(engine, settings, connection_id)  # commits while `alive` is still in flight
    assert _run(engine, alive).error_cause == runs.INTERRUPTED
    with engine.begin() as conn:
        runs.finish_run(conn, alive, finished_at=datetime.now(UTC), stats=runs.RunStats())
    assert _run(engine, alive).status == "succeeded"


def test_runs_of_other_connections_and_later_runs_are_left_alone(sandbox: RunningSandbox) -> None:
    engine, _settings, connection_id = _connect(sandbox)
    key = sandbox.keys["admin"]
    other = cli(
        "connect", "other", "--key-id", key.key_id, "--issuer-id", str(key.issuer_id),
        "--private-key-file", str(key.private_key_file), "--api-url", sandbox.base_url,
        "--force",  # the same key under a second name is refused unless forced (issue 11)
    )  # fmt: skip
    assert other.exit_code == 0
    other_id = get_connection(engine, "other").id
    elsewhere = runs.start_run(engine, other_id, started_at=datetime.now(UTC))
    with engine.begin() as conn:
        closed = runs.close_interrupted_runs(
            conn, connection_id, before_run_id=elsewhere + 1, at=datetime.now(UTC)
        )
    assert closed == 0
    later = runs.start_run(engine, connection_id, started_at=datetime.now(UTC))
    with engine.begin() as conn:
        closed = runs.close_interrupted_runs(
            conn, connection_id, before_run_id=later, at=datetime.now(UTC)
        )
    assert closed == 0
    assert _run(engine, elsewhere).status == "running"
    assert _run(engine, later).status == "running"
