"""Evaluate policies against the mirror: pure functions from facts to violations found.

Each kind is one function of the facts (people per team, teams with their
health, role changes made outside asc-access) and the clock. A violation's
``key`` names the policy, the team and the person, so the same problem found
again by the next sync is recognised as the same violation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from asc_access.governance.policies import (
    AdminOnTeams,
    AllowedDomains,
    ConnectionUnhealthy,
    InvitationAge,
    Leavers,
    MaxAdmins,
    OutOfBandChange,
    Policy,
    PolicyFile,
)
from asc_access.models import Role
from asc_access.store.changes import ChangeRecord
from asc_access.store.connections import ConnectionRecord
from asc_access.store.queries import PersonRow
from asc_access.store.review import load_directory
from asc_access.store.violations import ViolationFound

__all__ = ["Facts", "evaluate"]


class Facts(Protocol):
    """What policies look at (:class:`asc_access.store.policy_facts.MirrorFacts` fits)."""

    def people(self) -> list[PersonRow]:
        """Every member and invitee, one row per person per team."""

    def teams(self) -> list[ConnectionRecord]:
        """Every connection, with its health."""

    def outside_role_changes(self) -> list[ChangeRecord]:
        """Role changes a sync saw that no action of ours made, oldest first."""


class _Seen:
    """The facts, each read once per evaluation."""

    def __init__(self, facts: Facts, files: PolicyFile, now: datetime) -> None:
        self.now = now
        self.files = files
        self.all_people = facts.people()
        # An expired invitation grants nothing: policies about access skip it.
        self.people = [
            p for p in self.all_people if not (p.status == "invited" and p.is_expired(now))
        ]
        self.teams = facts.teams()
        self._facts = facts

    def changes(self) -> list[ChangeRecord]:
        return self._facts.outside_role_changes()


def _found(policy: Policy, connection: str, email: str | None, detail: str) -> ViolationFound:
    key = f"{policy.id}|{connection}|{email or ''}"
    return ViolationFound(policy.id, policy.kind, key, connection, email, detail)


def _admins(people: Iterable[PersonRow]) -> list[PersonRow]:
    return [p for p in people if p.status == "member" and Role.ADMIN in p.roles]


def _max_admins(policy: MaxAdmins, seen: _Seen) -> list[ViolationFound]:
    by_team: dict[str, list[str]] = defaultdict(list)
    for person in _admins(seen.people):
        by_team[person.connection].append(person.email)
    return [
        _found(
            policy,
            team,
            None,
            f"{len(emails)} Admins ({', '.join(sorted(emails))}); at most {policy.max} allowed",
        )
        for team, emails in sorted(by_team.items())
        if len(emails) > policy.max
    ]


def _domain_allowed(email: str, domains: list[str]) -> bool:
    domain = email.rsplit("@", 1)[-1].lower()
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _allowed_domains(policy: AllowedDomains, seen: _Seen) -> list[ViolationFound]:
    allowed = ", ".join(policy.domains)
    return [
        _found(
            policy,
            p.connection,
            p.email,
            f"{p.status} with e-mail domain {p.email.rsplit('@', 1)[-1]} (allowed: {allowed})",
        )
        for p in seen.people
        if not _domain_allowed(p.email, policy.domains)
    ]


def _invitation_age(policy: InvitationAge, seen: _Seen) -> list[ViolationFound]:
    limit = timedelta(days=policy.days)
    out = []
    for p in seen.people:
        if p.status != "invited" or seen.now - p.first_seen_at <= limit:
            continue
        days = (seen.now - p.first_seen_at).total_seconds() / 86400
        out.append(
            _found(
                policy,
                p.connection,
                p.email,
                f"invitation pending {days:.1f} days (over {policy.days:g})",
            )
        )
    return out


def _leavers(policy: Leavers, seen: _Seen) -> list[ViolationFound]:
    path = seen.files.resolve(policy.directory)
    staff = load_directory(path)
    return [
        _found(
            policy, p.connection, p.email, f"{p.status} but not in the staff directory {path.name}"
        )
        for p in seen.people
        if p.email not in staff
    ]


def _admin_on_teams(policy: AdminOnTeams, seen: _Seen) -> list[ViolationFound]:
    teams: dict[str, set[str]] = defaultdict(set)
    for person in _admins(seen.people):
        teams[person.email].add(person.connection)
    out = []
    for email, names in sorted(teams.items()):
        if len(names) > policy.max:
            listed = ", ".join(sorted(names))
            found = _found(
                policy,
                "*",
                email,
                f"Admin on {len(names)} teams ({listed}); at most {policy.max} allowed",
            )
            out.append(
                ViolationFound(found.policy, found.kind, found.key, listed, email, found.detail)
            )
    return out


def _out_of_band(policy: OutOfBandChange, seen: _Seen) -> list[ViolationFound]:
    holding = {(p.connection, p.email): set(p.roles) for p in seen.people if p.status == "member"}
    out: dict[str, ViolationFound] = {}
    for change in seen.changes():
        email = change.email or ""
        added = set(change.details.get("added") or ())
        still = sorted(added & holding.get((change.connection, email), set()))
        if still:
            detail = (
                f"role {', '.join(still)} granted outside asc-access "
                f"(seen by the sync of {change.at.isoformat(timespec='seconds')})"
            )
            item = _found(policy, change.connection, email, detail)
            out[item.key] = item
    return list(out.values())


def _unhealthy(policy: ConnectionUnhealthy, seen: _Seen) -> list[ViolationFound]:
    out = []
    for team in seen.teams:
        if team.healthy:
            continue
        since = team.last_ok_at or team.created_at
        hours = (seen.now - since).total_seconds() / 3600
        if hours <= policy.hours:
            continue
        code = " ".join(x for x in (team.health_code, team.health_cause) if x) or "unhealthy"
        out.append(
            _found(
                policy,
                team.name,
                None,
                f"unhealthy ({code}) for {hours:.1f} hours (over {policy.hours:g})",
            )
        )
    return out


#: Each kind of policy's rule: ``(policy, seen) -> violations found``.
_RULES: dict[type[Policy], Callable[[Any, _Seen], list[ViolationFound]]] = {
    MaxAdmins: _max_admins,
    AllowedDomains: _allowed_domains,
    InvitationAge: _invitation_age,
    Leavers: _leavers,
    AdminOnTeams: _admin_on_teams,
    OutOfBandChange: _out_of_band,
    ConnectionUnhealthy: _unhealthy,
}


def evaluate(files: PolicyFile, facts: Facts, now: datetime) -> list[ViolationFound]:
    """Every violation of every policy in ``files``, in policy order.

    Raises:
        UsageError: a file a policy names (the leavers directory) cannot be read.
    """
    seen = _Seen(facts, files, now)
    found: list[ViolationFound] = []
    for policy in files.policies:
        found.extend(_RULES[type(policy)](policy, seen))
    return found
