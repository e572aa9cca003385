"""Four-eyes approvals: list the actions waiting for a second person, approve or refuse them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from asc_access.service import approvals as flow
from asc_access.service.api.common import ERRORS, Limit
from asc_access.service.auth import ApiPrincipal
from asc_access.service.context import context_of
from asc_access.store import approvals as store

__all__ = ["router"]

router = APIRouter(prefix="/approvals", tags=["approvals"])


@router.get("", responses=ERRORS)
def list_approvals(
    request: Request,
    principal: ApiPrincipal,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Approval requests, newest first (``pending``, ``executed``, ``refused``, ``expired``...)."""
    del principal
    ctx = context_of(request)
    now = ctx.clock()
    return {"items": [r.as_dict(now) for r in store.list_approvals(ctx.engine, limit=limit)]}


@router.get("/{approval_id}", responses=ERRORS)
def get_approval(request: Request, approval_id: str, principal: ApiPrincipal) -> dict[str, Any]:
    """One approval request."""
    del principal
    ctx = context_of(request)
    return store.get_approval(ctx.engine, approval_id).as_dict(ctx.clock())


@router.post("/{approval_id}/approve", responses=ERRORS)
async def approve(request: Request, approval_id: str, principal: ApiPrincipal) -> dict[str, Any]:
    """Approve (not the requester): plan again from a fresh read of Apple and run it.

    ``403 approver_is_requester`` for the requester; ``410 approval_expired`` once its
    time ran out (nothing runs); ``409 approval_decided`` when already decided.
    """
    ctx = context_of(request)
    record, execution, plan = await flow.approve(ctx, approval_id, principal)
    body: dict[str, Any] = {"approval": record.as_dict(ctx.clock()), "lines": plan.describe()}
    body["execution"] = execution.as_dict() if execution is not None else None
    if execution is None:
        body["refusals"] = [r.as_dict() for r in plan.blocking_refusals]
    return body


@router.post("/{approval_id}/refuse", responses=ERRORS)
def refuse(request: Request, approval_id: str, principal: ApiPrincipal) -> dict[str, Any]:
    """Turn the request down (or, for its requester, withdraw it); nothing runs."""
    ctx = context_of(request)
    return flow.refuse(ctx, approval_id, principal).as_dict(ctx.clock())
