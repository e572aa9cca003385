"""Close a campaign: freeze its decisions, carry out revoke / reduce through the actions engine.

Each revoke or reduce becomes the plan the matching command would make
(``remove`` / ``cancel-invitation`` / ``set-roles`` / ``set-apps``, planned on
a fresh read of Apple, safety rules included); the plans are joined into one
plan audited as the campaign (action ``campaign``), shown, confirmed and
executed step by step with read-back. Every item then records its outcome
(``kept``, ``done``, ``already``, ``failed``, ``refused``, ``undecided``) and
the access the mirror holds for it afterwards.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from asc_access.actions import (
    Execution,
    Plan,
    Refusal,
    Rule,
    Step,
    Team,
    execute_plan,
    plan_cancel_invitation,
    plan_remove,
    plan_set_apps,
    plan_set_roles,
)
from asc_access.actions.access import Access
from asc_access.actions.reads import resolve_apps
from asc_access.actions.safety import needs_all_apps
from asc_access.errors import AscAccessError, UsageError
from asc_access.store import campaigns as store
from asc_access.store.queries import PersonRow, export_rows, resolve_connections

if TYPE_CHECKING:
    from asc_access.store.handle import Database

__all__ = ["CloseResult", "close"]

Confirm = Callable[[Plan], Awaitable[bool] | bool]


@dataclass(slots=True)
class CloseResult:
    """What closing did: the joined plan, its execution (if any), each item's outcome."""

    campaign_id: int
    plan: Plan
    execution: Execution | None = None
    outcomes: dict[int, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The ``campaigns close --json`` document."""
        counts: dict[str, int] = {}
        for values in self.outcomes.values():
            counts[values["outcome"]] = counts.get(values["outcome"], 0) + 1
        return {
            "id": self.campaign_id,
            "status": "closed",
            "plan": self.plan.as_dict(),
            "audit_id": self.execution.audit_id if self.execution else None,
            "execution": self.execution.status if self.execution else None,
            "outcomes": counts,
        }


async def _reduce(team: Team, item: store.Item) -> Plan:
    roles, apps = item.decision_roles, item.decision_apps
    if roles and apps:
        if needs_all_apps(roles):
            raise UsageError(f"roles {', '.join(roles)} always see every app: no --app to give")
        plan = await plan_set_roles(team, item.email, roles)
        if plan.blocking_refusals or not plan.steps:
            return plan
        step = plan.steps[0]
        assert step.after is not None
        ids = await resolve_apps(team.source, apps, team=team.name)
        after = Access.of(
            step.after.roles,
            all_apps_visible=False,
            provisioning_allowed=step.after.provisioning_allowed,
            app_ids=ids,
        )
        changed = replace(step, after=after, satisfied=after == step.before, reason="reduce")
        return replace(plan, steps=(changed,))
    if roles:
        return await plan_set_roles(team, item.email, roles)
    return await plan_set_apps(team, item.email, apps=list(apps or ()))


async def _plan_item(team: Team, item: store.Item) -> Plan:
    if item.decision == "revoke":
        if item.status == "invited":
            return await plan_cancel_invitation(team, item.email)
        return await plan_remove(team, item.email)
    return await _reduce(team, item)


def _join(
    campaign: store.Campaign, plans: list[tuple[store.Item, Plan]]
) -> tuple[Plan, dict[int, list[int]]]:
    steps: list[Step] = []
    refusals: list[Refusal] = []
    notes: list[str] = []
    owners: dict[int, list[int]] = {}
    for item, plan in plans:
        offset = len(steps)
        for step in plan.steps:
            moved = replace(
                step,
                index=offset + step.index,
                after_steps=tuple(offset + i for i in step.after_steps),
            )
            steps.append(moved)
            owners.setdefault(item.id, []).append(moved.index)
        refusals.extend(plan.refusals)
        notes.extend(plan.notes)
    joined = Plan(
        action="campaign",
        target=f"campaign {campaign.id}: {campaign.name}",
        connections=campaign.connections,
        steps=tuple(steps),
        refusals=tuple(r for r in refusals if not r.blocks),
        notes=tuple(dict.fromkeys(notes)),
    )
    return joined, owners


async def _plans(
    teams: Mapping[str, Team], items: list[store.Item], outcomes: dict[int, dict[str, Any]]
) -> list[tuple[store.Item, Plan]]:
    plans: list[tuple[store.Item, Plan]] = []
    for item in items:
        if item.decision is None:
            outcomes[item.id] = {"outcome": "undecided", "outcome_detail": "no decision made"}
            continue
        if item.decision == "keep":
            outcomes[item.id] = {"outcome": "kept", "outcome_detail": item.comment or "kept"}
            continue
        try:
            plan = await _plan_item(teams[item.connection], item)
        except AscAccessError as error:
            outcomes[item.id] = {"outcome": "failed", "outcome_detail": error.message}
            continue
        blocking = plan.blocking_refusals
        if blocking:
            gone = all(r.rule is Rule.NOT_FOUND for r in blocking)
            detail = "; ".join(r.reason for r in blocking)
            outcomes[item.id] = {
                "outcome": "already" if gone else "refused",
                "outcome_detail": detail,
            }
            continue
        plans.append((item, plan))
    return plans


def _record_steps(
    execution: Execution | None, owners: dict[int, list[int]], outcomes: dict[int, dict[str, Any]]
) -> None:
    results = {r.step.index: r for r in execution.results} if execution else {}
    for item_id, indexes in owners.items():
        mine = [results[i] for i in indexes if i in results]
        names = [r.outcome.value if r.outcome else r.state for r in mine]
        if any(n in ("failed", "not_run", "pending") for n in names) or not mine:
            outcome = "failed"
        elif all(n == "already" for n in names):
            outcome = "already"
        else:
            outcome = "done"
        detail = "; ".join(f"{r.step.summary()}: {r.message}" for r in mine)
        outcomes[item_id] = {"outcome": outcome, "outcome_detail": detail or "not run"}


def _after(engine: Database, campaign: store.Campaign, items: list[store.Item]) -> dict[int, Any]:
    with engine.connect() as conn:
        teams = resolve_connections(conn, None)
        ids = [i for i, name in teams.items() if name in campaign.connections]
        rows: dict[tuple[str, str, str], PersonRow] = {
            (p.connection, p.email, p.status): p for p in export_rows(conn, connection_ids=ids)
        }
    out: dict[int, Any] = {}
    for item in items:
        person = rows.get((item.connection, item.email, item.status))
        out[item.id] = (
            None
            if person is None
            else {
                "roles": list(person.roles),
                "all_apps_visible": person.sees_all_apps,
                "apps": person.app_refs,
            }
        )
    return out


async def close(
    engine: Database,
    campaign_id: int,
    teams: Mapping[str, Team],
    *,
    actor: str,
    confirm: Confirm | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CloseResult:
    """Freeze, plan, confirm, execute, record. ``confirm`` returning false stops before any write.

    Raises:
        UsageError: the campaign is already closed, or the plan was not confirmed.
    """
    campaign = store.get_campaign(engine, campaign_id)
    if campaign.status != "open":
        raise UsageError(f"campaign {campaign_id} is already closed")
    items = store.list_items(engine, campaign_id)
    outcomes: dict[int, dict[str, Any]] = {}
    plans = await _plans(teams, items, outcomes)
    plan, owners = _join(campaign, plans)
    if confirm is not None:
        answer = confirm(plan)
        if not (await answer if not isinstance(answer, bool) else answer):
            raise UsageError("not confirmed: the campaign stays open, nothing was changed")
    if not store.close_campaign(engine, campaign_id, closed_by=actor, now=clock(), audit_id=None):
        raise UsageError(f"campaign {campaign_id} is already closed")
    execution = None
    if plan.steps:
        execution = await execute_plan(plan, teams, engine=engine, actor=actor, clock=clock)
        store.set_campaign_audit(engine, campaign_id, execution.audit_id)
    _record_steps(execution, owners, outcomes)
    for item_id, after in _after(engine, campaign, items).items():
        outcomes.setdefault(item_id, {"outcome": "undecided", "outcome_detail": ""})["after"] = (
            after
        )
    store.set_outcomes(engine, outcomes)
    return CloseResult(campaign_id, plan, execution, outcomes)
