"""Small value types shared by the API client's modules (no HTTP in here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar, runtime_checkable

from asc_access.errors import RateLimitSnapshot
from asc_access.ids import AppId
from asc_access.models import App

__all__ = ["Page", "ResponseInfo", "TokenSource"]

T = TypeVar("T")


@runtime_checkable
class TokenSource(Protocol):
    """Where the client gets its bearer tokens.

    ``asc_access.credentials.TokenManager`` satisfies it. ``token()`` returns a
    signed JWT (cached by the source, refreshed before it expires);
    ``invalidate()`` drops the cached token after Apple answered 401, so the
    next ``token()`` mints a fresh one. A source may also carry a ``key_id``
    attribute: the client uses it as the rate-budget key.
    """

    def token(self) -> str:
        """A currently valid bearer token (never logged by the client)."""
        ...

    def invalidate(self) -> None:
        """Forget the cached token: the next ``token()`` mints a new one."""
        ...


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """What the client remembers about the latest HTTP response it received."""

    method: str
    path: str
    status: int
    request_id: str | None
    rate_limit: RateLimitSnapshot | None
    date: datetime | None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a collection.

    ``included_apps`` holds the ``apps`` resources Apple put in ``included[]``
    (``include=visibleApps``); ``total`` is ``meta.paging.total`` when sent;
    ``limit`` is the page size Apple reports (or the one requested);
    ``next_url`` is ``links.next`` (absent on the last page).
    """

    items: list[T]
    included_apps: dict[AppId, App] = field(default_factory=dict)
    total: int | None = None
    limit: int = 0
    next_url: str | None = None
