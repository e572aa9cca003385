"""Fixtures for the identity tests: the service in-process with tokens of every role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from _support.service import ADMIN_TOKEN, allowing, lifespan
from asc_access.config import Settings
from asc_access.service import create_app
from asc_access.store.tokens import create_token


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings with a fixed admin token and a store in the test's own home.

    A test that uses the sandbox has its origin allowed (the service calls only
    Apple's and the listed origins).
    """
    env = {"ASC_ACCESS_HOME": str(tmp_path / "home"), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN}
    if "sandbox" in request.fixturenames:
        env = allowing(env, request.getfixturevalue("sandbox").base_url)
    return Settings.from_env(env)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The service with scheduling off."""
    return create_app(settings, scheduler=False)


@pytest.fixture
def role_tokens(app: FastAPI) -> dict[str, str]:
    """A named token of each role, and the admin token itself (``admin-token``)."""
    engine = app.state.ctx.engine
    tokens = {"admin-token": ADMIN_TOKEN}
    for role in ("viewer", "operator", "admin"):
        _, tokens[role] = create_token(engine, f"a-{role}", role=role)
    return tokens


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client (https so Secure cookies flow)."""
    async with (
        lifespan(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://testserver"
        ) as c,
    ):
        yield c
