"""The team's state and Apple's rules about changing it.

Everything lives in memory: dicts by id, plus cached sorted views (invalidated by
a version counter on every write) so a page of 10,000 users costs the same as a
page of 100.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TypeVar

from asc_access.sandbox import problems, rules
from asc_access.sandbox.records import AppRecord, Clock, InvitationRecord, UserRecord, person_fields
from asc_access.sandbox.views import (
    Filters,
    SortKey,
    app_matches,
    invitation_matches,
    sort_records,
    user_matches,
)
from asc_access.sandbox.vocabulary import can_restrict_apps

__all__ = ["INVITATION_LIFETIME", "World"]

INVITATION_LIFETIME = timedelta(days=3)
_VIEW_CACHE_SIZE = 64

_R = TypeVar("_R", UserRecord, InvitationRecord, AppRecord)
_P = TypeVar("_P", UserRecord, InvitationRecord)


class World:
    """One team: apps, users, invitations, and the rules of Apple's API."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.apps: dict[str, AppRecord] = {}
        self.users: dict[str, UserRecord] = {}
        self.invitations: dict[str, InvitationRecord] = {}
        self.version = 0
        self._seq = 0
        self._views: OrderedDict[tuple[object, ...], list[object]] = OrderedDict()
        self._app_order: dict[str, int] = {}

    # ----- loading -------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def touch(self) -> None:
        """Invalidate cached views after a write."""
        self.version += 1
        self._views.clear()

    def add_app(self, app: AppRecord) -> None:
        """Add an app (seeding)."""
        app.seq = self._next_seq()
        self.apps[app.id] = app
        self._app_order[app.id] = app.seq
        self.touch()

    def add_user(self, user: UserRecord) -> None:
        """Add a member (seeding and invitation acceptance)."""
        self._add_person(user, self.users)

    def add_invitation(self, invitation: InvitationRecord) -> None:
        """Add an invitation as it is (seeding)."""
        self._add_person(invitation, self.invitations)

    def _add_person(self, person: _P, into: dict[str, _P]) -> None:
        """File a member or invitation: next in order, its apps in app order."""
        person.seq = self._next_seq()
        person.visible_app_ids = self._ordered_apps(person.visible_app_ids)
        into[person.id] = person
        self.touch()

    def _ordered_apps(self, ids: Iterable[str]) -> list[str]:
        return sorted(set(ids), key=lambda i: self._app_order.get(i, 0))

    # ----- views ---------------------------------------------------------------------
    def _cached(self, key: tuple[object, ...], build: Callable[[], list[_R]]) -> list[_R]:
        found = self._views.get(key)
        if found is not None:
            self._views.move_to_end(key)
            return found  # type: ignore[return-value]
        view = build()
        self._views[key] = view  # type: ignore[assignment]
        if len(self._views) > _VIEW_CACHE_SIZE:
            self._views.popitem(last=False)
        return view

    def user_view(self, filters: Filters, sort: SortKey) -> list[UserRecord]:
        """Users matching ``filters`` in ``sort`` order (cached until the next write)."""
        keys: dict[str, Callable[[UserRecord], str]] = {
            "username": lambda u: u.username,
            "lastName": lambda u: u.last_name,
        }
        return self._people_view("users", self.users, user_matches, keys, filters, sort)

    def invitation_view(self, filters: Filters, sort: SortKey) -> list[InvitationRecord]:
        """Invitations matching ``filters`` in ``sort`` order."""
        keys: dict[str, Callable[[InvitationRecord], str]] = {
            "email": lambda i: i.email,
            "lastName": lambda i: i.last_name,
        }
        found = self.invitations
        return self._people_view("invitations", found, invitation_matches, keys, filters, sort)

    def _people_view(
        self,
        kind: str,
        people: dict[str, _P],
        matches: Callable[[_P, Filters], bool],
        keys: dict[str, Callable[[_P], str]],
        filters: Filters,
        sort: SortKey,
    ) -> list[_P]:
        """The members or invitations matching ``filters``, sorted (cached until the next write)."""

        def build() -> list[_P]:
            found = [p for p in people.values() if matches(p, filters)]
            return sort_records(found, sort, keys)

        return self._cached((kind, filters, sort), build)

    def app_view(
        self, filters: Filters, sort: SortKey, visible_to: str | None = None
    ) -> list[AppRecord]:
        """Apps matching ``filters``; only those ``visible_to`` a restricted user if given."""

        def build() -> list[AppRecord]:
            allowed = self.visible_apps_of_viewer(visible_to)
            apps = [
                a
                for a in self.apps.values()
                if (allowed is None or a.id in allowed) and app_matches(a, filters)
            ]
            return sort_records(
                apps,
                sort,
                {
                    "name": lambda a: a.name,
                    "bundleId": lambda a: a.bundle_id,
                    "sku": lambda a: a.sku,
                },
            )

        return self._cached(("apps", filters, sort, visible_to), build)

    def visible_apps_of_viewer(self, user_id: str | None) -> frozenset[str] | None:
        """The app ids a restricted user may see (``None``: every app)."""
        if user_id is None:
            return None
        user = self.users.get(user_id)
        if user is None:
            return frozenset()
        if user.all_apps_visible:
            return None
        return frozenset(user.visible_app_ids)

    # ----- reads ---------------------------------------------------------------------
    def user(self, user_id: str) -> UserRecord:
        """The member with ``user_id`` or 404."""
        return _found(self.users, "users", user_id)

    def invitation(self, invitation_id: str) -> InvitationRecord:
        """The invitation with ``invitation_id`` or 404."""
        return _found(self.invitations, "userInvitations", invitation_id)

    def app(self, app_id: str) -> AppRecord:
        """The app with ``app_id`` or 404."""
        return _found(self.apps, "apps", app_id)

    def is_expired(self, invitation: InvitationRecord) -> bool:
        """Whether the invitation's three days are over by the sandbox clock."""
        return invitation.expiration <= self.clock.now_datetime()

    # ----- user rules ----------------------------------------------------------------
    def update_user(
        self,
        user_id: str,
        *,
        roles: list[str] | None = None,
        all_apps_visible: bool | None = None,
        provisioning_allowed: bool | None = None,
        visible_app_ids: list[str] | None = None,
    ) -> UserRecord:
        """PATCH /v1/users/{id}: roles, app access and provisioning in one change."""
        user = self.user(user_id)
        if "ACCOUNT_HOLDER" in user.roles:
            given = {
                "roles": roles,
                "allAppsVisible": all_apps_visible,
                "provisioningAllowed": provisioning_allowed,
            }
            field = next((name for name, value in given.items() if value is not None), None)
            raise problems.entity_error(
                "ENTITY_ERROR.ATTRIBUTE.INVALID.UNMODIFIABLE",
                "The Account Holder's roles and access cannot be changed.",
                f"/data/attributes/{field}" if field else "/data/relationships/visibleApps",
            )
        new_roles = list(user.roles) if roles is None else rules.check_roles(roles)
        restrictable = can_restrict_apps(new_roles)
        if all_apps_visible is None:  # unchanged, unless the new roles always see all apps
            new_all = user.all_apps_visible or not restrictable
        else:
            new_all = all_apps_visible
        rules.check_app_access(new_roles, new_all)
        new_apps = user.visible_app_ids
        if visible_app_ids is not None:
            self._check_app_ids(visible_app_ids, "/data/relationships/visibleApps")
            if new_all and visible_app_ids:
                raise problems.entity_error(
                    "ENTITY_ERROR.RELATIONSHIP.INVALID",
                    "visibleApps can only be set for someone whose app access is limited "
                    "(allAppsVisible false).",
                    "/data/relationships/visibleApps",
                )
            new_apps = self._ordered_apps(visible_app_ids)
        if new_all:
            new_apps = []
        user.roles = new_roles
        user.all_apps_visible = new_all
        if provisioning_allowed is not None:
            user.provisioning_allowed = provisioning_allowed
        user.visible_app_ids = new_apps
        self.touch()
        return user

    def delete_user(self, user_id: str) -> None:
        """DELETE /v1/users/{id}; the Account Holder cannot be removed."""
        user = self.user(user_id)
        if "ACCOUNT_HOLDER" in user.roles:
            raise problems.entity_error(
                "STATE_ERROR.ENTITY_STATE_INVALID",
                "The Account Holder cannot be removed from the team.",
                None,
            )
        del self.users[user_id]
        self.touch()

    def change_visible_apps(self, user_id: str, app_ids: list[str], mode: str) -> None:
        """Linkage writes: ``mode`` is ``add``, ``replace`` or ``remove``."""
        user = self.user(user_id)
        if "ACCOUNT_HOLDER" in user.roles:
            raise problems.entity_error(
                "ENTITY_ERROR.ATTRIBUTE.INVALID.UNMODIFIABLE",
                "The Account Holder's app access cannot be changed.",
                "/data",
            )
        if user.all_apps_visible:
            raise problems.entity_error(
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                "This user can see all apps; set allAppsVisible to false to limit their access.",
                "/data",
            )
        self._check_app_ids(app_ids, "/data")
        current = set(user.visible_app_ids)
        if mode == "add":
            current |= set(app_ids)
        elif mode == "replace":
            current = set(app_ids)
        else:
            current -= set(app_ids)
        user.visible_app_ids = self._ordered_apps(current)
        self.touch()

    def set_roles_out_of_band(
        self, user_id: str, roles: list[str], all_apps_visible: bool | None = None
    ) -> UserRecord:
        """A change made in App Store Connect's web UI (control API)."""
        user = self.user(user_id)
        new_roles = rules.check_roles(roles, allow_account_holder=True)
        user.roles = new_roles
        if not can_restrict_apps(new_roles):
            user.all_apps_visible = True
            user.visible_app_ids = []
        elif all_apps_visible is not None:
            user.all_apps_visible = all_apps_visible
            if all_apps_visible:
                user.visible_app_ids = []
        self.touch()
        return user

    def _check_app_ids(self, app_ids: list[str], pointer: str) -> None:
        unknown = [a for a in app_ids if a not in self.apps]
        if unknown:
            raise problems.entity_error(
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                f"There is no resource of type 'apps' with id '{unknown[0]}'",
                pointer,
            )

    # ----- invitation rules ----------------------------------------------------------
    def create_invitation(
        self,
        *,
        email: str,
        first_name: str,
        last_name: str,
        roles: list[str],
        all_apps_visible: bool | None,
        provisioning_allowed: bool | None,
        visible_app_ids: list[str] | None,
    ) -> InvitationRecord:
        """POST /v1/userInvitations."""
        rules.check_person(email, first_name, last_name)
        new_roles = rules.check_roles(roles)
        folded = email.casefold()
        if any(u.username.casefold() == folded for u in self.users.values()):
            raise rules.duplicate(
                f"A user with the email '{email}' is already a member of this team."
            )
        stale = []
        for existing in self.invitations.values():
            if existing.email.casefold() != folded:
                continue
            if not self.is_expired(existing):
                raise rules.duplicate(f"An invitation for '{email}' is already pending.")
            stale.append(existing.id)
        apps = visible_app_ids or []
        if all_apps_visible is None:
            all_apps_visible = not apps or not can_restrict_apps(new_roles)
        all_visible = rules.check_app_access(new_roles, all_apps_visible)
        self._check_app_ids(apps, "/data/relationships/visibleApps")
        if all_visible and apps:
            raise problems.entity_error(
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                "visibleApps can only be set when allAppsVisible is false.",
                "/data/relationships/visibleApps",
            )
        for stale_id in stale:  # re-inviting after expiry replaces the old invitation
            del self.invitations[stale_id]
        invitation = InvitationRecord(
            id=str(uuid.uuid4()),
            email=email,
            expiration=self.clock.now_datetime() + INVITATION_LIFETIME,
            **person_fields(
                first_name,
                last_name,
                new_roles,
                None if all_visible else apps,
                bool(provisioning_allowed),
            ),
        )
        self.add_invitation(invitation)
        return invitation

    def delete_invitation(self, invitation_id: str) -> None:
        """DELETE /v1/userInvitations/{id} (cancel)."""
        self.invitation(invitation_id)
        del self.invitations[invitation_id]
        self.touch()

    def accept_invitation(self, invitation_id: str, user_id: str | None = None) -> UserRecord:
        """The invitee accepts: the invitation goes, a user with a new id appears."""
        invitation = self.invitation(invitation_id)
        if self.is_expired(invitation):
            raise problems.entity_error(
                "STATE_ERROR.ENTITY_STATE_INVALID",
                "The invitation has expired and can no longer be accepted.",
                None,
            )
        del self.invitations[invitation_id]
        apps = None if invitation.all_apps_visible else invitation.visible_app_ids
        access = person_fields(
            invitation.first_name,
            invitation.last_name,
            invitation.roles,
            apps,
            invitation.provisioning_allowed,
        )
        user = UserRecord(id=user_id or str(uuid.uuid4()), username=invitation.email, **access)
        self.add_user(user)
        return user

    def expire_invitation(self, invitation_id: str) -> InvitationRecord:
        """Make an invitation expired now (control API)."""
        invitation = self.invitation(invitation_id)
        invitation.expiration = self.clock.now_datetime() - timedelta(seconds=1)
        self.touch()
        return invitation


def _found(records: dict[str, _R], kind: str, record_id: str) -> _R:
    """The record with ``record_id``, or Apple's 404 for a ``kind`` resource."""
    found = records.get(record_id)
    if found is None:
        raise problems.not_found(kind, record_id)
    return found
