"""Shared planning parts: the plan builder, role checks, reading with stale-mirror notes,
and the invite logic used by both ``invite`` and desired-state files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from asc_access.actions.model import Access, Plan, Refusal, Rule, Step, StepKind
from asc_access.actions.reads import (
    PersonState,
    app_labels,
    normalise_email,
    read_person,
    resolve_apps,
)
from asc_access.actions.safety import (
    access_refusal,
    account_holder_refusal,
    last_admin_refusal,
    needs_all_apps,
)
from asc_access.actions.source import Team
from asc_access.actions.staleness import person_note
from asc_access.errors import UsageError
from asc_access.models import Invitation, Role, User

__all__ = [
    "PlanBuilder",
    "check_email",
    "expiry_text",
    "plan_invite_on",
    "plan_member_removal",
    "read_noting",
    "requested_access",
    "utc_now",
    "validate_roles",
]


class PlanBuilder:
    """Collects steps (numbered in order), refusals and notes into a :class:`Plan`."""

    def __init__(
        self,
        action: str,
        target: str,
        connections: Sequence[str],
        *,
        skip_satisfied: bool = False,
    ) -> None:
        self.skip_satisfied = skip_satisfied
        self.action = action
        self.target = target
        self.connections = tuple(connections)
        self.steps: list[Step] = []
        self.refusals: list[Refusal] = []
        self.notes: list[str] = []

    def step(self, kind: StepKind, connection: str, email: str, reason: str, **kw: object) -> int:
        """Append a step and return its index (-1 for a satisfied step being skipped)."""
        if self.skip_satisfied and kw.get("satisfied"):
            return -1
        index = len(self.steps)
        self.steps.append(Step(index, kind, connection, email, reason, **kw))  # type: ignore[arg-type]
        return index

    def refuse(self, refusal: Refusal | None) -> None:
        """Record a refusal (``None`` is ignored)."""
        if refusal is not None:
            self.refusals.append(refusal)

    def note(self, text: str) -> None:
        """Record a note shown with the plan."""
        self.notes.append(text)

    async def finish(self, teams: Sequence[Team], *, force: bool = False) -> Plan:
        """The finished plan, its apps labelled with their bundle ids (read from Apple)."""
        by_name = {t.name: t for t in teams}
        for name in {s.connection for s in self.steps}:
            ids = sorted({a for s in self.steps if s.connection == name for a in s.app_ids})
            labels = await app_labels(by_name[name].source, ids)
            self.steps = [
                replace(
                    s, app_labels=tuple(sorted((a, labels[a]) for a in s.app_ids if a in labels))
                )
                if s.connection == name
                else s
                for s in self.steps
            ]
        return self.build(force=force)

    def build(self, *, force: bool = False) -> Plan:
        """The finished plan (apps unlabelled; see :meth:`finish`)."""
        return Plan(
            action=self.action,
            target=self.target,
            connections=self.connections,
            steps=tuple(self.steps),
            refusals=tuple(self.refusals),
            notes=tuple(self.notes),
            force=force,
        )


def validate_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Upper-cased known role names; :class:`UsageError` for an unknown or empty list."""
    cleaned = tuple(sorted({r.strip().upper() for r in roles if r.strip()}))
    if not cleaned:
        raise UsageError("give at least one role (--role DEVELOPER, --role ADMIN, ...)")
    known = {r.value for r in Role}
    unknown = [r for r in cleaned if r not in known]
    if unknown:
        raise UsageError(
            f"unknown role {', '.join(unknown)}; known roles: {', '.join(sorted(known))}"
        )
    return cleaned


async def read_noting(b: PlanBuilder, team: Team, email: str) -> PersonState:
    """Read the person from Apple; note it in the plan when the mirror had them differently."""
    state = await read_person(team.source, email)
    if team.store is not None and team.connection_id is not None:
        note = person_note(team.store, team.connection_id, team.name, state)
        if note:
            b.note(note)
    return state


def check_email(email: str) -> str:
    cleaned = normalise_email(email)
    if "@" not in cleaned or cleaned.startswith("@") or cleaned.endswith("@"):
        raise UsageError(f"{email!r} is not an e-mail address")
    return cleaned


def utc_now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def expiry_text(inv_date: datetime | None) -> str:
    return inv_date.date().isoformat() if inv_date else "an unknown date"


def plan_invite_on(
    b: PlanBuilder,
    team: str,
    state: PersonState,
    *,
    first_name: str,
    last_name: str,
    access: Access,
    now: datetime,
    reason: str,
) -> None:
    """Add the steps that leave ``state.email`` invited (or a member) with ``access``."""
    email = state.email
    if state.member is not None:
        _invite_member(b, team, state, access)
        return
    cancels, pending_same = _cancel_other_invitations(b, team, state, access, now)
    if pending_same is not None:
        b.step(
            StepKind.INVITE,
            team,
            email,
            "already invited with the same access",
            subject_id=pending_same.id,
            first_name=first_name,
            last_name=last_name,
            after=access,
            satisfied=True,
        )
        return
    b.step(
        StepKind.INVITE,
        team,
        email,
        "re-invite with the new access" if cancels else reason,
        first_name=first_name,
        last_name=last_name,
        after=access,
        after_steps=tuple(cancels),
    )


def _invite_member(b: PlanBuilder, team: str, state: PersonState, access: Access) -> None:
    """Inviting someone already a member: satisfied with the same access, else refused."""
    email, member = state.email, state.member
    assert member is not None
    if member.is_account_holder:
        b.refuse(account_holder_refusal(team, email, "invites"))
    elif state.member_access == access:
        b.step(
            StepKind.INVITE,
            team,
            email,
            "already a member with the same access",
            subject_id=member.id,
            after=access,
            satisfied=True,
        )
    else:
        current = state.member_access.brief() if state.member_access else ""
        b.refuse(
            Refusal(
                team,
                email,
                Rule.MEMBER_EXISTS,
                f"{email} is already a member of team {team} ({current}); "
                "use set-roles / set-apps to change their access",
            )
        )


def _cancel_other_invitations(
    b: PlanBuilder, team: str, state: PersonState, access: Access, now: datetime
) -> tuple[list[int], Invitation | None]:
    """Cancel expired or different invitations; the pending one with ``access``, if any."""
    email = state.email
    cancels: list[int] = []
    pending_same = None
    for inv in state.invitations:
        inv_access = Access.of_invitation(inv)
        if inv.is_expired(now):
            why = (
                f"the invitation sent earlier expired on {expiry_text(inv.expiration_date)}; "
                "it is cancelled and sent again"
            )
        elif inv_access == access and pending_same is None:
            pending_same = inv
            continue
        else:
            why = (
                f"a pending invitation grants different access ({inv_access.brief()}); "
                "invitations cannot be edited, so it is cancelled and sent again"
            )
        cancels.append(
            b.step(
                StepKind.CANCEL_INVITATION, team, email, why, subject_id=inv.id, before=inv_access
            )
        )
    return cancels, pending_same


async def requested_access(
    team: Team,
    email: str,
    *,
    roles: Iterable[str],
    apps: Sequence[str] | None,
    all_apps: bool,
    provisioning: bool,
    b: PlanBuilder,
) -> Access | None:
    """The access asked for, or ``None`` after recording a refusal / raising UsageError."""
    role_tuple = validate_roles(roles)
    if apps and all_apps:
        raise UsageError("give either --app (a list of apps) or --all-apps, not both")
    refusal = access_refusal(team.name, email, role_tuple, restricted=bool(apps))
    if refusal is not None:
        b.refuse(refusal)
        return None
    if not apps and not all_apps and not needs_all_apps(role_tuple):
        raise UsageError(
            f"say which apps {email} may see: --app APP (id, bundle id or name; repeatable) "
            "or --all-apps"
        )
    app_ids = await resolve_apps(team.source, apps or (), team=team.name)
    return Access.of(
        role_tuple,
        all_apps_visible=all_apps,
        provisioning_allowed=provisioning,
        app_ids=app_ids,
    )


async def plan_member_removal(
    b: PlanBuilder, team: Team, state: PersonState, member: User, reason: str, *, force: bool
) -> None:
    """Remove ``member`` from ``team``, unless that is refused.

    The Account Holder is never removed; the team's last Admin is refused too
    unless ``force`` (the refusal is recorded either way).
    """
    if member.is_account_holder:
        b.refuse(account_holder_refusal(team.name, state.email, "removes"))
        return
    refusal = await last_admin_refusal(team.source, team.name, member, None)
    b.refuse(refusal)
    if refusal is not None and not force:
        return
    b.step(
        StepKind.REMOVE_USER,
        team.name,
        state.email,
        reason,
        subject_id=member.id,
        before=state.member_access,
    )
