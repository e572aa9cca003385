"""What the sync needs from a source of App Store Connect data — and nothing more.

The API client (``asc_access.api.AppStoreConnectClient``) satisfies
:class:`SyncSource` structurally; the sync never imports it. Tests can pass any
object of the same shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, TypeVar

from asc_access.errors import RateLimitSnapshot
from asc_access.models import App, Invitation, InvitationApps, TeamSource, User, UserAppIds

__all__ = [
    "APP_FIELDS",
    "AppPages",
    "InvitationPages",
    "PageLike",
    "SyncSource",
    "UserPages",
]

T_co = TypeVar("T_co", covariant=True)

#: The app attributes the mirror keeps (small pages: ``fields[apps]``).
APP_FIELDS: tuple[str, ...] = ("name", "bundleId", "sku", "primaryLocale")


class PageLike(Protocol[T_co]):
    """One page of a collection: its items and ``meta.paging.total``."""

    @property
    def items(self) -> Sequence[T_co]:
        """The resources on this page."""
        ...

    @property
    def total(self) -> int | None:
        """``meta.paging.total`` when Apple sent it."""
        ...


class _PersonPages(Protocol[T_co]):
    """Pages of people (members or invitations), each with its first visible apps."""

    def pages(
        self,
        *,
        include_visible_apps: bool = ...,
        limit: int = ...,
        visible_apps_limit: int = ...,
    ) -> AsyncIterator[PageLike[T_co]]:
        """The collection page by page, following ``links.next``."""
        ...


class UserPages(_PersonPages[User], UserAppIds, Protocol):
    """``client.users``: pages of members (``GET /v1/users``), and one member's app ids."""


class InvitationPages(_PersonPages[Invitation], InvitationApps, Protocol):
    """``client.invitations``: pages of invitations, and one invitation's apps."""


class AppPages(Protocol):
    """``client.apps``: pages of apps."""

    def pages(
        self, *, fields: tuple[str, ...] = ..., limit: int = ...
    ) -> AsyncIterator[PageLike[App]]:
        """``GET /v1/apps`` page by page."""
        ...


class SyncSource(TeamSource[UserPages, InvitationPages, AppPages], Protocol):
    """Everything a sync reads (members, invitations, apps), plus the counters it reports."""

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far (retries included)."""
        ...

    @property
    def rate_limit(self) -> RateLimitSnapshot | None:
        """The latest ``X-Rate-Limit`` seen."""
        ...
