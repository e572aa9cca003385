"""Typed values of provisioning: steps, refusals, plans and outcome names.

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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from asc_access.actions.access import Access, app_names
from asc_access.ids import AppId

__all__ = [
    "Access",
    "Outcome",
    "Plan",
    "Refusal",
    "Rule",
    "Step",
    "StepKind",
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
    UNREADABLE = "unreadable"


#: The actions that plan a desired-state file (their target is the file).
DESIRED_ACTIONS = frozenset({"plan", "apply"})

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
            parts.append("add " + app_names(self.add_app_ids, labels))
        if self.remove_app_ids:
            parts.append("remove " + app_names(self.remove_app_ids, labels))
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
    """Something asked for that will not be done, and why.

    Most refusals block the whole plan (``blocks``); ``forceable`` ones stop
    blocking with ``--force``. A team that could not be read during an
    offboard does not block the other teams (``blocks`` false) but keeps the
    command from reporting success; ``code`` is then the catalogue code of
    the error that stopped the read.
    """

    connection: str
    email: str
    rule: Rule
    reason: str
    forceable: bool = False
    blocks: bool = True
    code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "connection": self.connection,
            "email": self.email,
            "rule": self.rule.value,
            "reason": self.reason,
            "forceable": self.forceable,
            "blocks": self.blocks,
            "code": self.code,
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
            blocks=bool(data.get("blocks", True)),
            code=data.get("code"),
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
        return tuple(r for r in self.refusals if r.blocks and not (r.forceable and self.force))

    @property
    def incomplete(self) -> tuple[Refusal, ...]:
        """Non-blocking refusals: parts of the request this plan cannot cover (unreadable teams)."""
        return tuple(r for r in self.refusals if not r.blocks)

    def describe(self) -> list[str]:
        """Human lines, one per step / refusal / note, grouped by team."""
        lines: list[str] = [f"{self.title()} — {self.counts_text()}"]
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
                f"    ! {'refused' if refusal.blocks else 'not covered'} "
                f"({refusal.rule.value}): {refusal.email}: {refusal.reason}"
                for refusal in refusals
            )
        lines.extend(f"  note: {note}" for note in self.notes)
        return lines

    def title(self) -> str:
        """``Plan: invite dana@…``; for a desired-state file ``Plan: make the teams match FILE``."""
        if self.action in DESIRED_ACTIONS:
            return f"Plan: make the teams match {self.target}"
        return f"Plan: {self.action} {self.target}"

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
