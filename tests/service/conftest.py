"""Fixtures for the service tests: an app in-process, and the same app on a real port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from _support.service import (
    ADMIN_TOKEN,
    LiveServer,
    allowing,
    lifespan,
    postgres_schema,
    serve_in_thread,
)
from asc_access.config import Settings
from asc_access.service import create_app


def _env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The service's environment; a test that uses the sandbox has it allowed."""
    env = {"ASC_ACCESS_HOME": str(tmp_path / "home"), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN}
    if "sandbox" in request.fixturenames:
        env = allowing(env, request.getfixturevalue("sandbox").base_url)
    return env


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings with a fixed admin token and a store in the test's own home."""
    return Settings.from_env(_env(request, tmp_path))


@pytest.fixture(params=["sqlite", "postgres"])
def any_store_client_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings on SQLite, then on a fresh PostgreSQL schema."""
    env = _env(request, tmp_path)
    if request.param == "sqlite":
        yield Settings.from_env(env)
        return
    with postgres_schema(request.getfixturevalue("postgres_url")) as url:
        yield Settings.from_env({**env, "ASC_ACCESS_DATABASE_URL": url})


@pytest.fixture
async def any_store_client(
    any_store_client_settings: Settings,
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of a service on SQLite or on PostgreSQL."""
    app = create_app(any_store_client_settings, scheduler=False)
    try:
        async with (
            lifespan(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="https://testserver"
            ) as c,
        ):
            yield c
    finally:
        app.state.ctx.engine.dispose()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The service with scheduling off (tests start syncs themselves)."""
    return create_app(settings, scheduler=False)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client (no socket), lifespan running, https so Secure cookies flow."""
    async with (
        lifespan(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://testserver"
        ) as c,
    ):
        yield c


@pytest.fixture
def admin() -> dict[str, str]:
    """The admin's Authorization header."""
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def live(app: FastAPI) -> Iterator[LiveServer]:
    """The same app served by uvicorn on a free loopback port."""
    with serve_in_thread(app) as server:
        yield server
