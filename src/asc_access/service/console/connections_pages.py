"""Connections: health at a glance, add with a .p8 upload (the doctor's verdict shown), test,
rotate, remove."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from asc_access.diagnosis.report import DoctorReport
from asc_access.service import connections_flow as flow
from asc_access.service.auth import ConsolePrincipal, FormPrincipal, Principal
from asc_access.service.console.common import echo_text, see_other
from asc_access.service.console.render import render
from asc_access.service.context import context_of
from asc_access.service.errors import Problem, ServiceError, problem_for
from asc_access.service.explain import from_finding
from asc_access.store import connections as store
from asc_access.store.runs import list_runs

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

CAPABILITY_LABELS = {
    "read_apps": "Read apps",
    "read_users": "Read users",
    "read_invitations": "Read invitations",
    "manage_users": "Manage users",
}


def _report_view(report: DoctorReport) -> dict[str, object]:
    return {
        "ok": report.ok,
        "findings": [from_finding(f) for f in report.findings],
        "checks": report.checks,
        "capabilities": report.capabilities,
        "key_type": report.key_type,
        "clock_skew": report.clock_skew_seconds,
        "rate_limit": report.rate_limit,
        "usage_error": report.usage_error,
    }


@router.get("/connections", response_class=HTMLResponse)
def connections_page(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """Every connection with its health badge and its last sync."""
    ctx = context_of(request)
    return render(
        request,
        "connections.html",
        principal,
        nav="connections",
        title="Connections",
        views=flow.connection_views(ctx),
        early_failures=ctx.syncs.early_failures,
    )


def _new_form(
    request: Request,
    principal: Principal,
    *,
    values: dict[str, str],
    report: dict[str, object] | None = None,
    problem: Problem | None = None,
    status: int = 200,
) -> HTMLResponse:
    ctx = context_of(request)
    return render(
        request,
        "connection_new.html",
        principal,
        status_code=status,
        nav="connections",
        title="Add a connection",
        values={"api_url": ctx.settings.api_url, **values},
        report=report,
        problem=problem,
        max_key_bytes=ctx.max_key_bytes,
        capability_labels=CAPABILITY_LABELS,
    )


@router.get("/connections/new", response_class=HTMLResponse)
def new_connection_form(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """The add-connection form."""
    return _new_form(request, principal, values={})


@router.post("/connections/new", response_class=HTMLResponse)
async def new_connection(request: Request, principal: FormPrincipal) -> Response:
    """Check the uploaded key with the doctor; save the connection when it works."""
    ctx = context_of(request)
    form = await request.form()
    values = {
        k: echo_text(form, k) for k in ("name", "key_id", "issuer_id", "api_url", "individual")
    }
    try:
        outcome = await flow.add_connection(ctx, request)
    except ServiceError as error:
        problem = problem_for(error)
        return _new_form(request, principal, values=values, problem=problem, status=problem.status)
    report = _report_view(outcome.report)
    if outcome.record is None:
        problem = flow.problem_for_report(outcome.report)
        return _new_form(
            request, principal, values=values, report=report, problem=problem, status=problem.status
        )
    return render(
        request,
        "connection_added.html",
        principal,
        nav="connections",
        title=f"Connected {outcome.record.name}",
        view=flow.connection_view(ctx, outcome.record.name),
        report=report,
        capability_labels=CAPABILITY_LABELS,
    )


def _detail(
    request: Request,
    principal: Principal,
    name: str,
    *,
    report: dict[str, object] | None = None,
    problem: Problem | None = None,
    flash: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    ctx = context_of(request)
    view = flow.connection_view(ctx, name)
    with ctx.engine.connect() as conn:
        runs = list_runs(conn, connection_ids=[view.record.id], limit=10)
    return render(
        request,
        "connection.html",
        principal,
        status_code=status,
        nav="connections",
        title=name,
        view=view,
        runs=runs,
        report=report,
        problem=problem,
        flash=flash,
        flash_kind="ok",
        capability_labels=CAPABILITY_LABELS,
        early_failure=ctx.syncs.early_failures.get(name),
    )


@router.get("/connections/{name}", response_class=HTMLResponse)
def connection_page(request: Request, name: str, principal: ConsolePrincipal) -> HTMLResponse:
    """One connection: health and its fix, capabilities, recent syncs, rotate and remove."""
    return _detail(request, principal, name)


@router.post("/connections/{name}/test", response_class=HTMLResponse)
async def test(request: Request, name: str, principal: FormPrincipal) -> HTMLResponse:
    """Run the doctor on the saved connection and show its report."""
    store.get_connection(context_of(request).engine, name)
    report = await flow.test_connection(context_of(request), name)
    return _detail(request, principal, name, report=_report_view(report))


@router.post("/connections/{name}/rotate", response_class=HTMLResponse)
async def rotate(request: Request, name: str, principal: FormPrincipal) -> HTMLResponse:
    """Replace the key once the new one passes the doctor."""
    try:
        outcome = await flow.rotate_connection_key(context_of(request), name, request)
    except ServiceError as error:
        problem = problem_for(error)
        return _detail(request, principal, name, problem=problem, status=problem.status)
    if outcome.record is None:
        problem = flow.problem_for_report(outcome.report)
        return _detail(
            request,
            principal,
            name,
            report=_report_view(outcome.report),
            problem=problem,
            status=problem.status,
        )
    return _detail(
        request,
        principal,
        name,
        report=_report_view(outcome.report),
        flash="The new key works and is in use; the old one is kept until the new key has "
        "synced once. After that sync, revoke the old key in App Store Connect.",
    )


@router.post("/connections/{name}/remove")
async def remove(request: Request, name: str, principal: FormPrincipal) -> Response:
    """Remove the connection (key material and mirrored data go with it)."""
    form = await request.form()
    if form.get("confirm") != name:
        return _detail(
            request,
            principal,
            name,
            problem=Problem(
                status=422,
                code=None,
                cause="not_confirmed",
                title="Type the connection's name to remove it",
                message="The name typed did not match, so nothing was removed.",
            ),
            status=422,
        )
    store.delete_connection(context_of(request).engine, name)
    return see_other("/connections")
