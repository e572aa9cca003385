"""Plans for one SCIM write: the person's wanted access against a fresh read of Apple.

What a SCIM User asks for is its own App Store Connect extension combined (as
a union) with what the admin's group mappings give the groups it belongs to.
The plan is built with the actions engine's parts — a fresh read, the safety
rules (Account Holder, last Admin, roles that see every app) — and executed by
it like any other plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asc_access.actions import Access, Plan, StepKind, Team
from asc_access.actions.building import (
    PlanBuilder,
    plan_invite_on,
    plan_member_removal,
    read_noting,
    validate_roles,
)
from asc_access.actions.reads import PersonState, resolve_apps
from asc_access.actions.safety import (
    access_refusal,
    account_holder_refusal,
    last_admin_refusal,
    needs_all_apps,
)
from asc_access.store.scim import GroupAccess

__all__ = ["Wanted", "plan_person", "truthy", "wanted_of"]


@dataclass(frozen=True, slots=True)
class Wanted:
    """The access a SCIM User asks for (apps by bundle id or id)."""

    roles: tuple[str, ...]
    all_apps: bool
    apps: tuple[str, ...]
    provisioning: bool

    def union(self, other: Wanted) -> Wanted:
        """Both together: every role, every app, all apps if either sees all."""
        return Wanted(
            roles=tuple(sorted(set(self.roles) | set(other.roles))),
            all_apps=self.all_apps or other.all_apps,
            apps=tuple(sorted(set(self.apps) | set(other.apps))),
            provisioning=self.provisioning or other.provisioning,
        )


def truthy(value: Any) -> bool:
    """A SCIM boolean, also as Entra's strings (``"True"``, ``"False"``)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def wanted_of(
    extension: Mapping[str, Any] | None,
    groups: Iterable[GroupAccess],
    *,
    default_role: str,
) -> Wanted:
    """The access asked for by the extension plus the mapped groups (default role if neither)."""
    ext = extension or {}
    roles = [str(r).strip().upper() for r in ext.get("roles") or () if str(r).strip()]
    own = Wanted(
        roles=tuple(roles),
        all_apps=truthy(ext.get("allAppsVisible")),
        apps=tuple(str(a).strip() for a in ext.get("visibleApps") or () if str(a).strip()),
        provisioning=truthy(ext.get("provisioningAllowed")),
    )
    for mapping in groups:
        own = own.union(Wanted(mapping.roles, mapping.all_apps, mapping.apps, False))
    if not own.roles:
        own = Wanted((default_role.upper(),), own.all_apps, own.apps, own.provisioning)
    return own


async def _access(team: Team, wanted: Wanted) -> Access:
    roles = validate_roles(wanted.roles)
    all_apps = wanted.all_apps or needs_all_apps(roles)
    app_ids: Sequence[str] = ()
    if not all_apps and wanted.apps:
        app_ids = await resolve_apps(team.source, wanted.apps, team=team.name)
    return Access.of(
        roles,
        all_apps_visible=all_apps,
        provisioning_allowed=wanted.provisioning,
        app_ids=app_ids,
    )


async def _plan_removal(b: PlanBuilder, team: Team, state: PersonState) -> None:
    for inv in state.invitations:
        b.step(
            StepKind.CANCEL_INVITATION,
            team.name,
            state.email,
            "deactivated or deleted by the identity provider",
            subject_id=inv.id,
            before=Access.of_invitation(inv),
        )
    member = state.member
    if member is None:
        return
    reason = "deactivated or deleted by the identity provider"
    await plan_member_removal(b, team, state, member, reason, force=False)


async def _plan_access(
    b: PlanBuilder, team: Team, state: PersonState, access: Access, names: tuple[str, str]
) -> None:
    member, before = state.member, state.member_access
    refusal = access_refusal(
        team.name, state.email, access.roles, restricted=not access.all_apps_visible
    )
    if refusal is not None:
        b.refuse(refusal)
        return
    if member is None or before is None:
        plan_invite_on(
            b,
            team.name,
            state,
            first_name=names[0],
            last_name=names[1],
            access=access,
            now=datetime.now().astimezone(),
            reason="provisioned by the identity provider",
        )
        return
    if before == access:
        return
    if member.is_account_holder:
        b.refuse(account_holder_refusal(team.name, state.email, "changes"))
        return
    refusal = await last_admin_refusal(team.source, team.name, member, access.roles)
    b.refuse(refusal)
    if refusal is None:
        b.step(
            StepKind.UPDATE_USER,
            team.name,
            state.email,
            "the identity provider asks for different access",
            subject_id=member.id,
            before=before,
            after=access,
        )


async def plan_person(
    team: Team,
    email: str,
    wanted: Wanted | None,
    *,
    names: tuple[str, str] = ("", ""),
    action: str = "scim",
) -> tuple[Plan, PersonState]:
    """Plan leaving ``email`` with ``wanted`` on ``team`` (``None``: not on the team at all)."""
    b = PlanBuilder(action, email, [team.name], skip_satisfied=True)
    state = await read_noting(b, team, email)
    if wanted is None:
        await _plan_removal(b, team, state)
    else:
        await _plan_access(b, team, state, await _access(team, wanted), names)
    return await b.finish([team]), state
