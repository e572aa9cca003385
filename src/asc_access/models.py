"""Domain models: frozen, HTTP-free, tolerant of what Apple adds.

Roles are kept as strings: :class:`Role` names the values Apple documents
today, but an unknown role string from Apple is kept as it is, never dropped
and never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from asc_access.ids import AppId, InvitationId, UserId

__all__ = [
    "ALWAYS_ALL_APPS_ROLES",
    "App",
    "AppLike",
    "Invitation",
    "InvitationApps",
    "Person",
    "Role",
    "TeamSource",
    "User",
    "UserAppIds",
    "can_restrict_apps",
    "describe_app_choices",
    "match_app",
]


class Role(StrEnum):
    """UserRole values in Apple's spec 4.4.1 (13 values)."""

    ADMIN = "ADMIN"
    FINANCE = "FINANCE"
    ACCOUNT_HOLDER = "ACCOUNT_HOLDER"
    SALES = "SALES"
    MARKETING = "MARKETING"
    APP_MANAGER = "APP_MANAGER"
    DEVELOPER = "DEVELOPER"
    ACCESS_TO_REPORTS = "ACCESS_TO_REPORTS"
    CUSTOMER_SUPPORT = "CUSTOMER_SUPPORT"
    CREATE_APPS = "CREATE_APPS"
    CLOUD_MANAGED_DEVELOPER_ID = "CLOUD_MANAGED_DEVELOPER_ID"
    CLOUD_MANAGED_APP_DISTRIBUTION = "CLOUD_MANAGED_APP_DISTRIBUTION"
    GENERATE_INDIVIDUAL_KEYS = "GENERATE_INDIVIDUAL_KEYS"


#: Holding any of these means the person always sees every app (Apple's help pages).
ALWAYS_ALL_APPS_ROLES: frozenset[str] = frozenset(
    {Role.ACCOUNT_HOLDER, Role.ADMIN, Role.FINANCE, Role.ACCESS_TO_REPORTS}
)


def can_restrict_apps(roles: tuple[str, ...] | list[str] | frozenset[str]) -> bool:
    """Whether Apple lets app access be limited for someone with these roles."""
    return not (set(roles) & ALWAYS_ALL_APPS_ROLES)


@dataclass(frozen=True, slots=True)
class App:
    """An app on the team (``type: apps``)."""

    id: AppId
    name: str = ""
    bundle_id: str = ""
    sku: str = ""
    primary_locale: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """What a team member and an invitation share: a name, roles and app access.

    ``visible_app_ids`` holds the apps the document carried (``None`` when the
    relationship was not requested); ``visible_apps_total`` is the relationship's
    ``meta.paging.total`` when Apple sent it. When the total is larger than the
    ids we hold, the list was capped by ``limit[visibleApps]`` and must be read
    in full before anyone relies on it.
    """

    first_name: str = ""
    last_name: str = ""
    roles: tuple[str, ...] = ()
    all_apps_visible: bool = False
    provisioning_allowed: bool = False
    visible_app_ids: tuple[AppId, ...] | None = None
    visible_apps_total: int | None = None

    @property
    def visible_apps_capped(self) -> bool:
        """Whether the included visible-apps list is shorter than the true count."""
        ids, total = self.visible_app_ids, self.visible_apps_total
        if self.all_apps_visible or ids is None or total is None:
            return False
        return total > len(ids)


@dataclass(frozen=True, slots=True)
class User(Person):
    """A team member (``type: users``): ``User(id, username, first_name=..., ...)``."""

    id: UserId
    username: str

    @property
    def email(self) -> str:
        """Apple's ``username`` is the person's sign-in e-mail address."""
        return self.username

    @property
    def is_account_holder(self) -> bool:
        """Whether this is the team's Account Holder (never touched by actions)."""
        return Role.ACCOUNT_HOLDER in self.roles


@dataclass(frozen=True, slots=True)
class Invitation(Person):
    """A pending (or expired) invitation (``type: userInvitations``)."""

    id: InvitationId
    email: str
    expiration_date: datetime | None = field(default=None, kw_only=True)

    def is_expired(self, now: datetime) -> bool:
        """Whether the invitation's expiry lies before ``now`` (aware datetimes)."""
        return self.expiration_date is not None and self.expiration_date <= now


class AppLike(Protocol):
    """Anything with an app's id, bundle id and name (an :class:`App`, a mirrored app)."""

    @property
    def id(self) -> str:
        """Apple's app id."""

    @property
    def bundle_id(self) -> str:
        """The bundle id."""

    @property
    def name(self) -> str:
        """The app's name."""


A = TypeVar("A", bound=AppLike)


def match_app(ref: str, apps: Iterable[A]) -> list[A]:
    """The apps of one team that ``ref`` names: the one shared rule for every command.

    An exact app id wins; else a bundle id, then a name, both case-insensitive.
    More than one match (two apps with that name) means the reference is
    ambiguous; none means the team has no such app.
    """
    wanted = ref.strip()
    folded = wanted.casefold()
    candidates = list(apps)
    by_id = [a for a in candidates if a.id == wanted]
    if by_id:
        return by_id
    by_bundle = [a for a in candidates if a.bundle_id and a.bundle_id.casefold() == folded]
    if by_bundle:
        return by_bundle
    return [a for a in candidates if a.name and a.name.strip().casefold() == folded]


def describe_app_choices(apps: Sequence[AppLike]) -> str:
    """``com.a (Notes, 123), com.b (Notes, 456)`` for an ambiguity message."""
    return ", ".join(f"{a.bundle_id or a.id} ({a.name}, {a.id})" for a in apps)


# -- the shapes a team's API offers (the sync and the actions each declare more) --------

U_co = TypeVar("U_co", covariant=True)
I_co = TypeVar("I_co", covariant=True)
P_co = TypeVar("P_co", covariant=True)


class TeamSource(Protocol[U_co, I_co, P_co]):
    """One team's App Store Connect API: its users, invitations and apps.

    :class:`asc_access.sync.SyncSource` and
    :class:`asc_access.actions.ProvisioningSource` each name what they need of
    the three collections (the API client satisfies both).
    """

    @property
    def users(self) -> U_co:
        """Members."""
        ...

    @property
    def invitations(self) -> I_co:
        """Invitations."""
        ...

    @property
    def apps(self) -> P_co:
        """Apps."""
        ...


class UserAppIds(Protocol):
    """A member's app ids: ``GET /v1/users/{id}/relationships/visibleApps``, all pages."""

    async def visible_app_ids(self, user_id: UserId) -> Sequence[AppId]:
        """Every app id the user can see (all pages of the linkages)."""
        ...


class InvitationApps(Protocol):
    """An invitation's apps: ``GET /v1/userInvitations/{id}/visibleApps``, all pages."""

    async def visible_apps(self, invitation_id: InvitationId) -> Sequence[App]:
        """Every app the invitation grants (all pages)."""
        ...
