"""Brute force: failed bearer tokens and console sign-ins are throttled, and weak tokens refused.

A burst of wrong tokens from one client is slowed down to a 429 with
``Retry-After`` (before the token is even checked), other clients are not
affected until the overall window fills, every refusal is logged without the
token, and a configured ``ASC_ACCESS_API_TOKEN`` under 128 bits stops the start.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from _support.service import ADMIN_TOKEN, csrf_of, lifespan
from asc_access.config import Settings
from asc_access.errors import UsageError
from asc_access.service import create_app
from asc_access.service.throttle import AuthThrottle
from asc_access.store.tokens import _new_secret, token_entropy_bits


async def _client(settings: Settings, throttle: AuthThrottle) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, scheduler=False, auth_throttle=throttle)
    async with lifespan(app):
        yield httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://t")
    app.state.ctx.engine.dispose()


@pytest.fixture
async def throttled(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The service with the default windows (20 per client, 200 overall, per minute)."""
    async for c in _client(settings, AuthThrottle()):
        yield c


def _as(client: httpx.AsyncClient, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=client._transport.app, client=(address, 5000))  # type: ignore[attr-defined]
    return httpx.AsyncClient(transport=transport, base_url="https://t")


async def test_a_burst_of_wrong_bearer_tokens_is_throttled(
    throttled: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="asc_access.service.auth")
    guesses = [f"guess-{secrets.token_hex(8)}" for _ in range(300)]
    statuses = []
    async with _as(throttled, "203.0.113.7") as attacker:
        for guess in guesses:
            r = await attacker.get("/api/v1/users", headers={"Authorization": f"Bearer {guess}"})
            statuses.append(r.status_code)
        assert statuses[:20] == [401] * 20
        assert set(statuses[20:]) == {429}, statuses
        assert int(r.headers["Retry-After"]) >= 1
        assert r.json()["cause"] == "auth_throttled"
        # Even the right token waits while this client's window is full.
        blocked = await attacker.get(
            "/api/v1/users", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert blocked.status_code == 429
    async with _as(throttled, "198.51.100.2") as someone_else:
        ok = await someone_else.get(
            "/api/v1/users", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert ok.status_code == 200
    logged = caplog.text
    assert "authentication failed (bearer): 203.0.113.7, token_invalid" in logged
    assert "authentication throttled (bearer): 203.0.113.7" in logged
    assert not any(g in logged for g in guesses)  # recorded without the tokens


async def test_failures_from_many_clients_fill_the_overall_window(settings: Settings) -> None:
    async for client in _client(settings, AuthThrottle("5/minute;12/minute")):
        seen = []
        for n in range(16):
            async with _as(client, f"192.0.2.{n}") as c:
                r = await c.get("/api/v1/users", headers={"Authorization": "Bearer wrong"})
                seen.append(r.status_code)
        assert seen[:12] == [401] * 12
        assert set(seen[12:]) == {429}
        assert "Retry-After" in r.headers


async def test_console_sign_in_is_throttled(settings: Settings) -> None:
    async for client in _client(settings, AuthThrottle("3/minute;100/minute")):
        async with _as(client, "203.0.113.9") as c:
            codes = []
            for _ in range(5):
                page = await c.get("/login")
                r = await c.post(
                    "/login",
                    data={"token": "not-it", "csrf_token": csrf_of(page), "next": "/connections"},
                )
                codes.append(r.status_code)
            assert codes == [401, 401, 401, 429, 429]
            assert int(r.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("weak", ["t", "password1234", "a" * 64, "abab" * 20, "0123456789abcdef"])
def test_a_weak_configured_token_is_refused_at_start(tmp_path: Path, weak: str) -> None:
    settings = Settings.from_env({"ASC_ACCESS_HOME": str(tmp_path), "ASC_ACCESS_API_TOKEN": weak})
    with pytest.raises(UsageError, match="ASC_ACCESS_API_TOKEN is too weak") as info:
        create_app(settings, scheduler=False)
    assert "128" in str(info.value)
    if len(weak) >= 8:
        assert weak not in str(info.value)


def test_generated_and_long_random_tokens_pass() -> None:
    for _ in range(50):
        assert token_entropy_bits(_new_secret()) >= 128
        assert token_entropy_bits(secrets.token_hex(16)) >= 128
        assert token_entropy_bits(secrets.token_urlsafe(22)) >= 128
    assert token_entropy_bits(ADMIN_TOKEN) >= 128


async def test_with_a_broker_every_service_process_counts_the_same_failures(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASC_ACCESS_KEY_PREFIX", f"asc-test-{secrets.token_hex(6)}:")
    monkeypatch.setenv("ASC_ACCESS_AUTH_THROTTLE", "6/minute;100/minute")
    env = {
        "ASC_ACCESS_HOME": str(tmp_path / "home"),
        "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN,
        "ASC_ACCESS_BROKER_URL": redis_url,
    }
    first = create_app(Settings.from_env(env), scheduler=False)
    second = create_app(Settings.from_env(env), scheduler=False)  # another process's windows
    codes = []
    for n in range(8):
        app = first if n % 2 == 0 else second
        transport = httpx.ASGITransport(app=app, client=("203.0.113.50", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as c:
            r = await c.get("/api/v1/users", headers={"Authorization": "Bearer wrong-guess"})
            codes.append(r.status_code)
    assert codes == [401] * 6 + [429, 429]
    for app in (first, second):
        app.state.ctx.engine.dispose()
