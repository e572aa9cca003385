"""The mirror of one connection as plain values: what a sync compares and writes.

A :class:`Snapshot` is the complete picture of a team (members, invitations,
apps and who sees which app). Rows are normalised so that two snapshots of an
unchanged team compare equal: e-mails lower-cased, roles sorted, no app rows
for people who see all apps, datetimes in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from asc_access.models import App, Invitation, User
from asc_access.store.timeutil import as_utc_or_none

__all__ = [
    "MirrorApp",
    "MirrorInvitation",
    "MirrorUser",
    "Snapshot",
    "normalise_email",
]


def normalise_email(email: str) -> str:
    """The form e-mails are stored and matched in (trimmed, lower case)."""
    return email.strip().lower()


def _roles(roles: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(roles)))


@dataclass(frozen=True, slots=True)
class MirrorUser:
    """A member as mirrored; ``app_ids`` is empty when ``all_apps_visible``."""

    user_id: str
    username: str
    first_name: str = ""
    last_name: str = ""
    roles: tuple[str, ...] = ()
    all_apps_visible: bool = False
    provisioning_allowed: bool = False
    app_ids: frozenset[str] = frozenset()

    @classmethod
    def from_model(cls, user: User, app_ids: Iterable[str] | None = None) -> MirrorUser:
        """From an API model; ``app_ids`` overrides the (possibly capped) included list."""
        ids: Iterable[str] = app_ids if app_ids is not None else (user.visible_app_ids or ())
        return cls(
            user_id=user.id,
            username=normalise_email(user.username),
            first_name=user.first_name,
            last_name=user.last_name,
            roles=_roles(user.roles),
            all_apps_visible=user.all_apps_visible,
            provisioning_allowed=user.provisioning_allowed,
            app_ids=frozenset() if user.all_apps_visible else frozenset(ids),
        )

    def row_differs(self, other: MirrorUser) -> bool:
        """Whether the ``users`` row (everything but the app list) differs."""
        return (
            self.username,
            self.first_name,
            self.last_name,
            self.roles,
            self.all_apps_visible,
            self.provisioning_allowed,
        ) != (
            other.username,
            other.first_name,
            other.last_name,
            other.roles,
            other.all_apps_visible,
            other.provisioning_allowed,
        )


@dataclass(frozen=True, slots=True)
class MirrorInvitation:
    """An invitation as mirrored; ``expired`` is judged by the writer's clock."""

    invitation_id: str
    email: str
    first_name: str = ""
    last_name: str = ""
    roles: tuple[str, ...] = ()
    all_apps_visible: bool = False
    provisioning_allowed: bool = False
    expiration_date: datetime | None = None
    expired: bool = False
    app_ids: frozenset[str] = frozenset()

    @classmethod
    def from_model(
        cls, invitation: Invitation, *, now: datetime, app_ids: Iterable[str] | None = None
    ) -> MirrorInvitation:
        """From an API model, judging expiry at ``now``."""
        ids: Iterable[str] = app_ids if app_ids is not None else (invitation.visible_app_ids or ())
        return cls(
            invitation_id=invitation.id,
            email=normalise_email(invitation.email),
            first_name=invitation.first_name,
            last_name=invitation.last_name,
            roles=_roles(invitation.roles),
            all_apps_visible=invitation.all_apps_visible,
            provisioning_allowed=invitation.provisioning_allowed,
            expiration_date=as_utc_or_none(invitation.expiration_date),
            expired=invitation.is_expired(now),
            app_ids=frozenset() if invitation.all_apps_visible else frozenset(ids),
        )

    def row_differs(self, other: MirrorInvitation) -> bool:
        """Whether the ``invitations`` row (everything but the app list) differs."""
        return (
            self.email,
            self.first_name,
            self.last_name,
            self.roles,
            self.all_apps_visible,
            self.provisioning_allowed,
            self.expiration_date,
            self.expired,
        ) != (
            other.email,
            other.first_name,
            other.last_name,
            other.roles,
            other.all_apps_visible,
            other.provisioning_allowed,
            other.expiration_date,
            other.expired,
        )


@dataclass(frozen=True, slots=True)
class MirrorApp:
    """An app as mirrored."""

    app_id: str
    name: str = ""
    bundle_id: str = ""
    sku: str = ""
    primary_locale: str = ""

    @classmethod
    def from_model(cls, app: App) -> MirrorApp:
        """From an API model."""
        return cls(app.id, app.name, app.bundle_id, app.sku, app.primary_locale)


@dataclass(slots=True)
class Snapshot:
    """A team's complete picture, keyed by Apple id."""

    users: dict[str, MirrorUser] = field(default_factory=dict)
    invitations: dict[str, MirrorInvitation] = field(default_factory=dict)
    apps: dict[str, MirrorApp] = field(default_factory=dict)

    def count(self) -> int:
        """How many members, invitations and apps it holds."""
        return len(self.users) + len(self.invitations) + len(self.apps)
