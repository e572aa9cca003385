"""Planning a desired state: what makes each team look like the file (see :mod:`.desired`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asc_access.actions.building import PlanBuilder, plan_invite_on
from asc_access.actions.model import Access, Plan, Refusal, Rule, StepKind
from asc_access.actions.reads import PersonState, complete_team, normalise_email, resolve_app_map
from asc_access.actions.safety import access_refusal
from asc_access.actions.source import Team
from asc_access.actions.staleness import team_note
from asc_access.errors import UsageError
from asc_access.models import Invitation, Role, User

__all__ = ["DesiredPerson", "DesiredState", "plan_desired_state"]


@dataclass(frozen=True, slots=True)
class DesiredPerson:
    """One person as the file describes them."""

    email: str
    first_name: str
    last_name: str
    roles: tuple[str, ...]
    apps: tuple[str, ...] | None
    all_apps: bool
    provisioning: bool


@dataclass(frozen=True, slots=True)
class DesiredState:
    """The whole file: people per connection name."""

    source: str
    teams: Mapping[str, tuple[DesiredPerson, ...]]
    remove_unlisted: Mapping[str, bool] = field(default_factory=dict)


def _is_admin(user: User) -> bool:
    return Role.ADMIN in user.roles and not user.is_account_holder


def _stays_admin(access: Access | None) -> bool:
    return access is not None and Role.ADMIN in access.roles


async def _plan_team(
    b: PlanBuilder,
    team: Team,
    people: Sequence[DesiredPerson],
    *,
    force: bool,
    now: datetime,
    remove_unlisted: bool = False,
) -> None:
    members, invitations = await complete_team(team.source)
    if team.store is not None and team.connection_id is not None:
        note = team_note(team.store, team.connection_id, team.name, members, invitations)
        if note:
            b.note(note)
    wanted = await _wanted_access(b, team, people, members)
    listed = {p.email for p in people}
    losing = _guard_last_admin(b, team.name, members, wanted, listed, remove_unlisted)
    blocked = losing and not force
    by_member = {normalise_email(u.username): u for u in members}
    for person in people:
        access = wanted.get(person.email)
        if access is None:
            continue
        member = by_member.get(person.email)
        if member is None:
            state = PersonState(
                person.email,
                None,
                tuple(i for i in invitations if normalise_email(i.email) == person.email),
            )
            plan_invite_on(
                b,
                team.name,
                state,
                first_name=person.first_name,
                last_name=person.last_name,
                access=access,
                now=now,
                reason="in the file, not on the team",
            )
        else:
            _plan_member(b, team.name, member, access, blocked=blocked)
    unlisted_members = [
        m for m in members if normalise_email(m.username) not in listed and not m.is_account_holder
    ]
    unlisted_invitations = [i for i in invitations if normalise_email(i.email) not in listed]
    if not remove_unlisted:
        _note_left_alone(b, team.name, unlisted_members, unlisted_invitations)
        return
    _remove_unlisted(b, team.name, unlisted_members, unlisted_invitations, blocked=blocked)


async def _wanted_access(
    b: PlanBuilder, team: Team, people: Sequence[DesiredPerson], members: Sequence[User]
) -> dict[str, Access]:
    """The access the file gives each person (refusing apps for roles that see them all)."""
    holder = next((u for u in members if u.is_account_holder), None)
    refs = sorted({a for p in people for a in (p.apps or ())})
    app_map = await resolve_app_map(team.source, refs, team=team.name)
    wanted: dict[str, Access] = {}
    for person in people:
        if holder is not None and normalise_email(holder.username) == person.email:
            raise UsageError(
                f"{person.email} is the Account Holder of team {team.name}; the Account Holder "
                "is never in a desired-state file"
            )
        refusal = access_refusal(
            team.name, person.email, person.roles, restricted=bool(person.apps)
        )
        if refusal is not None:
            b.refuse(refusal)
            continue
        wanted[person.email] = Access.of(
            person.roles,
            all_apps_visible=person.all_apps,
            provisioning_allowed=person.provisioning,
            app_ids=[app_map[ref] for ref in person.apps or ()],
        )
    return wanted


def _guard_last_admin(
    b: PlanBuilder,
    team: str,
    members: Sequence[User],
    wanted: Mapping[str, Access],
    listed: set[str],
    remove_unlisted: bool,
) -> bool:
    """Refuse (forceably) a file that leaves no Admin; whether it would."""
    admins_now = [u for u in members if _is_admin(u)]
    admins_kept = [
        u
        for u in admins_now
        if _stays_admin(wanted.get(normalise_email(u.username)))
        or (not remove_unlisted and normalise_email(u.username) not in listed)
    ]
    losing_last_admin = bool(admins_now) and not admins_kept
    if losing_last_admin:
        b.refuse(
            Refusal(
                team,
                ", ".join(sorted(normalise_email(u.username) for u in admins_now)),
                Rule.LAST_ADMIN,
                f"the file leaves team {team} with no Admin besides the Account Holder "
                "(pass --force if that is intended)",
                forceable=True,
            )
        )
    return losing_last_admin


def _plan_member(b: PlanBuilder, team: str, member: User, access: Access, *, blocked: bool) -> None:
    """Change a listed member whose access differs (not an Admin's, while ``blocked``)."""
    before = Access.of_user(member)
    if before == access:
        return
    if blocked and _is_admin(member) and Role.ADMIN not in access.roles:
        return
    b.step(
        StepKind.UPDATE_USER,
        team,
        normalise_email(member.username),
        "the file gives different access",
        subject_id=member.id,
        before=before,
        after=access,
    )


def _remove_unlisted(
    b: PlanBuilder,
    team: str,
    members: Sequence[User],
    invitations: Sequence[Invitation],
    *,
    blocked: bool,
) -> None:
    """Remove the members and cancel the invitations the file does not list."""
    gone: list[tuple[StepKind, str, str, User | Invitation]] = [
        (StepKind.REMOVE_USER, m.username, "member not in the file", m)
        for m in members
        if not (blocked and _is_admin(m))
    ]
    gone += [
        (StepKind.CANCEL_INVITATION, i.email, "invitation not in the file", i) for i in invitations
    ]
    for kind, address, why, person in gone:
        before = Access.of_person(person)
        b.step(kind, team, normalise_email(address), why, subject_id=person.id, before=before)


def _note_left_alone(
    b: PlanBuilder, team: str, members: Sequence[User], invitations: Sequence[Invitation]
) -> None:
    """Say who is on the team, not in the file, and left alone (no ``remove_unlisted``)."""
    emails = sorted(
        {normalise_email(m.username) for m in members}
        | {normalise_email(i.email) for i in invitations}
    )
    if not emails:
        return
    shown = ", ".join(emails[:5]) + (", ..." if len(emails) > 5 else "")
    b.note(
        f"{len(emails)} {'person' if len(emails) == 1 else 'people'} on team {team} "
        f"{'is' if len(emails) == 1 else 'are'} not in the file and left alone ({shown}); "
        "add `remove_unlisted: true` to the file to remove them"
    )


async def plan_desired_state(
    desired: DesiredState,
    teams: Mapping[str, Team],
    *,
    force: bool = False,
    now: datetime | None = None,
    action: str = "apply",
) -> Plan:
    """Plan what makes every team in ``desired`` look like the file (nothing is written)."""
    missing = sorted(set(desired.teams) - set(teams))
    if missing:
        raise UsageError(
            f"{desired.source} names unknown connection {', '.join(missing)} "
            "(`asc-access connections` lists them)"
        )
    b = PlanBuilder(action, desired.source, list(desired.teams), skip_satisfied=True)
    for name, people in desired.teams.items():
        await _plan_team(
            b,
            teams[name],
            people,
            force=force,
            now=now or datetime.now(UTC),
            remove_unlisted=desired.remove_unlisted.get(name, False),
        )
    return await b.finish([teams[name] for name in desired.teams], force=force)
