"""Provisioning as plan-then-confirm: POST a plan, read it, then POST its confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from asc_access.actions import Plan
from asc_access.service.actions_flow import ActionRequest, audit_if_final, make_plan, run_plan
from asc_access.service.api.common import ERRORS, not_found
from asc_access.service.auth import ApiPrincipal
from asc_access.service.context import context_of
from asc_access.service.plans import PLAN_TTL, PendingPlan

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
    ctx = context_of(request)
    plan = await make_plan(ctx, body)
    audit_id = audit_if_final(ctx, plan, actor=principal.actor)
    pending = ctx.plans.add(principal.token.id, body.model_dump(), plan)
    return {**plan_document(pending), "audit_id": audit_id}


@router.get("/plans/{plan_id}", responses=ERRORS)
def get_plan(request: Request, plan_id: str, principal: ApiPrincipal) -> dict[str, Any]:
    """A plan waiting for confirmation (only its author's token can see it)."""
    pending = context_of(request).plans.get(plan_id, principal.token.id)
    if pending is None:
        raise not_found("plan", plan_id)
    return plan_document(pending)


@router.post("/plans/{plan_id}/confirm", responses=ERRORS)
async def confirm_plan(request: Request, plan_id: str, principal: ApiPrincipal) -> dict[str, Any]:
    """Execute the plan (once). Each step ends ``done``, ``already`` or ``failed``; audited."""
    ctx = context_of(request)
    pending = ctx.plans.take(plan_id, principal.token.id)
    if pending is None:
        raise not_found("plan", plan_id)
    execution = await run_plan(ctx, pending.plan, actor=principal.actor)
    return {"plan_id": plan_id, "actor": principal.actor, **execution.as_dict()}
