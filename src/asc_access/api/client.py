"""``AppStoreConnectClient``: the library's entry point (what a platform embedding us calls).

::

    async with AppStoreConnectClient(TokenManager(credentials)) as client:
        users, apps = await asyncio.gather(client.users.list(), client.apps.list())

Independent requests may run concurrently (at most ``max_concurrency`` on the
wire at once: Apple answers heavy parallelism with 429s and 5xx). Everything
the client raises is an :class:`~asc_access.errors.ApiError` (or a
``UsageError`` for arguments it can check itself) carrying the method, path,
status, Apple's ``errors[]``, request id and rate-limit snapshot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

from asc_access.api.ratelimit import RateBudget
from asc_access.api.resources import AppsResource, InvitationsResource, UsersResource
from asc_access.api.retry import RetryPolicy
from asc_access.api.transport import AsyncTransport, Sleep, Transport
from asc_access.api.types import ResponseInfo, TokenSource
from asc_access.config import APPLE_API_URL
from asc_access.errors import RateLimitSnapshot

__all__ = ["AppStoreConnectClient"]

V = TypeVar("V")


class _FromTransport(property, Generic[V]):
    """A read-only property of the client: its transport's attribute ``name``."""

    def __init__(self, name: str, doc: str) -> None:
        super().__init__(lambda client: getattr(client._transport, name), doc=doc)

    @overload
    def __get__(self, client: None, owner: type | None = None, /) -> Self: ...
    @overload
    def __get__(self, client: AppStoreConnectClient, owner: type | None = None, /) -> V: ...
    def __get__(self, client: AppStoreConnectClient | None, owner: type | None = None, /) -> Any:
        return super().__get__(client, owner)


class AppStoreConnectClient:
    """An async App Store Connect API client for one key and one base URL.

    ``tokens`` supplies bearer tokens (``asc_access.credentials.TokenManager``).
    ``transport`` is an httpx async transport (``httpx.MockTransport`` in tests;
    default: a real connection pool). ``sleep`` and ``clock`` drive every wait
    (retries, pacing). ``retry`` bounds the retry loop; ``budget`` paces by
    the key's hourly rate budget (default: an in-memory
    :class:`~asc_access.api.ratelimit.PacingBudget`), keyed by ``key_id``
    (default: ``tokens.key_id`` when the source has one).
    """

    def __init__(
        self,
        tokens: TokenSource,
        *,
        base_url: str = APPLE_API_URL,
        transport: AsyncTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
        budget: RateBudget | None = None,
        timeout: float = 30.0,
        key_id: str | None = None,
        max_concurrency: int = 4,
    ) -> None:
        self._transport = Transport(
            tokens,
            base_url=base_url,
            transport=transport,
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            retry=retry,
            budget=budget,
            key_id=key_id,
            timeout=timeout,
            max_concurrency=max_concurrency,
        )
        self.users = UsersResource(self._transport)
        self.invitations = InvitationsResource(self._transport)
        self.apps = AppsResource(self._transport)

    base_url = _FromTransport[str]("base_url", "The API's base URL (Apple's, or the sandbox's).")
    key_id = _FromTransport[str](
        "key_id", 'The key id requests are paced under (``"default"`` when unknown).'
    )
    budget = _FromTransport[RateBudget]("budget", "The rate budget in use.")
    rate_limit = _FromTransport[RateLimitSnapshot | None](
        "rate_limit", "The latest ``X-Rate-Limit`` Apple sent (``None`` before any)."
    )
    request_count = _FromTransport[int](
        "request_count", "HTTP requests actually sent, retries and re-sends included."
    )
    last_response = _FromTransport[ResponseInfo | None](
        "last_response", "Facts about the latest response received (any status)."
    )

    @property
    def server_date(self) -> datetime | None:
        """Apple's clock: the ``Date`` header of the latest response (aware), if any."""
        info = self._transport.last_response
        return info.date if info else None

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    async def __aenter__(self) -> AppStoreConnectClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
