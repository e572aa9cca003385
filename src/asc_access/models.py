"""Domain models: frozen, HTTP-free, tolerant of what Apple adds.

Roles are kept as strings: :class:`Role` names the values Apple documents
today, but an unknown role string from Apple is kept as it is, never dropped
and never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from asc_access.ids import AppId, InvitationId, UserId

__all__ = [
    "ALWAYS_ALL_APPS_ROLES",
    "App",
    "Invitation",
    "Role",
    "User",
    "can_restrict_apps",
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


def _capped(all_apps: bool, ids: tuple[AppId, ...] | None, total: int | None) -> bool:
    """Whether an included visible-apps list is shorter than the relationship's total."""
    if all_apps or ids is None or total is None:
        return False
    return total > len(ids)


@dataclass(frozen=True, slots=True)
class App:
    """An app on the team (``type: apps``)."""

    id: AppId
    name: str = ""
    bundle_id: str = ""
    sku: str = ""
    primary_locale: str = ""


@dataclass(frozen=True, slots=True)
class User:
    """A team member (``type: users``).

    ``visible_app_ids`` holds the apps the document carried (``None`` when the
    relationship was not requested); ``visible_apps_total`` is the relationship's
    ``meta.paging.total`` when Apple sent it. When the total is larger than the
    ids we hold, the list was capped by ``limit[visibleApps]`` and must be read
    in full before anyone relies on it.
    """

    id: UserId
    username: str
    first_name: str = ""
    last_name: str = ""
    roles: tuple[str, ...] = ()
    all_apps_visible: bool = False
    provisioning_allowed: bool = False
    visible_app_ids: tuple[AppId, ...] | None = None
    visible_apps_total: int | None = None

    @property
    def email(self) -> str:
        """Apple's ``username`` is the person's sign-in e-mail address."""
        return self.username

    @property
    def is_account_holder(self) -> bool:
        """Whether this is the team's Account Holder (never touched by actions)."""
        return Role.ACCOUNT_HOLDER in self.roles

    @property
    def visible_apps_capped(self) -> bool:
        """Whether the included visible-apps list is shorter than the true count."""
        return _capped(self.all_apps_visible, self.visible_app_ids, self.visible_apps_total)


@dataclass(frozen=True, slots=True)
class Invitation:
    """A pending (or expired) invitation (``type: userInvitations``)."""

    id: InvitationId
    email: str
    first_name: str = ""
    last_name: str = ""
    roles: tuple[str, ...] = ()
    all_apps_visible: bool = False
    provisioning_allowed: bool = False
    expiration_date: datetime | None = None
    visible_app_ids: tuple[AppId, ...] | None = None
    visible_apps_total: int | None = None

    def is_expired(self, now: datetime) -> bool:
        """Whether the invitation's expiry lies before ``now`` (aware datetimes)."""
        return self.expiration_date is not None and self.expiration_date <= now

    @property
    def visible_apps_capped(self) -> bool:
        """Whether the included visible-apps list is shorter than the true count."""
        return _capped(self.all_apps_visible, self.visible_app_ids, self.visible_apps_total)
