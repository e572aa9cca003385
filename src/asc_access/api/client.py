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

from asc_access.api.ratelimit import RateBudget
from asc_access.api.resources import AppsResource, InvitationsResource, UsersResource
from asc_access.api.retry import RetryPolicy
from asc_access.api.transport import AsyncTransport, Sleep, Transport
from asc_access.api.types import ResponseInfo, TokenSource
from asc_access.config import APPLE_API_URL
from asc_access.errors import RateLimitSnapshot

__all__ = ["AppStoreConnectClient"]


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

    @property
    def base_url(self) -> str:
        """The API's base URL (Apple's, or the sandbox's)."""
        return self._transport.base_url

    @property
    def key_id(self) -> str:
        """The key id requests are paced under (``"default"`` when unknown)."""
        return self._transport.key_id

    @property
    def budget(self) -> RateBudget:
        """The rate budget in use."""
        return self._transport.budget

    @property
    def rate_limit(self) -> RateLimitSnapshot | None:
        """The latest ``X-Rate-Limit`` Apple sent (``None`` before any)."""
        return self._transport.rate_limit

    @property
    def request_count(self) -> int:
        """HTTP requests actually sent, retries and re-sends included."""
        return self._transport.request_count

    @property
    def last_response(self) -> ResponseInfo | None:
        """Facts about the latest response received (any status)."""
        return self._transport.last_response

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
