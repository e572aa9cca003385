"""Typed values of provisioning: access, steps, plans and outcomes.

A :class:`Plan` is a list of :class:`Step` values, each saying *what* will
change, on *which* team (connection) and *why*, plus :class:`Refusal` values
for what our safety rules will not do. Plans are plain data: they render as
text, round-trip through JSON (the service shows a plan, then executes the
confirmed one), and carry the state each step was planned against so the
executor can tell a stale plan from a fresh one.

Every executed step ends with one of the stable outcome names of design.md:
``done``, ``already`` or ``failed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from asc_access.ids import AppId
from asc_access.models import Invitation, User, can_restrict_apps

__all__ = [
    "Access",
    "Execution",
    "Outcome",
    "Plan",
    "Refusal",
    "Rule",
    "Step",
    "StepKind",
    "StepResult",
]


class Outcome(StrEnum):
    """How an executed step ended (stable names, design.md)."""

    DONE = "done"
    ALREADY = "already"
    FAILED = "failed"


class StepKind(StrEnum):
    """What a step does on Apple."""

    INVITE = "invite"
    CANCEL_INVITATION = "cancel_invitation"
    REMOVE_USER = "remove_user"
    UPDATE_USER = "update_user"


class Rule(StrEnum):
    """Safety rules that can refuse part of a plan."""

    ACCOUNT_HOLDER = "account_holder"
    ALL_APPS_ROLE = "all_apps_role"
    LAST_ADMIN = "last_admin"
    MEMBER_EXISTS = "member_exists"
    NOT_FOUND = "not_found"
    INVALID = "invalid"


def _sorted(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


def _names(app_ids: Iterable[str], labels: Mapping[str, str] | None) -> str:
    return ", ".join((labels or {}).get(a, a) for a in app_ids)


@dataclass(frozen=True, slots=True)
class Access:
    """What a person can do on a team: roles, app visibility, provisioning.

    Always normalised: roles sorted and de-duplicated; someone whose roles see
    every app (:data:`asc_access.models.ALWAYS_ALL_APPS_ROLES`) has
    ``all_apps_visible`` true; ``app_ids`` is empty whenever all apps are visible.
    Two equal values therefore mean the same access on Apple.
    """

    roles: tuple[str, ...]
    all_apps_visible: bool
    provisioning_allowed: bool = False
    app_ids: tuple[AppId, ...] = ()

    @classmethod
    def of(
        cls,
        roles: Iterable[str],
        *,
        all_apps_visible: bool,
        provisioning_allowed: bool = False,
        app_ids: Iterable[str] = (),
    ) -> Access:
        """A normalised value (see the class docstring)."""
        role_tuple = _sorted(roles)
        all_apps = all_apps_visible or not can_restrict_apps(role_tuple)
        apps = () if all_apps else tuple(AppId(a) for a in _sorted(app_ids))
        return cls(role_tuple, all_apps, provisioning_allowed, apps)

    @classmethod
    def of_user(cls, user: User) -> Access:
        """The access of a member whose visible-app list is complete (never a capped include)."""
        if user.visible_apps_capped:
            raise ValueError("visible-apps list is truncated; read the full list first")
        return cls.of(
            user.roles,
            all_apps_visible=user.all_apps_visible,
            provisioning_allowed=user.provisioning_allowed,
            app_ids=user.visible_app_ids or (),
        )

    @classmethod
    def of_invitation(cls, invitation: Invitation) -> Access:
        """The access a complete invitation grants (never a capped include)."""
        if invitation.visible_apps_capped:
            raise ValueError("visible-apps list is truncated; read the full list first")
        return cls.of(
            invitation.roles,
            all_apps_visible=invitation.all_apps_visible,
            provisioning_allowed=invitation.provisioning_allowed,
            app_ids=invitation.visible_app_ids or (),
        )

    def apps_text(self, labels: Mapping[str, str] | None = None) -> str:
        """``all apps``, ``no apps`` or ``apps com.example.a, com.example.b``."""
        if self.all_apps_visible:
            return "all apps"
        if not self.app_ids:
            return "no apps"
        return "apps " + _names(self.app_ids, labels)

    def describe(self, labels: Mapping[str, str] | None = None) -> str:
        """One short line: ``DEVELOPER; apps com.example.a; provisioning``.

        ``labels`` maps app ids to something readable (bundle ids).
        """
        roles = ",".join(self.roles) or "(no roles)"
        prov = "; provisioning" if self.provisioning_allowed else ""
        return f"{roles}; {self.apps_text(labels)}{prov}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "roles": list(self.roles),
            "all_apps_visible": self.all_apps_visible,
            "provisioning_allowed": self.provisioning_allowed,
            "app_ids": list(self.app_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Access:
        """Inverse of :meth:`as_dict`."""
        return cls.of(
            data.get("roles", ()),
            all_apps_visible=bool(data.get("all_apps_visible", False)),
            provisioning_allowed=bool(data.get("provisioning_allowed", False)),
            app_ids=data.get("app_ids", ()),
        )


_MARKS = {
    StepKind.INVITE: "+",
    StepKind.UPDATE_USER: "~",
    StepKind.REMOVE_USER: "-",
    StepKind.CANCEL_INVITATION: "-",
}
_COUNT_KEY = {
    StepKind.INVITE: "invite",
    StepKind.UPDATE_USER: "change",
    StepKind.REMOVE_USER: "remove",
    StepKind.CANCEL_INVITATION: "remove",
}


@dataclass(frozen=True, slots=True)
class Step:
    """One change on one team.

    ``subject_id`` is the user or invitation id the step was planned against
    (``None`` for an invite, or when the person was not found). ``before`` is
    the access Apple showed at planning time, ``after`` the access the step
    leaves (for invites and updates). ``add_app_ids`` / ``remove_app_ids`` make
    an update relative: it adds or removes those apps whatever else the person
    sees. ``satisfied`` marks a step Apple already satisfies at planning time
    (it will end ``already``). ``after_steps`` lists indexes of steps that must
    succeed first (cancel before re-invite).
    """

    index: int
    kind: StepKind
    connection: str
    email: str
    reason: str
    subject_id: str | None = None
    first_name: str = ""
    last_name: str = ""
    before: Access | None = None
    after: Access | None = None
    add_app_ids: tuple[AppId, ...] = ()
    remove_app_ids: tuple[AppId, ...] = ()
    satisfied: bool = False
    after_steps: tuple[int, ...] = ()
    app_labels: tuple[tuple[str, str], ...] = ()

    @property
    def app_ids(self) -> frozenset[AppId]:
        """Every app id the step mentions (for labelling)."""
        ids: set[AppId] = set(self.add_app_ids) | set(self.remove_app_ids)
        for access in (self.before, self.after):
            if access is not None:
                ids.update(access.app_ids)
        return frozenset(ids)

    @property
    def is_relative(self) -> bool:
        """Whether the step adds/removes apps rather than setting a full list."""
        return bool(self.add_app_ids or self.remove_app_ids)

    def summary(self) -> str:
        """What the step does, in one line (apps named by bundle id when known)."""
        who = self.email
        labels = dict(self.app_labels)
        if self.kind is StepKind.INVITE:
            what = self.after.describe(labels) if self.after else ""
            return f"invite {who} ({what})"
        if self.kind is StepKind.CANCEL_INVITATION:
            return f"cancel the invitation of {who}"
        if self.kind is StepKind.REMOVE_USER:
            return f"remove {who} from the team"
        parts: list[str] = []
        if self.after is not None and self.before is not None and not self.is_relative:
            if self.after.roles != self.before.roles:
                parts.append(f"roles {','.join(self.before.roles)} -> {','.join(self.after.roles)}")
            if self.after.provisioning_allowed != self.before.provisioning_allowed:
                parts.append(f"provisioning -> {self.after.provisioning_allowed}")
            if (self.after.all_apps_visible, self.after.app_ids) != (
                self.before.all_apps_visible,
                self.before.app_ids,
            ):
                parts.append(f"{self.before.apps_text(labels)} -> {self.after.apps_text(labels)}")
        if self.add_app_ids:
            parts.append("add " + _names(self.add_app_ids, labels))
        if self.remove_app_ids:
            parts.append("remove " + _names(self.remove_app_ids, labels))
        return f"change {who}: " + ("; ".join(parts) or "no change")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (round-trips through :meth:`from_dict`)."""
        return {
            "index": self.index,
            "kind": self.kind.value,
            "connection": self.connection,
            "email": self.email,
            "summary": self.summary(),
            "reason": self.reason,
            "subject_id": self.subject_id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "before": self.before.as_dict() if self.before else None,
            "after": self.after.as_dict() if self.after else None,
            "add_app_ids": list(self.add_app_ids),
            "remove_app_ids": list(self.remove_app_ids),
            "satisfied": self.satisfied,
            "after_steps": list(self.after_steps),
            "app_labels": dict(self.app_labels),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        """Inverse of :meth:`as_dict`."""
        before, after = data.get("before"), data.get("after")
        return cls(
            index=int(data["index"]),
            kind=StepKind(data["kind"]),
            connection=str(data["connection"]),
            email=str(data["email"]),
            reason=str(data.get("reason", "")),
            subject_id=data.get("subject_id"),
            first_name=str(data.get("first_name", "")),
            last_name=str(data.get("last_name", "")),
            before=Access.from_dict(before) if before else None,
            after=Access.from_dict(after) if after else None,
            add_app_ids=tuple(AppId(a) for a in data.get("add_app_ids", ())),
            remove_app_ids=tuple(AppId(a) for a in data.get("remove_app_ids", ())),
            satisfied=bool(data.get("satisfied", False)),
            after_steps=tuple(int(i) for i in data.get("after_steps", ())),
            app_labels=tuple(sorted(dict(data.get("app_labels") or {}).items())),
        )


@dataclass(frozen=True, slots=True)
class Refusal:
    """Something asked for that a safety rule will not do, and why."""

    connection: str
    email: str
    rule: Rule
    reason: str
    forceable: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "connection": self.connection,
            "email": self.email,
            "rule": self.rule.value,
            "reason": self.reason,
            "forceable": self.forceable,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Refusal:
        """Inverse of :meth:`as_dict`."""
        return cls(
            connection=str(data["connection"]),
            email=str(data["email"]),
            rule=Rule(data["rule"]),
            reason=str(data["reason"]),
            forceable=bool(data.get("forceable", False)),
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """What an action will do: steps per team, refusals, and notes.

    ``action`` names the command (``invite``, ``offboard``, ``apply`` ...),
    ``target`` the e-mail or file it is about. A plan with refusals is not
    executed; ``notes`` say what the planner saw (a stale mirror, a pending
    invitation matched by e-mail ...).
    """

    action: str
    target: str
    connections: tuple[str, ...]
    steps: tuple[Step, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    notes: tuple[str, ...] = ()
    force: bool = False

    @property
    def changes(self) -> tuple[Step, ...]:
        """Steps that will write to Apple (not already satisfied)."""
        return tuple(s for s in self.steps if not s.satisfied)

    @property
    def is_empty(self) -> bool:
        """Whether nothing needs to change and nothing was refused."""
        return not self.changes and not self.refusals

    @property
    def blocking_refusals(self) -> tuple[Refusal, ...]:
        """Refusals that stop execution (forceable ones do not when ``force`` is set)."""
        return tuple(r for r in self.refusals if not (r.forceable and self.force))

    def describe(self) -> list[str]:
        """Human lines, one per step / refusal / note, grouped by team."""
        lines: list[str] = [f"Plan: {self.action} {self.target} — {self.counts_text()}"]
        for name in self.connections:
            lines.append(f"  team {name}:")
            steps = [s for s in self.steps if s.connection == name]
            refusals = [r for r in self.refusals if r.connection == name]
            if not steps and not refusals:
                lines.append("    nothing to change")
            for step in steps:
                mark = "=" if step.satisfied else _MARKS[step.kind]
                lines.append(f"    {mark} {step.summary()}  — {step.reason}")
            lines.extend(
                f"    ! refused ({refusal.rule.value}): {refusal.email}: {refusal.reason}"
                for refusal in refusals
            )
        lines.extend(f"  note: {note}" for note in self.notes)
        return lines

    def counts(self) -> dict[str, int]:
        """Changes by kind: ``invite``, ``change``, ``remove`` (members and invitations)."""
        out = {"invite": 0, "change": 0, "remove": 0}
        for step in self.changes:
            out[_COUNT_KEY[step.kind]] += 1
        return out

    def counts_text(self) -> str:
        """``2 to invite, 1 to change, 0 to remove`` (or ``no changes``)."""
        counts = self.counts()
        if not any(counts.values()):
            return "no changes"
        return ", ".join(f"{n} to {what}" for what, n in counts.items())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (round-trips through :meth:`from_dict`)."""
        return {
            "action": self.action,
            "target": self.target,
            "connections": list(self.connections),
            "steps": [s.as_dict() for s in self.steps],
            "refusals": [r.as_dict() for r in self.refusals],
            "notes": list(self.notes),
            "force": self.force,
            "changes": len(self.changes),
            "counts": self.counts(),
            "empty": self.is_empty,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        """Inverse of :meth:`as_dict`."""
        return cls(
            action=str(data["action"]),
            target=str(data["target"]),
            connections=tuple(str(c) for c in data.get("connections", ())),
            steps=tuple(Step.from_dict(s) for s in data.get("steps", ())),
            refusals=tuple(Refusal.from_dict(r) for r in data.get("refusals", ())),
            notes=tuple(str(n) for n in data.get("notes", ())),
            force=bool(data.get("force", False)),
        )

    def with_force(self, force: bool) -> Plan:
        """The same plan, with ``force`` set."""
        return replace(self, force=force)


@dataclass(slots=True)
class StepResult:
    """What happened to one step. ``outcome`` is ``None`` while it has not run.

    ``state`` is ``pending`` (not started), ``running`` (a write may be on its
    way: a crash here leaves the audit saying so), ``finished`` or ``not_run``
    (skipped because an earlier step it depends on failed, or Apple became
    unavailable). ``request_ids`` are Apple's ``X-Request-ID`` values of the
    calls the step made; ``error`` is the :class:`~asc_access.errors.ApiError`
    context when Apple refused.
    """

    step: Step
    state: str = "pending"
    outcome: Outcome | None = None
    message: str = ""
    code: str | None = None
    cause: str | None = None
    error: dict[str, Any] | None = None
    request_ids: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in the audit log."""
        return {
            "index": self.step.index,
            "kind": self.step.kind.value,
            "connection": self.step.connection,
            "email": self.step.email,
            "summary": self.step.summary(),
            "state": self.state,
            "outcome": self.outcome.value if self.outcome else None,
            "message": self.message,
            "code": self.code,
            "cause": self.cause,
            "error": self.error,
            "request_ids": list(self.request_ids),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


@dataclass(slots=True)
class Execution:
    """The result of executing a plan: one :class:`StepResult` per step."""

    plan: Plan
    results: list[StepResult]
    audit_id: int | None = None

    @property
    def status(self) -> str:
        """``done`` (nothing failed), ``failed`` (nothing applied) or ``partial``."""
        outcomes = [r.outcome for r in self.results]
        failed = any(o is Outcome.FAILED for o in outcomes) or any(
            r.state == "not_run" for r in self.results
        )
        if not failed:
            return "done"
        applied = any(o is Outcome.DONE for o in outcomes)
        return "partial" if applied else "failed"

    @property
    def first_failure(self) -> StepResult | None:
        """The first failed step, if any."""
        return next((r for r in self.results if r.outcome is Outcome.FAILED), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "status": self.status,
            "audit_id": self.audit_id,
            "steps": [r.as_dict() for r in self.results],
        }
