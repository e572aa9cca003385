"""An in-memory App Store Connect for the planner/executor unit tests.

It satisfies :class:`asc_access.actions.source.ProvisioningSource` and plays
Apple's rules that matter here: one member or pending invitation per e-mail
(409), no app limits for roles that see all apps (409), the Account Holder
cannot be removed (409), unknown ids (404), included visible apps capped at
50 with the true total. Every write is recorded so tests can assert that a
refused action never reached "Apple". End-to-end tests use the real sandbox.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from asc_access.errors import AppleError, ConflictError, ResourceNotFoundError
from asc_access.ids import AppId, InvitationId, UserId
from asc_access.models import App, Invitation, User, can_restrict_apps

CAP = 50


@dataclass(frozen=True)
class Info:
    method: str
    path: str
    status: int
    request_id: str | None


def _conflict(method: str, path: str, code: str, detail: str) -> ConflictError:
    return ConflictError(
        detail,
        method=method,
        path=path,
        status=409,
        errors=(AppleError(status="409", code=code, title="conflict", detail=detail),),
        request_id="req-conflict",
    )


def _not_found(method: str, path: str) -> ResourceNotFoundError:
    return ResourceNotFoundError(
        "not found",
        method=method,
        path=path,
        status=404,
        errors=(AppleError(status="404", code="NOT_FOUND", title="not found"),),
    )


@dataclass
class FakeApple:
    users: dict[str, User] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)
    apps: dict[str, App] = field(default_factory=dict)
    writes: list[tuple[str, str]] = field(default_factory=list)
    reads: int = 0
    fail: dict[str, Exception] = field(default_factory=dict)  # "POST /v1/userInvitations" -> error
    lose_writes: set[str] = field(default_factory=set)  # accepted but not applied
    fail_after: dict[str, Exception] = field(default_factory=dict)  # applied, then an error
    last_response: Info | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.users_api = _Users(self)
        self.invitations_api = _Invitations(self)
        self.apps_api = _Apps(self)

    # -- staging --
    def add_app(self, app_id: str, bundle_id: str) -> None:
        self.apps[app_id] = App(AppId(app_id), name=bundle_id, bundle_id=bundle_id)

    def add_user(
        self,
        email: str,
        roles: Sequence[str],
        apps: Sequence[str] | None = None,
        provisioning: bool = False,
    ) -> User:
        uid = f"u{next(self._ids)}"
        user = User(
            UserId(uid),
            email,
            first_name="F",
            last_name="L",
            roles=tuple(roles),
            all_apps_visible=apps is None,
            provisioning_allowed=provisioning,
            visible_app_ids=None if apps is None else tuple(AppId(a) for a in apps),
        )
        self.users[uid] = user
        return user

    def add_invitation(
        self,
        email: str,
        roles: Sequence[str],
        apps: Sequence[str] | None = None,
        *,
        expires: datetime | None = None,
    ) -> Invitation:
        iid = f"i{next(self._ids)}"
        inv = Invitation(
            InvitationId(iid),
            email,
            first_name="F",
            last_name="L",
            roles=tuple(roles),
            all_apps_visible=apps is None,
            expiration_date=expires or datetime.now(UTC) + timedelta(days=3),
            visible_app_ids=None if apps is None else tuple(AppId(a) for a in apps),
        )
        self.invitations[iid] = inv
        return inv

    # -- plumbing --
    def answer(self, method: str, path: str, status: int = 200) -> None:
        rid = f"req-{next(self._ids)}"
        self.last_response = Info(method, path, status, rid)

    def check_fault(self, method: str, path: str) -> None:
        for key, error in list(self.fail.items()):
            m, _, prefix = key.partition(" ")
            if m == method and path.startswith(prefix):
                del self.fail[key]
                raise error

    def write(self, method: str, path: str) -> bool:
        """Record a write; False when it should be 'lost' (accepted, not applied)."""
        self.check_fault(method, path)
        self.writes.append((method, path))
        self.answer(method, path)
        return f"{method} {path}" not in self.lose_writes

    def after_write(self, method: str, path: str) -> None:
        """Raise the error staged to follow an applied write (the answer got lost)."""
        for key, error in list(self.fail_after.items()):
            m, _, prefix = key.partition(" ")
            if m == method and path.startswith(prefix):
                del self.fail_after[key]
                raise error

    @property
    def source(self) -> FakeSource:
        return FakeSource(self)


def _capped(
    ids: tuple[AppId, ...] | None, include: bool
) -> tuple[tuple[AppId, ...] | None, int | None]:
    if not include or ids is None:
        return None, None
    return ids[:CAP], len(ids)


class _Users:
    def __init__(self, apple: FakeApple) -> None:
        self.apple = apple

    async def list(
        self,
        *,
        roles: list[str] | None = None,
        username: str | None = None,
        include_visible_apps: bool = False,
    ) -> list[User]:
        self.apple.check_fault("GET", "/v1/users")
        self.apple.reads += 1
        self.apple.answer("GET", "/v1/users")
        out = []
        for user in self.apple.users.values():
            if username is not None and user.username != username:
                continue
            if roles is not None and not set(roles) & set(user.roles):
                continue
            ids, total = _capped(user.visible_app_ids, include_visible_apps)
            if include_visible_apps and user.all_apps_visible:
                ids, total = (), 0
            out.append(replace(user, visible_app_ids=ids, visible_apps_total=total))
        return out

    def _get(self, method: str, user_id: str) -> User:
        if user_id not in self.apple.users:
            raise _not_found(method, f"/v1/users/{user_id}")
        return self.apple.users[user_id]

    async def update(
        self,
        user_id: UserId,
        *,
        roles: list[str] | None = None,
        all_apps_visible: bool | None = None,
        provisioning_allowed: bool | None = None,
        visible_app_ids: list[AppId] | None = None,
    ) -> User:
        path = f"/v1/users/{user_id}"
        user = self._get("PATCH", user_id)
        new_roles = tuple(roles) if roles is not None else user.roles
        all_apps = user.all_apps_visible if all_apps_visible is None else all_apps_visible
        if not can_restrict_apps(new_roles):
            if all_apps_visible is False or visible_app_ids is not None:
                raise _conflict("PATCH", path, "ENTITY_ERROR.ATTRIBUTE.INVALID", "cannot limit")
            all_apps = True
        if user.is_account_holder:
            raise _conflict("PATCH", path, "ENTITY_ERROR.ATTRIBUTE.INVALID.UNMODIFIABLE", "AH")
        if not self.apple.write("PATCH", path):
            return user
        ids = user.visible_app_ids
        if visible_app_ids is not None:
            ids = tuple(visible_app_ids)
        if all_apps:
            ids = None
        elif ids is None:
            ids = ()
        new = replace(
            user,
            roles=new_roles,
            all_apps_visible=all_apps,
            provisioning_allowed=(
                user.provisioning_allowed if provisioning_allowed is None else provisioning_allowed
            ),
            visible_app_ids=ids,
        )
        self.apple.users[user_id] = new
        return new

    async def delete(self, user_id: UserId) -> None:
        path = f"/v1/users/{user_id}"
        user = self._get("DELETE", user_id)
        if user.is_account_holder:
            raise _conflict("DELETE", path, "ENTITY_ERROR.ATTRIBUTE.INVALID", "account holder")
        if self.apple.write("DELETE", path):
            del self.apple.users[user_id]
        self.apple.after_write("DELETE", path)

    async def visible_app_ids(self, user_id: UserId) -> list[AppId]:
        self.apple.reads += 1
        self.apple.answer("GET", f"/v1/users/{user_id}/relationships/visibleApps")
        return list(self._get("GET", user_id).visible_app_ids or ())

    async def _linkage(self, method: str, user_id: UserId, ids: list[AppId], add: bool) -> None:
        path = f"/v1/users/{user_id}/relationships/visibleApps"
        user = self._get(method, user_id)
        if not can_restrict_apps(user.roles):
            raise _conflict(method, path, "ENTITY_ERROR.RELATIONSHIP.INVALID", "all apps role")
        if not self.apple.write(method, path):
            return
        current = list(user.visible_app_ids or ())
        if add:
            new = current + [i for i in ids if i not in current]
        else:
            new = [i for i in current if i not in ids]
        self.apple.users[user_id] = replace(
            user, visible_app_ids=tuple(new), all_apps_visible=False
        )

    async def add_visible_apps(self, user_id: UserId, ids: list[AppId]) -> None:
        await self._linkage("POST", user_id, ids, True)

    async def remove_visible_apps(self, user_id: UserId, ids: list[AppId]) -> None:
        await self._linkage("DELETE", user_id, ids, False)


class _Invitations:
    def __init__(self, apple: FakeApple) -> None:
        self.apple = apple

    async def list(
        self, *, email: str | None = None, include_visible_apps: bool = False
    ) -> list[Invitation]:
        self.apple.check_fault("GET", "/v1/userInvitations")
        self.apple.reads += 1
        self.apple.answer("GET", "/v1/userInvitations")
        out = []
        for inv in self.apple.invitations.values():
            if email is not None and inv.email != email:
                continue
            ids, total = _capped(inv.visible_app_ids, include_visible_apps)
            if include_visible_apps and inv.all_apps_visible:
                ids, total = (), 0
            out.append(replace(inv, visible_app_ids=ids, visible_apps_total=total))
        return out

    async def create(
        self,
        *,
        email: str,
        first_name: str,
        last_name: str,
        roles: list[str],
        all_apps_visible: bool | None = None,
        provisioning_allowed: bool | None = None,
        visible_app_ids: list[AppId] | None = None,
    ) -> Invitation:
        path = "/v1/userInvitations"
        taken = any(u.username == email for u in self.apple.users.values()) or any(
            i.email == email for i in self.apple.invitations.values()
        )
        if taken:
            raise _conflict("POST", path, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE", "taken")
        if not can_restrict_apps(roles) and all_apps_visible is False:
            raise _conflict("POST", path, "ENTITY_ERROR.ATTRIBUTE.INVALID", "cannot limit")
        applied = self.apple.write("POST", path)
        iid = f"i{next(self.apple._ids)}"
        inv = Invitation(
            InvitationId(iid),
            email,
            first_name=first_name,
            last_name=last_name,
            roles=tuple(roles),
            all_apps_visible=bool(all_apps_visible),
            provisioning_allowed=bool(provisioning_allowed),
            expiration_date=datetime.now(UTC) + timedelta(days=3),
            visible_app_ids=None if all_apps_visible else tuple(visible_app_ids or ()),
        )
        if applied:
            self.apple.invitations[iid] = inv
        self.apple.after_write("POST", path)
        return inv

    async def delete(self, invitation_id: InvitationId) -> None:
        path = f"/v1/userInvitations/{invitation_id}"
        if invitation_id not in self.apple.invitations:
            raise _not_found("DELETE", path)
        if self.apple.write("DELETE", path):
            del self.apple.invitations[invitation_id]

    async def visible_apps(self, invitation_id: InvitationId) -> list[App]:
        self.apple.reads += 1
        self.apple.answer("GET", f"/v1/userInvitations/{invitation_id}/visibleApps")
        inv = self.apple.invitations[invitation_id]
        return [self.apple.apps.get(a, App(a)) for a in inv.visible_app_ids or ()]


class _Apps:
    def __init__(self, apple: FakeApple) -> None:
        self.apple = apple

    async def list(
        self, *, ids: list[str] | None = None, bundle_ids: list[str] | None = None
    ) -> list[App]:
        self.apple.reads += 1
        self.apple.answer("GET", "/v1/apps")
        out = list(self.apple.apps.values())
        if ids is not None:
            out = [a for a in out if a.id in ids]
        if bundle_ids is not None:
            out = [a for a in out if a.bundle_id in bundle_ids]
        return out


class FakeSource:
    """The ProvisioningSource view of a FakeApple."""

    def __init__(self, apple: FakeApple) -> None:
        self._apple = apple

    @property
    def users(self) -> _Users:
        return self._apple.users_api

    @property
    def invitations(self) -> _Invitations:
        return self._apple.invitations_api

    @property
    def apps(self) -> _Apps:
        return self._apple.apps_api

    @property
    def last_response(self) -> Info | None:
        return self._apple.last_response


def demo_apple() -> FakeApple:
    """A small team: an Account Holder, two admins, developers, one pending invitation."""
    apple = FakeApple()
    for n in range(1, 61):
        apple.add_app(str(1000 + n), f"com.example.app{n}")
    apple.add_user("holder@example.com", ["ACCOUNT_HOLDER", "ADMIN"])
    apple.add_user("admin1@example.com", ["ADMIN"])
    apple.add_user("admin2@example.com", ["ADMIN"])
    apple.add_user("dev@example.com", ["DEVELOPER"], ["1001", "1002"])
    apple.add_user("many@example.com", ["DEVELOPER"], [str(1000 + n) for n in range(1, 56)])
    apple.add_user("finance@example.com", ["FINANCE"])
    apple.add_invitation("pending@example.com", ["DEVELOPER"], ["1001"])
    return apple
