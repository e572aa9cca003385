"""Reading a whole team with the fewest requests Apple's API allows.

- members: ``GET /v1/users?include=visibleApps&limit=200&limit[visibleApps]=50``;
  a follow-up (``/v1/users/{id}/relationships/visibleApps``, all pages) only for
  a restricted member whose included list was capped; people who see all apps
  need nothing more;
- invitations: the same shape (follow-up ``/v1/userInvitations/{id}/visibleApps``);
- apps: ``GET /v1/apps?fields[apps]=name,bundleId,sku,primaryLocale&limit=200``.

The three streams run concurrently; follow-ups start as soon as the page that
needs them arrives, two at a time (the members' pages are the longest chain:
follow-ups must not hold them up). Everything is kept in memory and
de-duplicated by id; nothing is written until the whole team is read. One
failing read cancels the others and is raised as it is.

Each page is handled only after the next page's request (made by the pager
before it hands a page over) has left, so that work overlaps the round trip;
members are turned into mirror rows as their page arrives, not in one pass at
the end.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Container, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from asc_access.ids import InvitationId, UserId
from asc_access.models import Invitation, User
from asc_access.store.snapshot import MirrorApp, MirrorInvitation, MirrorUser, Snapshot
from asc_access.sync.progress import ProgressTracker
from asc_access.sync.source import APP_FIELDS, PageLike, SyncSource

__all__ = [
    "PAGE_LIMIT",
    "RELATIONSHIP_PAGE_LIMIT",
    "VISIBLE_APPS_LIMIT",
    "FetchStats",
    "TeamReader",
]

PAGE_LIMIT = 200  #: Apple's maximum ``limit``
VISIBLE_APPS_LIMIT = 50  #: Apple's maximum ``limit[visibleApps]``
RELATIONSHIP_PAGE_LIMIT = 200  #: maximum ``limit`` of a relationship / related read

#: Event-loop turns a request needs to reach the wire (about 5 measured: 1 ours, 4 httpx's).
_SEND_TURNS = 8


def pages_needed(items: int, per_page: int) -> int:
    """Requests to read ``items`` at ``per_page`` a page (an empty list still costs one)."""
    return max(1, math.ceil(items / per_page))


@dataclass(slots=True)
class FetchStats:
    """What reading the team took."""

    users: int = 0
    invitations: int = 0
    apps: int = 0
    user_follow_ups: int = 0  #: capped members read in full
    invitation_follow_ups: int = 0
    follow_up_requests: int = 0  #: the fewest requests those reads can take
    duplicates: int = 0  #: items seen twice while paging (kept once)

    @property
    def lower_bound(self) -> int:
        """The fewest requests this team can be read with."""
        return (
            pages_needed(self.users, PAGE_LIMIT)
            + pages_needed(self.invitations, PAGE_LIMIT)
            + pages_needed(self.apps, PAGE_LIMIT)
            + self.follow_up_requests
        )


@dataclass(slots=True)
class _Collected:
    #: members as mirrored, built as their page arrives (overlapping the next page's round
    #: trip); a member whose app list is being read in full is replaced when it comes back
    users: dict[str, MirrorUser] = field(default_factory=dict)
    user_apps: dict[str, tuple[str, ...]] = field(default_factory=dict)  #: read in full
    user_waiting: dict[str, User] = field(default_factory=dict)  #: their app list is on its way
    invitations: dict[str, Invitation] = field(default_factory=dict)
    invitation_apps: dict[str, tuple[str, ...]] = field(default_factory=dict)
    apps: dict[str, MirrorApp] = field(default_factory=dict)


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


_Item = TypeVar("_Item", bound=_Identified)


async def _let_the_next_page_leave() -> None:
    """Give the loop a few turns, so the next page's request (already made) goes out.

    The pager asks for page n+1 before handing page n over; the request leaves
    only when the loop gets a turn, so the work on page n waits for that first.
    """
    for _ in range(_SEND_TURNS):
        await asyncio.sleep(0)


def _needs_follow_up(item: User | Invitation, limit: int) -> bool:
    """Whether the included app list may be incomplete (never for all-apps people)."""
    if item.all_apps_visible:
        return False
    if item.visible_app_ids is None:
        return True  # relationship not sent: we cannot know
    if item.visible_apps_capped:
        return True
    return item.visible_apps_total is None and len(item.visible_app_ids) >= limit


class TeamReader:
    """Reads one team into a :class:`~asc_access.store.snapshot.Snapshot`."""

    def __init__(
        self,
        source: SyncSource,
        progress: ProgressTracker,
        *,
        follow_up_concurrency: int = 2,
        clock: Callable[[], datetime],
    ) -> None:
        self.source = source
        self.progress = progress
        self.stats = FetchStats()
        self._clock = clock
        self._limit = asyncio.Semaphore(max(1, follow_up_concurrency))
        self._got = _Collected()
        self._group: asyncio.TaskGroup | None = None

    async def read(self) -> Snapshot:
        """Read everything (raising the first failure), then build the snapshot."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            group.create_task(self._users())
            group.create_task(self._invitations())
            group.create_task(self._apps())
        self._group = None
        return self._snapshot()

    def _spawn_follow_up(self, coro: Coroutine[Any, Any, None]) -> None:
        assert self._group is not None
        self.progress.grow("app lists")
        self._group.create_task(coro)

    async def _pages(
        self, stream: str, pages: AsyncIterator[PageLike[_Item]], seen: Container[str]
    ) -> AsyncIterator[Sequence[_Item]]:
        """Each page's items once the next page's request has left; duplicates and progress.

        ``seen`` holds the ids already collected: an item seen again (cursor drift
        while the team changes) is counted in :attr:`FetchStats.duplicates`.
        """
        async for page in pages:
            await _let_the_next_page_leave()
            items = page.items
            self.stats.duplicates += sum(1 for item in items if item.id in seen)
            yield items
            self.progress.page(stream, len(items), page.total)
        self.progress.finish(stream)

    async def _users(self) -> None:
        pages = self.source.users.pages(
            include_visible_apps=True, limit=PAGE_LIMIT, visible_apps_limit=VISIBLE_APPS_LIMIT
        )
        got = self._got
        async for users in self._pages("users", pages, got.users):
            for user in users:
                if user.id in got.user_waiting:
                    got.user_waiting[user.id] = user
                    continue
                full = got.user_apps.get(user.id)
                got.users[user.id] = MirrorUser.from_model(user, full)
                if full is None and _needs_follow_up(user, VISIBLE_APPS_LIMIT):
                    got.user_waiting[user.id] = user
                    self._spawn_follow_up(self._user_follow_up(user))

    async def _user_follow_up(self, user: User) -> None:
        async with self._limit:
            ids = await self.source.users.visible_app_ids(UserId(user.id))
        got = self._got
        got.user_apps[user.id] = tuple(ids)
        latest = got.user_waiting.pop(user.id, user)
        got.users[user.id] = MirrorUser.from_model(latest, got.user_apps[user.id])
        self.stats.user_follow_ups += 1
        self.stats.follow_up_requests += pages_needed(len(ids), RELATIONSHIP_PAGE_LIMIT)
        self.progress.item_done("app lists")

    async def _invitations(self) -> None:
        pages = self.source.invitations.pages(
            include_visible_apps=True, limit=PAGE_LIMIT, visible_apps_limit=VISIBLE_APPS_LIMIT
        )
        async for invitations in self._pages("invitations", pages, self._got.invitations):
            for invitation in invitations:
                self._got.invitations[invitation.id] = invitation
                if (
                    _needs_follow_up(invitation, VISIBLE_APPS_LIMIT)
                    and invitation.id not in self._got.invitation_apps
                ):
                    self._got.invitation_apps[invitation.id] = ()
                    self._spawn_follow_up(self._invitation_follow_up(invitation))

    async def _invitation_follow_up(self, invitation: Invitation) -> None:
        async with self._limit:
            apps = await self.source.invitations.visible_apps(InvitationId(invitation.id))
        self._got.invitation_apps[invitation.id] = tuple(app.id for app in apps)
        self.stats.invitation_follow_ups += 1
        self.stats.follow_up_requests += pages_needed(len(apps), RELATIONSHIP_PAGE_LIMIT)
        self.progress.item_done("app lists")

    async def _apps(self) -> None:
        pages = self.source.apps.pages(fields=APP_FIELDS, limit=PAGE_LIMIT)
        async for apps in self._pages("apps", pages, self._got.apps):
            for app in apps:
                self._got.apps[app.id] = MirrorApp.from_model(app)

    def _snapshot(self) -> Snapshot:
        self.progress.finish("app lists")
        now = self._clock()
        got = self._got
        snapshot = Snapshot(users=got.users, apps=got.apps)
        for invitation_id, invitation in got.invitations.items():
            snapshot.invitations[invitation_id] = MirrorInvitation.from_model(
                invitation, now=now, app_ids=got.invitation_apps.get(invitation_id)
            )
        self.stats.users = len(snapshot.users)
        self.stats.invitations = len(snapshot.invitations)
        self.stats.apps = len(snapshot.apps)
        return snapshot
