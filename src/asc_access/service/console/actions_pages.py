"""Action forms that show the plan before anything changes, then confirm and show outcomes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from asc_access.actions import ACTION_NAMES
from asc_access.models import Role
from asc_access.service.actions_flow import (
    ActionRequest,
    audit_if_final,
    make_plan,
    run_plan,
)
from asc_access.service.approvals import approval_reason, policy_of, request_approval
from asc_access.service.auth import ConsolePrincipal, FormPrincipal
from asc_access.service.console.common import echo_text, form_list, form_text, split_list
from asc_access.service.console.render import render, render_with_teams
from asc_access.service.context import context_of
from asc_access.service.errors import ServiceError
from asc_access.service.roles import may, require_action_role

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

ACTION_LABELS = {
    "invite": "Invite someone",
    "remove": "Remove a member",
    "cancel-invitation": "Cancel an invitation",
    "set-roles": "Change roles",
    "set-apps": "Change app access",
    "offboard": "Offboard from every team",
}
ASSIGNABLE_ROLES = [r.value for r in Role if r is not Role.ACCOUNT_HOLDER]


@router.get("/actions", response_class=HTMLResponse)
def actions_form(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """The action forms; query parameters pre-fill them (``?action=remove&email=...``)."""
    q = request.query_params
    allowed = {k: v for k, v in ACTION_LABELS.items() if may(principal, k)}
    wanted = q.get("action") or "remove"
    action = wanted if wanted in allowed else next(iter(allowed), "invite")
    return render_with_teams(
        request,
        "actions.html",
        principal,
        nav="actions",
        title="Actions",
        action=action,
        labels=allowed,
        roles=ASSIGNABLE_ROLES,
        values={
            "email": q.get("email", ""),
            "connection": q.get("connection", ""),
            "roles": q.getlist("role"),
        },
        error=None,
    )


def _request_from_form(form_action: str, form: object) -> ActionRequest:

    assert isinstance(form, FormData)
    apps_mode = form_text(form, "apps_mode") or "list"
    apps_text = form_text(form, "apps", max_length=20000)
    data: dict[str, object] = {
        "action": form_action,
        "email": form_text(form, "email", max_length=320),
        "connection": form_text(form, "connection") or None,
        "connections": form_list(form, "connections"),
        "first_name": form_text(form, "first_name"),
        "last_name": form_text(form, "last_name"),
        "roles": form_list(form, "roles"),
        "provisioning": form.get("provisioning") == "on",
        "force": form.get("force") == "on",
    }
    if form_action == "invite":
        data["all_apps"] = apps_mode == "all"
        data["apps"] = split_list(apps_text) if apps_mode == "list" else None
    if form_action == "set-apps":
        if apps_mode == "all":
            data["all_apps"] = True
        elif apps_mode == "add":
            data["add"] = split_list(apps_text)
        elif apps_mode == "remove":
            data["remove"] = split_list(apps_text)
        else:
            data["apps"] = split_list(apps_text)
    return ActionRequest.model_validate(data)


@router.post("/actions/plan", response_class=HTMLResponse)
async def plan(request: Request, principal: FormPrincipal) -> HTMLResponse:
    """Plan the action from a fresh read of Apple and show it, with a confirm button."""
    ctx = context_of(request)
    form = await request.form()
    action = form_text(form, "action")
    if action not in ACTION_NAMES:
        raise ServiceError(400, f"Unknown action {action!r}.", cause="invalid_request")
    require_action_role(principal, action)
    try:
        body = _request_from_form(action, form)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in error.errors()
        )
        return render_with_teams(
            request,
            "actions.html",
            principal,
            status_code=422,
            nav="actions",
            title="Actions",
            action=action,
            labels=ACTION_LABELS,
            roles=ASSIGNABLE_ROLES,
            values={
                "email": echo_text(form, "email"),
                "connection": echo_text(form, "connection"),
                "roles": form_list(form, "roles"),
            },
            error=problems,
        )
    planned = await make_plan(ctx, body)
    audit_if_final(ctx, planned, actor=principal.actor)
    pending = ctx.plans.add(principal.token.token_hash, body.model_dump(), planned)
    return render(
        request,
        "plan.html",
        principal,
        nav="actions",
        title="Review the plan",
        pending=pending,
        plan=planned,
        label=ACTION_LABELS[action],
    )


@router.post("/actions/plans/{plan_id}/confirm", response_class=HTMLResponse)
async def confirm(
    request: Request,
    plan_id: str,
    principal: FormPrincipal,
) -> HTMLResponse:
    """Execute a plan shown before; show each step's outcome."""
    ctx = context_of(request)
    waiting = ctx.plans.get(plan_id, principal.token.token_hash)
    if waiting is not None:
        require_action_role(principal, str(waiting.request.get("action")))
    pending = ctx.plans.take(plan_id, principal.token.token_hash)
    if pending is None:
        raise ServiceError(
            404,
            "This plan is no longer waiting: it ran, expired, or was made by another token.",
            cause="not_found",
            title="Unknown plan",
            resolution=["Plan the action again from the Actions page."],
        )
    policy = policy_of(request)
    reason = approval_reason(pending.plan) if policy.enabled else None
    if reason is not None:
        record = request_approval(ctx, policy, principal, pending.plan, pending.request, reason)
        return render(
            request,
            "awaiting_approval.html",
            principal,
            status_code=202,
            nav="actions",
            title="Waiting for approval",
            approval=record.as_dict(ctx.clock()),
        )
    execution = await run_plan(ctx, pending.plan, actor=principal.actor)
    return render(
        request,
        "executed.html",
        principal,
        nav="actions",
        title="Action finished",
        execution=execution,
        plan=pending.plan,
    )
