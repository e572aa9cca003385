"""Small value types shared by the API client's modules (no HTTP in here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar, runtime_checkable

from asc_access.errors import RateLimitSnapshot
from asc_access.ids import AppId
from asc_access.models import App

__all__ = ["IncludedApps", "Page", "ResponseInfo", "TokenSource"]

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


class IncludedApps(Mapping[AppId, App]):
    """A page's ``included[]`` apps, decoded the first time they are looked at.

    A sync reads only the members' own app ids, never the included apps (the apps
    stream reads every app), and decoding ~1,000 of them on each member page cost
    about a tenth of its CPU. A malformed included app raises
    :class:`~asc_access.errors.UnexpectedResponseError` when first looked at.
    """

    __slots__ = ("_apps", "_decode")

    def __init__(self, decode: Callable[[], dict[AppId, App]]) -> None:
        self._decode: Callable[[], dict[AppId, App]] | None = decode
        self._apps: dict[AppId, App] = {}

    def _decoded(self) -> dict[AppId, App]:
        if self._decode is not None:
            self._apps = self._decode()
            self._decode = None
        return self._apps

    def __getitem__(self, key: AppId) -> App:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[AppId]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return "IncludedApps(not decoded yet)" if self._decode else f"IncludedApps({self._apps!r})"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a collection.

    ``included_apps`` holds the ``apps`` resources Apple put in ``included[]``
    (``include=visibleApps``), decoded on first use (:class:`IncludedApps`);
    ``total`` is ``meta.paging.total`` when sent; ``limit`` is the page size Apple
    reports (or the one requested);
    ``next_url`` is ``links.next`` (absent on the last page).
    """

    items: list[T]
    included_apps: Mapping[AppId, App] = field(default_factory=dict)
    total: int | None = None
    limit: int = 0
    next_url: str | None = None
