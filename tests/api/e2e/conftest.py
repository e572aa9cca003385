"""End-to-end fixtures: the real client, real ES256 tokens, the sandbox on a real port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from asc_access.api import AppStoreConnectClient, RetryPolicy
from asc_access.credentials import TokenManager, load_credentials


class QuickSleep:
    """Records the waits the client asks for and yields to the loop instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def token_manager(running: Any, key: str = "admin") -> TokenManager:
    """The connect helper's TokenManager for one of the sandbox's keys (loaded like a user's)."""
    sandbox_key = running.keys[key]
    environ = {
        "ASC_KEY_ID": sandbox_key.key_id,
        "ASC_PRIVATE_KEY_PATH": str(sandbox_key.private_key_file),
    }
    if sandbox_key.issuer_id:
        environ["ASC_ISSUER_ID"] = sandbox_key.issuer_id
    return TokenManager(load_credentials(environ=environ))


@pytest.fixture
def tokens_for() -> Callable[..., TokenManager]:
    """``tokens_for(running, key)``: a TokenManager for a sandbox key."""
    return token_manager


@pytest.fixture
def quick_sleep() -> QuickSleep:
    """A sleep that records and returns at once (retries and pacing stay fast)."""
    return QuickSleep()


@pytest.fixture
async def connect(
    quick_sleep: QuickSleep,
) -> AsyncIterator[Callable[..., AppStoreConnectClient]]:
    """``connect(running, key="admin", **options)``: a client on the sandbox; closed at teardown."""
    made: list[AppStoreConnectClient] = []

    def factory(running: Any, key: str = "admin", **options: Any) -> AppStoreConnectClient:
        tokens = options.pop("tokens", None) or token_manager(running, key)
        options.setdefault("sleep", quick_sleep)
        options.setdefault("retry", RetryPolicy(jitter=lambda delay: delay))
        options.setdefault("base_url", running.base_url)
        client = AppStoreConnectClient(tokens, **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()
