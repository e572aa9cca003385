"""In-process scheduling: each connection on its own interval, one sync at a time, switchable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from _support.service import ADMIN_TOKEN, lifespan
from asc_access.config import Settings
from asc_access.errors import SyncError
from asc_access.service import create_app
from asc_access.service.library import due_connections, open_store
from asc_access.service.scheduler import Scheduler
from asc_access.service.syncing import SyncManager
from asc_access.store import schema

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


async def test_tick_starts_due_syncs_once_each() -> None:
    gate = asyncio.Event()
    calls: list[str] = []

    async def runner(name: str, request_key: str) -> object:
        calls.append(name)
        assert request_key.startswith("schedule:")
        await gate.wait()
        return None

    syncs = SyncManager(runner, clock=_clock)
    ticker = Scheduler(syncs, lambda now: ["a", "b"], clock=_clock, tick=60)
    assert await ticker.tick_once() == ["a", "b"]
    await asyncio.sleep(0)
    # Still running: the next tick starts nothing twice.
    assert await ticker.tick_once() == []
    assert syncs.running_names() == ["a", "b"]
    gate.set()
    await syncs.wait("a")
    await syncs.wait("b")
    assert sorted(calls) == ["a", "b"]
    assert await ticker.tick_once() == ["a", "b"]
    await syncs.aclose()


async def test_failures_before_a_run_is_recorded_are_kept() -> None:
    async def runner(name: str, request_key: str) -> object:
        raise SyncError("the key could not be decrypted", code=None, cause="secret_store")

    syncs = SyncManager(runner, clock=_clock)
    assert syncs.start("a", "k1")
    await syncs.wait("a")
    failure = syncs.early_failures["a"]
    assert failure.cause == "secret_store"
    assert failure.at == NOW


def _add_connection(settings: Settings, name: str, interval: int, *, key: bool = True) -> int:
    engine = open_store(settings)
    with engine.begin() as conn:
        result = conn.execute(
            insert(schema.connections).values(
                name=name,
                key_id="ABCDE12345",
                issuer_id=None,
                key_type="individual",
                api_url="http://127.0.0.1:9",
                encrypted_private_key=b"x" if key else None,
                sync_interval_seconds=interval,
                healthy=True,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        return int(result.inserted_primary_key[0])


def _add_run(settings: Settings, connection_id: int, started: datetime, status: str) -> None:
    with open_store(settings).begin() as conn:
        conn.execute(
            insert(schema.sync_runs).values(
                connection_id=connection_id, status=status, started_at=started, requests_used=0
            )
        )


def test_each_connection_is_due_on_its_own_interval(tmp_path: Path) -> None:
    settings = Settings.from_env({"ASC_ACCESS_HOME": str(tmp_path)})
    hourly = _add_connection(settings, "hourly", 3600)
    five = _add_connection(settings, "five-minutes", 300)
    _add_connection(settings, "never-synced", 3600)
    _add_connection(settings, "off", 0)
    _add_connection(settings, "no-key", 60, key=False)
    _add_run(settings, hourly, NOW - timedelta(minutes=30), "succeeded")
    _add_run(settings, five, NOW - timedelta(minutes=6), "failed")
    due = due_connections(open_store(settings))
    assert due(NOW) == ["five-minutes", "never-synced"]
    assert due(NOW + timedelta(minutes=31)) == ["five-minutes", "hourly", "never-synced"]


async def test_the_app_lifespan_runs_the_scheduler(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"ASC_ACCESS_HOME": str(tmp_path), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN}
    )
    started = asyncio.Event()

    async def runner(name: str, request_key: str) -> object:
        started.set()
        return None

    app = create_app(
        settings, scheduler_tick=0.01, sync_runner=runner, due_connections=lambda now: ["x"]
    )
    async with lifespan(app):
        await asyncio.wait_for(started.wait(), timeout=5)
        assert app.state.scheduler.running
    assert not app.state.scheduler.running


async def test_the_scheduler_can_be_turned_off(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"ASC_ACCESS_HOME": str(tmp_path), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN}
    )
    calls: list[str] = []

    async def runner(name: str, request_key: str) -> object:
        calls.append(name)
        return None

    app = create_app(
        settings,
        scheduler=False,
        scheduler_tick=0.01,
        sync_runner=runner,
        due_connections=lambda now: ["x"],
    )
    async with lifespan(app):
        await asyncio.sleep(0.1)
        assert not app.state.scheduler.running
    assert calls == []


async def test_serve_s_factory_turns_the_scheduler_off_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `asc-access serve` loads the service by uvicorn's factory string (app_from_env);
    # --no-scheduler reaches it through ASC_ACCESS_SERVE_SCHEDULER.
    from asc_access.service.app import app_from_env

    monkeypatch.setenv("ASC_ACCESS_HOME", str(tmp_path))
    monkeypatch.setenv("ASC_ACCESS_API_TOKEN", ADMIN_TOKEN)
    for flag, running in (("0", False), ("1", True)):
        monkeypatch.setenv("ASC_ACCESS_SERVE_SCHEDULER", flag)
        app = app_from_env()
        async with lifespan(app):
            assert app.state.scheduler.running is running
