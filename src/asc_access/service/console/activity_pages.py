"""Sync (live progress, runs and their failures) and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from asc_access.service import library
from asc_access.service.api.common import RowId
from asc_access.service.api.sync import start_sync
from asc_access.service.auth import ConsolePrincipal, FormPrincipal
from asc_access.service.console.common import see_other
from asc_access.service.console.render import render, render_with_teams
from asc_access.service.context import context_of
from asc_access.service.errors import ServiceError
from asc_access.store.audit import get_entry, list_entries
from asc_access.store.runs import get_run, list_runs

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/sync", response_class=HTMLResponse)
def sync_page(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """Connections with a "Sync now" button, syncs running now (live), and recent runs."""
    ctx = context_of(request)
    name = request.query_params.get("connection") or None
    ids = [library.connection_id(ctx.engine, name)] if name else None
    with ctx.engine.connect() as conn:
        runs = list_runs(conn, connection_ids=ids, limit=50)
    running = set(ctx.syncs.running_names())
    return render_with_teams(
        request,
        "sync.html",
        principal,
        nav="sync",
        title="Sync",
        runs=runs,
        running=running,
        early_failures=ctx.syncs.early_failures,
        explain=library.explain_cause,
        selected=name,
        scheduler_on=request.app.state.scheduler.running,
    )


@router.post("/sync/{name}")
async def sync_now(request: Request, name: str, principal: FormPrincipal) -> RedirectResponse:
    """Start a sync and go to its live progress."""
    del principal
    ctx = context_of(request)
    _started, run_id = await start_sync(ctx, name)
    if run_id is not None:
        return see_other(f"/sync/runs/{run_id}")
    return see_other(f"/sync?connection={name}")


@router.get("/sync/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: RowId, principal: ConsolePrincipal) -> HTMLResponse:
    """One run: live progress while running; the summary, or the failure and its fix."""
    ctx = context_of(request)
    with ctx.engine.connect() as conn:
        run = get_run(conn, run_id)
    if run is None:
        raise ServiceError(404, f"There is no sync run {run_id}.", cause="not_found")
    return render(
        request,
        "run.html",
        principal,
        nav="sync",
        title=f"Sync of {run.connection}",
        run=run,
        live=run.status == "running" and ctx.syncs.running(run.connection),
        explanation=library.explain_cause(run.error_code, run.error_cause),
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """What was changed, by whom, with what outcome (newest first)."""
    ctx = context_of(request)
    name = request.query_params.get("connection") or None
    entries = list_entries(ctx.engine, limit=100, connection=name)
    return render_with_teams(
        request,
        "audit.html",
        principal,
        nav="audit",
        title="Audit log",
        entries=entries,
        selected=name,
    )


@router.get("/audit/{entry_id}", response_class=HTMLResponse)
def audit_entry_page(
    request: Request, entry_id: RowId, principal: ConsolePrincipal
) -> HTMLResponse:
    """One audit entry: the plan and each step's outcome with Apple's request ids."""
    entry = get_entry(context_of(request).engine, entry_id)
    return render(
        request, "audit_entry.html", principal, nav="audit", title=f"Audit {entry_id}", entry=entry
    )
