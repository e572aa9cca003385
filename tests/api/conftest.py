"""Fakes for the API client's unit tests: tokens, a clock that sleeps instantly, a scripted Apple.

Unit tests talk to ``httpx.MockTransport`` handlers; nothing here patches the
client. End-to-end tests (``tests/api/e2e``) use the real sandbox instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from asc_access.api import AppStoreConnectClient, RetryPolicy

BASE_URL = "https://api.test"
RATE = "user-hour-lim:3600;user-hour-rem:3500;"


class FakeTokens:
    """A token source that hands out ``fake-token-N`` and counts mints and invalidations."""

    key_id = "FAKEKEY123"

    def __init__(self) -> None:
        self.minted = 0
        self.invalidated = 0
        self._current: str | None = None

    def token(self) -> str:
        if self._current is None:
            self.minted += 1
            self._current = f"fake-token-{self.minted}"
        return self._current

    def invalidate(self) -> None:
        self.invalidated += 1
        self._current = None


class Es256Tokens:
    """Real ES256 tokens (PyJWT, a P-256 key generated now), cached like the TokenManager."""

    def __init__(self, key_id: str = "ES256KEY01", issuer_id: str = "57246542-96fe-1a63") -> None:
        self.key_id = key_id
        self.issuer_id = issuer_id
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = self._key.public_key()
        self.minted = 0
        self._current: str | None = None

    def token(self) -> str:
        if self._current is None:
            now = int(time.time())
            claims = {"iss": self.issuer_id, "iat": now - 60, "exp": now + 600}
            claims["aud"] = "appstoreconnect-v1"
            self._current = jwt.encode(
                claims, self._key, algorithm="ES256", headers={"kid": self.key_id, "typ": "JWT"}
            )
            self.minted += 1
        return self._current

    def invalidate(self) -> None:
        self._current = None

    def verify(self, authorization: str) -> dict[str, Any]:
        scheme, _, token = authorization.partition(" ")
        assert scheme == "Bearer"
        header = jwt.get_unverified_header(token)
        assert header == {"alg": "ES256", "kid": self.key_id, "typ": "JWT"}
        claims: dict[str, Any] = jwt.decode(
            token, self.public_key, algorithms=["ES256"], audience="appstoreconnect-v1"
        )
        return claims


@dataclass
class FakeClock:
    """Monotonic time that only moves when the client sleeps (or a test advances it)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """A handler answering requests from a list, in order, and recording every request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    @property
    def tokens_sent(self) -> list[str]:
        return [r.headers["authorization"] for r in self.requests]


def ok(document: Any, status: int = 200, **headers: str) -> httpx.Response:
    """A JSON success response with an ``X-Rate-Limit`` header (unless one is given)."""
    merged = {"X-Rate-Limit": RATE, "x-request-id": "req-ok", **_headers(headers)}
    return httpx.Response(status, content=json.dumps(document).encode(), headers=merged)


def fail(
    status: int,
    code: str | None = None,
    title: str = "An error",
    detail: str | None = "Something specific",
    **headers: str,
) -> httpx.Response:
    """An Apple error document response (no document when ``code`` is ``None``)."""
    merged = {"X-Rate-Limit": RATE, "x-request-id": f"req-{status}", **_headers(headers)}
    if code is None:
        return httpx.Response(status, content=b"<html>oops</html>", headers=merged)
    error: dict[str, Any] = {"id": "e-1", "status": str(status), "code": code, "title": title}
    if detail is not None:
        error["detail"] = detail
    return httpx.Response(status, json={"errors": [error]}, headers=merged)


def _headers(given: dict[str, str]) -> dict[str, str]:
    return {name.replace("_", "-"): value for name, value in given.items()}


def user(ident: str, username: str | None = None, **attributes: Any) -> dict[str, Any]:
    """A ``users`` resource object."""
    attrs = {
        "username": username or f"{ident}@example.com",
        "firstName": "First",
        "lastName": ident.title(),
        "roles": ["DEVELOPER"],
        "allAppsVisible": False,
        "provisioningAllowed": False,
        **attributes,
    }
    return {
        "type": "users",
        "id": ident,
        "attributes": attrs,
        "links": {"self": f"{BASE_URL}/v1/users/{ident}"},
    }


def app(ident: str, name: str | None = None) -> dict[str, Any]:
    """An ``apps`` resource object."""
    return {
        "type": "apps",
        "id": ident,
        "attributes": {
            "name": name or f"App {ident}",
            "bundleId": f"com.example.app{ident}",
            "sku": f"SKU{ident}",
            "primaryLocale": "en-US",
        },
        "links": {"self": f"{BASE_URL}/v1/apps/{ident}"},
    }


def collection(items: list[dict[str, Any]], next_url: str | None = None, **extra: Any) -> Any:
    """A collection document."""
    links = {"self": f"{BASE_URL}/v1/x"}
    if next_url:
        links["next"] = next_url
    return {"data": items, "links": links, **extra}


class Helpers:
    """The module-level helpers, reachable from tests through the ``h`` fixture."""

    BASE_URL = BASE_URL
    RATE = RATE
    Script = Script
    FakeTokens = FakeTokens
    Es256Tokens = Es256Tokens
    ok = staticmethod(ok)
    fail = staticmethod(fail)
    user = staticmethod(user)
    app = staticmethod(app)
    collection = staticmethod(collection)


@pytest.fixture
def h() -> type[Helpers]:
    """Response builders and fakes."""
    return Helpers


@pytest.fixture
def clock() -> FakeClock:
    """A fake monotonic clock whose ``sleep`` returns at once and advances it."""
    return FakeClock()


@pytest.fixture
def tokens() -> FakeTokens:
    """A fake token source."""
    return FakeTokens()


ClientFactory = Callable[..., AppStoreConnectClient]


@pytest.fixture
async def make_client(
    clock: FakeClock, tokens: FakeTokens
) -> AsyncIterator[Callable[..., AppStoreConnectClient]]:
    """Build clients on a MockTransport handler with the fake clock; all closed at teardown."""
    made: list[AppStoreConnectClient] = []

    def factory(handler: Callable[[httpx.Request], Any], **options: Any) -> AppStoreConnectClient:
        options.setdefault("tokens", tokens)
        options.setdefault("base_url", BASE_URL)
        options.setdefault("sleep", clock.sleep)
        options.setdefault("clock", clock)
        options.setdefault("retry", RetryPolicy(jitter=lambda delay: delay))
        client = AppStoreConnectClient(transport=httpx.MockTransport(handler), **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()
