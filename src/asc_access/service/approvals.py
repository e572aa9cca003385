"""Four-eyes approval: risky actions wait for a second person, then run on a fresh plan.

With ``ASC_ACCESS_FOUR_EYES=true``, confirming a plan that removes an Admin, takes
the Admin role away, offboards someone, or applies a desired state that removes
anyone does not run it: it records an approval request (``store/approvals.py``).
Someone else with the role the action needs approves it within
``ASC_ACCESS_APPROVAL_TTL`` seconds (default a day); the action is then planned
again against a fresh read of Apple and run, audited with the requester as the
actor and both names on the entry. The requester cannot approve their own
request; an expired request does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.requests import HTTPConnection

from asc_access.actions import Execution, Plan, StepKind
from asc_access.errors import UsageError
from asc_access.service.actions_flow import run_plan
from asc_access.service.auth import Principal
from asc_access.service.context import ServiceContext
from asc_access.service.desired_flow import plan_request
from asc_access.service.errors import ServiceError
from asc_access.service.roles import require_action_role
from asc_access.store import approvals as store
from asc_access.store.audit import record_approval

__all__ = [
    "ApprovalPolicy",
    "approval_reason",
    "approve",
    "policy_of",
    "refuse",
    "request_approval",
]

_TRUE = {"1", "true", "yes", "on"}
_ADMIN = "ADMIN"
_REMOVALS = (StepKind.REMOVE_USER, StepKind.CANCEL_INVITATION)


@dataclass(frozen=True)
class ApprovalPolicy:
    """Whether risky actions need a second person, and how long a request waits."""

    enabled: bool = False
    ttl_seconds: float = 24 * 3600.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ApprovalPolicy:
        """``ASC_ACCESS_FOUR_EYES`` (true/false) and ``ASC_ACCESS_APPROVAL_TTL`` (seconds)."""
        enabled = environ.get("ASC_ACCESS_FOUR_EYES", "").strip().lower() in _TRUE
        raw = environ.get("ASC_ACCESS_APPROVAL_TTL", "").strip()
        try:
            ttl = float(raw) if raw else 24 * 3600.0
        except ValueError:
            raise UsageError(f"ASC_ACCESS_APPROVAL_TTL={raw!r}: give seconds") from None
        if ttl <= 0:
            raise UsageError("ASC_ACCESS_APPROVAL_TTL must be a positive number of seconds")
        return cls(enabled=enabled, ttl_seconds=ttl)


def policy_of(conn: HTTPConnection) -> ApprovalPolicy:
    """The app's approval policy (off when none was given)."""
    policy = getattr(conn.app.state, "approvals", None)
    return policy if isinstance(policy, ApprovalPolicy) else ApprovalPolicy()


def approval_reason(plan: Plan) -> str | None:
    """Why ``plan`` needs a second person's approval, or ``None``."""
    changes = plan.changes
    if not changes:
        return None
    if plan.action == "offboard":
        return f"offboards {plan.target}"
    for step in changes:
        before = step.before.roles if step.before else ()
        if _ADMIN not in before:
            continue
        if step.kind is StepKind.REMOVE_USER:
            return f"removes the Admin {step.email} from {step.connection}"
        after = step.after.roles if step.after else ()
        if step.kind is StepKind.UPDATE_USER and _ADMIN not in after:
            return f"takes the Admin role from {step.email} on {step.connection}"
    if plan.action == "apply" and any(s.kind in _REMOVALS for s in changes):
        return "applies a desired state that removes access"
    return None


def request_approval(
    ctx: ServiceContext,
    policy: ApprovalPolicy,
    principal: Principal,
    plan: Plan,
    request: dict[str, Any],
    reason: str,
) -> store.ApprovalRecord:
    """Record ``plan`` (made for ``request``) as waiting for someone else's approval."""
    now = ctx.clock()
    return store.create_approval(
        ctx.engine,
        action=plan.action,
        target=plan.target,
        request=request,
        reason=reason,
        lines=list(plan.describe()),
        requested_by=principal.actor,
        now=now,
        expires_at=now + timedelta(seconds=policy.ttl_seconds),
    )


def _problem(status: int, message: str, cause: str, title: str, fix: str) -> ServiceError:
    return ServiceError(status, message, cause=cause, title=title, resolution=[fix])


def _decidable(ctx: ServiceContext, approval_id: str, principal: Principal) -> store.ApprovalRecord:
    record = store.get_approval(ctx.engine, approval_id)
    now = ctx.clock()
    status = record.status_at(now)
    if status == "expired":
        if record.status == "pending":
            store.claim(ctx.engine, record.id, status="expired", decided_by="", now=now)
        raise _problem(
            410,
            f"The approval request {record.id!r} expired at {record.expires_at:%Y-%m-%d %H:%M} UTC;"
            " nothing was changed.",
            "approval_expired",
            "The approval request expired",
            "Plan the action again and ask for approval again.",
        )
    if status != "pending":
        raise _problem(
            409,
            f"The approval request {record.id!r} is already {status}.",
            "approval_decided",
            "Already decided",
            "Nothing to do: see the audit log for what ran.",
        )
    if principal.actor == record.requested_by:
        raise _problem(
            403,
            f"{principal.actor} asked for this change and cannot also approve it.",
            "approver_is_requester",
            "A second person must approve",
            "Ask someone else with the role it needs to approve it.",
        )
    require_action_role(principal, record.action)
    return record


async def approve(
    ctx: ServiceContext, approval_id: str, principal: Principal
) -> tuple[store.ApprovalRecord, Execution | None, Plan]:
    """Approve, plan again from a fresh read, and run (as the requester); audited with both."""
    record = _decidable(ctx, approval_id, principal)
    if not store.claim(
        ctx.engine, record.id, status="approved", decided_by=principal.actor, now=ctx.clock()
    ):
        raise _problem(
            409,
            f"The approval request {record.id!r} was decided by someone else just now.",
            "approval_decided",
            "Already decided",
            "Reload: see the audit log for what ran.",
        )
    try:
        plan = await plan_request(ctx, record.request)
        if plan.blocking_refusals:
            store.finish_approval(ctx.engine, record.id, status="failed", audit_entry_id=None)
            return store.get_approval(ctx.engine, record.id), None, plan
        execution = await run_plan(ctx, plan, actor=record.requested_by)
    except BaseException:
        store.finish_approval(ctx.engine, record.id, status="failed", audit_entry_id=None)
        raise
    audit_id = execution.audit_id
    if audit_id is not None:
        record_approval(
            ctx.engine, audit_id, requested_by=record.requested_by, approved_by=principal.actor
        )
    store.finish_approval(ctx.engine, record.id, status="executed", audit_entry_id=audit_id)
    return store.get_approval(ctx.engine, record.id), execution, plan


def refuse(ctx: ServiceContext, approval_id: str, principal: Principal) -> store.ApprovalRecord:
    """Turn the request down; nothing runs (the requester may withdraw their own)."""
    record = store.get_approval(ctx.engine, approval_id)
    if principal.actor != record.requested_by:
        record = _decidable(ctx, approval_id, principal)
    elif record.status_at(ctx.clock()) != "pending":
        raise _problem(
            409,
            f"The approval request {record.id!r} is already {record.status_at(ctx.clock())}.",
            "approval_decided",
            "Already decided",
            "Nothing to do.",
        )
    store.claim(
        ctx.engine, record.id, status="refused", decided_by=principal.actor, now=ctx.clock()
    )
    return store.get_approval(ctx.engine, record.id)
