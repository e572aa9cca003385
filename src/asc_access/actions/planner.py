"""Plans for the imperative actions, built from a fresh read of Apple.

Each ``plan_*`` function reads the person from Apple (member and invitations,
complete app lists), applies the safety rules and returns a :class:`Plan`.
Nothing is written. A step Apple already satisfies stays in the plan marked
``satisfied`` so that executing it reports ``already``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from asc_access.actions.building import (
    PlanBuilder,
    check_email,
    expiry_text,
    plan_invite_on,
    plan_member_removal,
    read_noting,
    requested_access,
    utc_now,
    validate_roles,
)
from asc_access.actions.known import check_known, closest, known_addresses
from asc_access.actions.model import Access, Plan, Refusal, Rule, StepKind
from asc_access.actions.reads import PersonState, resolve_apps
from asc_access.actions.safety import (
    access_refusal,
    account_holder_refusal,
    last_admin_refusal,
)
from asc_access.actions.source import Team
from asc_access.errors import ApiError, NotFoundLocallyError, UsageError
from asc_access.ids import AppId
from asc_access.models import User

__all__ = [
    "PlanBuilder",
    "plan_cancel_invitation",
    "plan_invite",
    "plan_offboard",
    "plan_remove",
    "plan_set_apps",
    "plan_set_roles",
    "validate_roles",
]


async def plan_invite(
    team: Team,
    email: str,
    *,
    first_name: str,
    last_name: str,
    roles: Iterable[str],
    apps: Sequence[str] | None = None,
    all_apps: bool = False,
    provisioning: bool = False,
    now: datetime | None = None,
) -> Plan:
    """Plan inviting ``email`` to ``team`` with the given access."""
    email = check_email(email)
    if not first_name.strip() or not last_name.strip():
        raise UsageError("an invitation needs --first-name and --last-name")
    b = PlanBuilder("invite", email, [team.name])
    access = await requested_access(
        team, email, roles=roles, apps=apps, all_apps=all_apps, provisioning=provisioning, b=b
    )
    if access is None:
        return b.build()
    state = await read_noting(b, team, email)
    plan_invite_on(
        b,
        team.name,
        state,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        access=access,
        now=utc_now(now),
        reason=f"{email} is not on team {team.name}",
    )
    return await b.finish([team])


def _access_text(state: PersonState) -> str:
    return state.member_access.brief() if state.member_access else ""


def _cancel_all(b: PlanBuilder, team: str, state: PersonState, now: datetime) -> int:
    for inv in state.invitations:
        state_word = "expired" if inv.is_expired(now) else "pending"
        b.step(
            StepKind.CANCEL_INVITATION,
            team,
            state.email,
            f"{state_word} invitation (expires {expiry_text(inv.expiration_date)})",
            subject_id=inv.id,
            before=Access.of_invitation(inv),
        )
    return len(state.invitations)


async def plan_cancel_invitation(team: Team, email: str, *, now: datetime | None = None) -> Plan:
    """Plan cancelling every invitation of ``email`` on ``team``."""
    email = check_email(email)
    b = PlanBuilder("cancel-invitation", email, [team.name])
    state = await read_noting(b, team, email)
    if not _cancel_all(b, team.name, state, utc_now(now)):
        b.step(
            StepKind.CANCEL_INVITATION,
            team.name,
            email,
            f"no invitation for {email} on team {team.name}",
            satisfied=True,
        )
        if state.member is not None:
            b.note(f"{email} is a member of team {team.name}: use `remove` to take their access")
    return await b.finish([team])


async def _plan_removal(b: PlanBuilder, team: Team, state: PersonState, *, force: bool) -> None:
    member = state.member
    if member is None:
        b.step(
            StepKind.REMOVE_USER,
            team.name,
            state.email,
            f"{state.email} is not a member of team {team.name}",
            satisfied=True,
        )
        return
    await plan_member_removal(
        b, team, state, member, f"member of team {team.name} ({_access_text(state)})", force=force
    )


async def plan_remove(team: Team, email: str, *, force: bool = False) -> Plan:
    """Plan removing the member ``email`` from ``team`` (invitations untouched)."""
    email = check_email(email)
    b = PlanBuilder("remove", email, [team.name])
    state = await read_noting(b, team, email)
    if state.member is None and not state.invitations:
        check_known(team.store, email, [team.name])
    await _plan_removal(b, team, state, force=force)
    if state.invitations:
        b.note(
            f"{email} also has an invitation on team {team.name}: "
            "`cancel-invitation` or `offboard` cancels it"
        )
    return await b.finish([team], force=force)


def _unreadable(team: str, email: str, error: ApiError) -> Refusal:
    return Refusal(
        team,
        email,
        Rule.UNREADABLE,
        f"could not read team {team} ({error}); {email} may still have access there: fix the "
        f"connection (`asc-access doctor {team}`) and run offboard again",
        blocks=False,
        code=error.code,
    )


async def plan_offboard(
    teams: Sequence[Team], email: str, *, force: bool = False, now: datetime | None = None
) -> Plan:
    """Plan removing ``email`` and cancelling their invitations on every team given.

    A team that cannot be read (a broken key, Apple down) does not stop the
    others: it is listed as a non-blocking refusal so the plan says, and the
    command reports, that the person may still have access there.
    """
    email = check_email(email)
    if not teams:
        raise UsageError("no connections to offboard from: add one with `asc-access connect`")
    b = PlanBuilder("offboard", email, [t.name for t in teams])
    states: list[PersonState] = []
    for team in teams:
        try:
            state = await read_noting(b, team, email)
        except ApiError as error:
            b.refuse(_unreadable(team.name, email, error))
            continue
        states.append(state)
        _cancel_all(b, team.name, state, utc_now(now))
        if state.member is not None or not state.invitations:
            await _plan_removal(b, team, state, force=force)
    if len(states) == len(teams) and all(s.member is None and not s.invitations for s in states):
        store = next((t.store for t in teams if t.store is not None), None)
        check_known(store, email, [t.name for t in teams])
    return await b.finish(teams, force=force)


def _did_you_mean(team: Team, email: str) -> str:
    if team.store is None:
        return ""
    near = closest(email, known_addresses(team.store) - {email})
    return f"; did you mean {' or '.join(near)}?" if near else ""


async def _editable_member(b: PlanBuilder, team: Team, email: str) -> tuple[User, Access] | None:
    """The member ``email`` and their access; ``None`` (refused on ``b``) for the Account Holder."""
    state = await read_noting(b, team, email)
    if state.member is None:
        hint = (
            "; they have a pending invitation, which cannot be edited: "
            "`invite` with the new access cancels and re-sends it"
            if state.invitations
            else _did_you_mean(team, email)
        )
        raise NotFoundLocallyError(f"{email} is not a member of team {team.name}{hint}")
    assert state.member_access is not None
    if state.member.is_account_holder:
        b.refuse(account_holder_refusal(team.name, email, "changes"))
        return None
    return state.member, state.member_access


async def plan_set_roles(
    team: Team, email: str, roles: Iterable[str], *, force: bool = False
) -> Plan:
    """Plan giving the member ``email`` exactly ``roles``."""
    email = check_email(email)
    new_roles = validate_roles(roles)
    b = PlanBuilder("set-roles", email, [team.name])
    found = await _editable_member(b, team, email)
    if found is None:
        return b.build()
    member, before = found
    refused = access_refusal(team.name, email, new_roles, restricted=False)
    if refused is not None:
        b.refuse(refused)
        return b.build()
    after = Access.of(
        new_roles,
        all_apps_visible=before.all_apps_visible,
        provisioning_allowed=before.provisioning_allowed,
        app_ids=before.app_ids,
    )
    refusal = await last_admin_refusal(team.source, team.name, member, new_roles)
    b.refuse(refusal)
    if refusal is None or force:
        why = ("roles asked for", "already has these roles")
        _update(b, team.name, email, member.id, before, after, why)
    return await b.finish([team], force=force)


async def plan_set_apps(
    team: Team,
    email: str,
    *,
    apps: Sequence[str] | None = None,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    all_apps: bool = False,
) -> Plan:
    """Plan changing which apps the member ``email`` sees.

    ``apps`` sets the full list; ``add`` / ``remove`` change it relative to
    the complete list Apple holds; ``all_apps`` lets them see every app.
    """
    email = check_email(email)
    modes = sum([apps is not None, bool(add or remove), all_apps])
    if modes != 1:
        raise UsageError("give one of: --app (the full list), --add/--remove, or --all-apps")
    b = PlanBuilder("set-apps", email, [team.name])
    found = await _editable_member(b, team, email)
    if found is None:
        return b.build()
    member, before = found
    refused = access_refusal(team.name, email, before.roles, restricted=not all_apps)
    if refused is not None:
        b.refuse(refused)
        return b.build()
    after, kw = await _apps_after(team, email, before, apps=apps, add=add, remove=remove)
    why = ("app access asked for", "already sees exactly these apps")
    _update(b, team.name, email, member.id, before, after, why, **kw)
    return await b.finish([team])


async def _apps_after(
    team: Team,
    email: str,
    before: Access,
    *,
    apps: Sequence[str] | None,
    add: Sequence[str],
    remove: Sequence[str],
) -> tuple[Access, dict[str, object]]:
    """The access set-apps leaves (every app when neither ``apps`` nor add/remove is given),
    and the step's add/remove ids for a relative change."""
    if apps is None and not (add or remove):
        after = Access.of(
            before.roles, all_apps_visible=True, provisioning_allowed=before.provisioning_allowed
        )
        return after, {}
    if apps is not None:
        ids = await resolve_apps(team.source, apps, team=team.name)
        after = Access.of(
            before.roles,
            all_apps_visible=False,
            provisioning_allowed=before.provisioning_allowed,
            app_ids=ids,
        )
        return after, {}
    if before.all_apps_visible:
        raise UsageError(
            f"{email} sees all apps on team {team.name}; give the full list with --app "
            "to limit their access"
        )
    add_ids = await resolve_apps(team.source, add, team=team.name)
    remove_ids = await resolve_apps(team.source, remove, team=team.name)
    if set(add_ids) & set(remove_ids):
        raise UsageError("the same app is both added and removed")
    current: set[AppId] = set(before.app_ids)
    after = Access.of(
        before.roles,
        all_apps_visible=False,
        provisioning_allowed=before.provisioning_allowed,
        app_ids=(current | set(add_ids)) - set(remove_ids),
    )
    return after, {"add_app_ids": add_ids, "remove_app_ids": remove_ids}


def _update(
    b: PlanBuilder,
    team: str,
    email: str,
    member_id: str,
    before: Access,
    after: Access,
    why: tuple[str, str],
    **kw: object,
) -> None:
    """The update step of set-roles / set-apps: ``why`` is (changed, already so)."""
    b.step(
        StepKind.UPDATE_USER,
        team,
        email,
        why[0] if after != before else why[1],
        subject_id=member_id,
        before=before,
        after=after,
        satisfied=after == before,
        **kw,
    )
