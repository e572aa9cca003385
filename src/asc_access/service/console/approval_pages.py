"""Four-eyes approvals in the console: what waits for a second person, approve or refuse."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from asc_access.service import approvals as flow
from asc_access.service.auth import ConsolePrincipal, FormPrincipal
from asc_access.service.console.render import render
from asc_access.service.context import context_of
from asc_access.store import approvals as store

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """Every approval request, newest first; pending ones with their buttons."""
    ctx = context_of(request)
    now = ctx.clock()
    items = [r.as_dict(now) for r in store.list_approvals(ctx.engine)]
    return render(
        request, "approvals.html", principal, nav="approvals", title="Approvals", approvals=items
    )


@router.post("/approvals/{approval_id}/approve", response_class=HTMLResponse)
async def approve(
    request: Request,
    approval_id: str,
    principal: FormPrincipal,
) -> HTMLResponse:
    """Approve: plan again from a fresh read, run, show each step's outcome."""
    ctx = context_of(request)
    record, execution, plan = await flow.approve(ctx, approval_id, principal)
    if execution is None:
        return render(
            request,
            "plan.html",
            principal,
            status_code=409,
            nav="approvals",
            title="The fresh plan cannot run",
            pending=None,
            plan=plan,
            label=record.action,
        )
    return render(
        request,
        "executed.html",
        principal,
        nav="approvals",
        title="Action finished",
        execution=execution,
        plan=plan,
    )


@router.post("/approvals/{approval_id}/refuse", response_class=HTMLResponse)
async def refuse(
    request: Request,
    approval_id: str,
    principal: FormPrincipal,
) -> HTMLResponse:
    """Turn the request down; nothing runs."""
    flow.refuse(context_of(request), approval_id, principal)
    return approvals_page(request, principal)
