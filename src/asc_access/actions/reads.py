"""Fresh reads from Apple that plans and executions rely on.

Everything here returns *complete* visible-app lists: when an included list
was capped by ``limit[visibleApps]`` (or not sent), the full list is read
before anyone compares or writes it. Nothing downstream ever sees a truncated
include.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from asc_access.actions.access import Access
from asc_access.actions.source import ProvisioningSource
from asc_access.errors import NotFoundLocallyError, UsageError
from asc_access.ids import AppId
from asc_access.models import Invitation, Role, User, describe_app_choices, match_app

__all__ = [
    "PersonState",
    "app_labels",
    "complete_team",
    "normalise_email",
    "other_admins",
    "read_person",
    "resolve_app_map",
    "resolve_apps",
]

_ID_CHUNK = 50


def normalise_email(email: str) -> str:
    """The form e-mails are matched in: trimmed and lower-cased."""
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class PersonState:
    """What Apple shows for one e-mail on one team, with complete app lists."""

    email: str
    member: User | None
    invitations: tuple[Invitation, ...]

    @property
    def member_access(self) -> Access | None:
        """The member's access, or ``None`` when not a member."""
        return Access.of_user(self.member) if self.member else None

    @property
    def is_account_holder(self) -> bool:
        """Whether the e-mail is the team's Account Holder."""
        return self.member is not None and self.member.is_account_holder


async def _complete_user(source: ProvisioningSource, user: User) -> User:
    if user.all_apps_visible:
        return user
    if user.visible_app_ids is not None and not user.visible_apps_capped:
        return user
    ids = tuple(await source.users.visible_app_ids(user.id))
    return replace(user, visible_app_ids=ids, visible_apps_total=len(ids))


async def _complete_invitation(source: ProvisioningSource, inv: Invitation) -> Invitation:
    if inv.all_apps_visible:
        return inv
    if inv.visible_app_ids is not None and not inv.visible_apps_capped:
        return inv
    apps = await source.invitations.visible_apps(inv.id)
    ids = tuple(app.id for app in apps)
    return replace(inv, visible_app_ids=ids, visible_apps_total=len(ids))


async def read_person(source: ProvisioningSource, email: str) -> PersonState:
    """Read the member and the invitations for ``email`` from Apple, complete.

    Uses ``filter[username]`` / ``filter[email]`` with ``include=visibleApps``
    and follows up with the full visible-apps read only when the include was
    capped (two requests for most people).
    """
    wanted = normalise_email(email)
    users = await source.users.list(username=email.strip(), include_visible_apps=True)
    members = [u for u in users if normalise_email(u.username) == wanted]
    member = await _complete_user(source, members[0]) if members else None
    found = await source.invitations.list(email=email.strip(), include_visible_apps=True)
    invitations = tuple(
        [
            await _complete_invitation(source, inv)
            for inv in found
            if normalise_email(inv.email) == wanted
        ]
    )
    return PersonState(email=wanted, member=member, invitations=invitations)


async def other_admins(source: ProvisioningSource, *, besides: str) -> list[User]:
    """Admins on the team other than ``besides`` and other than the Account Holder."""
    admins = await source.users.list(roles=[Role.ADMIN.value])
    skip = normalise_email(besides)
    return [
        u
        for u in admins
        if Role.ADMIN in u.roles and not u.is_account_holder and normalise_email(u.username) != skip
    ]


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _ID_CHUNK):
        yield list(values[start : start + _ID_CHUNK])


async def resolve_apps(
    source: ProvisioningSource, refs: Iterable[str], *, team: str
) -> tuple[AppId, ...]:
    """Sorted app ids for references that are app ids, bundle ids or names (read from Apple)."""
    return tuple(sorted(set((await resolve_app_map(source, refs, team=team)).values())))


async def resolve_app_map(
    source: ProvisioningSource, refs: Iterable[str], *, team: str
) -> dict[str, AppId]:
    """Each reference (app id, bundle id or app name) mapped to its app id, read from Apple.

    A reference with a dot is looked up as a bundle id, anything else as an app
    id (one filtered request each per 50); whatever that does not find is
    matched against the team's full app list by :func:`asc_access.models.match_app`
    (bundle ids and names, case-insensitive). Raises :class:`UsageError` for a
    name that fits several apps and :class:`NotFoundLocallyError` naming every
    reference the team does not have.
    """
    wanted = [r.strip() for r in refs if r.strip()]
    if not wanted:
        return {}
    by_bundle = sorted({r for r in wanted if "." in r})
    by_id = sorted({r for r in wanted if "." not in r})
    found_ids: dict[str, AppId] = {}
    for chunk in _chunks(by_id):
        for app in await source.apps.list(ids=chunk):
            found_ids[app.id] = app.id
    for chunk in _chunks(by_bundle):
        for app in await source.apps.list(bundle_ids=chunk):
            found_ids[app.bundle_id] = app.id
    if any(r not in found_ids for r in wanted):
        found_ids.update(
            await _match_by_name(source, [r for r in wanted if r not in found_ids], team)
        )
    missing = [r for r in wanted if r not in found_ids]
    if missing:
        raise NotFoundLocallyError(
            f"no such app on team {team}: "
            + ", ".join(missing)
            + " (give an app id, a bundle id or an app name; `asc-access apps` lists them)",
            context={"apps": missing, "connection": team},
        )
    return {r: found_ids[r] for r in wanted}


async def _match_by_name(
    source: ProvisioningSource, refs: Sequence[str], team: str
) -> dict[str, AppId]:
    """Resolve references against the team's full app list (names, any-case bundle ids)."""
    apps = list(await source.apps.list())
    found: dict[str, AppId] = {}
    for ref in refs:
        matches = match_app(ref, apps)
        if len(matches) > 1:
            raise UsageError(
                f"{ref!r} names {len(matches)} apps on team {team}: "
                f"{describe_app_choices(matches)}; give the bundle id or the app id"
            )
        if matches:
            found[ref] = matches[0].id
    return found


async def app_labels(source: ProvisioningSource, ids: Sequence[str]) -> dict[str, str]:
    """Bundle ids (or names) of the given app ids, for plans people read (one request per 50)."""
    labels: dict[str, str] = {}
    for chunk in _chunks(sorted(set(ids))):
        for app in await source.apps.list(ids=chunk):
            labels[app.id] = app.bundle_id or app.name or app.id
    return labels


async def complete_team(
    source: ProvisioningSource,
) -> tuple[list[User], list[Invitation]]:
    """Every member and invitation of the team, each with a complete app list.

    One paged read each with ``include=visibleApps``, plus a full app-list read
    only for restricted people whose included list was capped.
    """
    users = [
        await _complete_user(source, u) for u in await source.users.list(include_visible_apps=True)
    ]
    invitations = [
        await _complete_invitation(source, inv)
        for inv in await source.invitations.list(include_visible_apps=True)
    ]
    return users, invitations
