"""Provisioning as plan-then-confirm: POST a plan, read it, then POST its confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from asc_access.actions import Plan
from asc_access.service.actions_flow import ActionRequest, audit_if_final, make_plan, run_plan
from asc_access.service.api.common import ERRORS, not_found
from asc_access.service.approvals import approval_reason, policy_of, request_approval
from asc_access.service.auth import ApiPrincipal
from asc_access.service.context import context_of
from asc_access.service.desired_flow import DesiredRequest, plan_apply
from asc_access.service.plans import PLAN_TTL, PendingPlan
from asc_access.service.roles import require_action_role

__all__ = ["plan_document", "router"]

router = APIRouter(prefix="/actions", tags=["actions"])


def plan_document(pending: PendingPlan) -> dict[str, Any]:
    """A pending plan as the API shows it."""
    plan: Plan = pending.plan
    return {
        "plan_id": pending.id,
        "request": pending.request,
        "plan": plan.as_dict(),
        "lines": plan.describe(),
        "executable": not plan.blocking_refusals,
        "expires_in_seconds": int(PLAN_TTL),
        "confirm_url": f"/api/v1/actions/plans/{pending.id}/confirm",
    }


@router.post("/plans", status_code=201, responses=ERRORS)
async def create_plan(
    request: Request, body: ActionRequest, principal: ApiPrincipal
) -> dict[str, Any]:
    """Plan an action from a fresh read of Apple. Nothing changes until it is confirmed."""
    require_action_role(principal, body.action)
    ctx = context_of(request)
    plan = await make_plan(ctx, body)
    audit_id = audit_if_final(ctx, plan, actor=principal.actor)
    pending = ctx.plans.add(principal.token.token_hash, body.model_dump(), plan)
    return {**plan_document(pending), "audit_id": audit_id}


@router.post("/apply", status_code=201, responses=ERRORS)
async def apply_desired_state(
    request: Request, body: DesiredRequest, principal: ApiPrincipal
) -> dict[str, Any]:
    """Plan a desired-state document (as in ``asc-access plan FILE``); confirm to apply it."""
    require_action_role(principal, "apply")
    ctx = context_of(request)
    plan = await plan_apply(ctx, body.document, force=body.force)
    audit_id = audit_if_final(ctx, plan, actor=principal.actor)
    stored = {"action": "apply", **body.model_dump()}
    pending = ctx.plans.add(principal.token.token_hash, stored, plan)
    return {**plan_document(pending), "audit_id": audit_id}


@router.get("/plans/{plan_id}", responses=ERRORS)
def get_plan(request: Request, plan_id: str, principal: ApiPrincipal) -> dict[str, Any]:
    """A plan waiting for confirmation (only its author's token can see it)."""
    pending = context_of(request).plans.get(plan_id, principal.token.token_hash)
    if pending is None:
        raise not_found("plan", plan_id)
    return plan_document(pending)


@router.post("/plans/{plan_id}/confirm", responses=ERRORS)
async def confirm_plan(
    request: Request, response: Response, plan_id: str, principal: ApiPrincipal
) -> dict[str, Any]:
    """Execute the plan (once). Each step ends ``done``, ``already`` or ``failed``; audited.

    With four-eyes approval on, a plan that removes an Admin, offboards, or applies
    removals is not run: the answer is ``202`` with ``approval`` (pending, for someone
    else to approve at ``/api/v1/approvals/{id}/approve``).
    """
    ctx = context_of(request)
    pending = ctx.plans.get(plan_id, principal.token.token_hash)
    if pending is None:
        raise not_found("plan", plan_id)
    require_action_role(principal, str(pending.request.get("action")))
    pending = ctx.plans.take(plan_id, principal.token.token_hash)
    if pending is None:
        raise not_found("plan", plan_id)
    policy = policy_of(request)
    reason = approval_reason(pending.plan) if policy.enabled else None
    if reason is not None:
        record = request_approval(ctx, policy, principal, pending.plan, pending.request, reason)
        response.status_code = 202
        return {
            "plan_id": plan_id,
            "actor": principal.actor,
            "status": "awaiting_approval",
            "approval": record.as_dict(ctx.clock()),
            "approve_url": f"/api/v1/approvals/{record.id}/approve",
        }
    execution = await run_plan(ctx, pending.plan, actor=principal.actor)
    return {"plan_id": plan_id, "actor": principal.actor, **execution.as_dict()}
