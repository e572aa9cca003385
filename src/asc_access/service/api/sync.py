"""Syncs: start one, watch its progress, read past runs (failures with their code and cause)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from asc_access.service import library
from asc_access.service.api.common import ERRORS, Limit, RowId, not_found
from asc_access.service.auth import ApiPrincipal
from asc_access.service.context import ServiceContext, context_of
from asc_access.store.runs import get_run, list_runs, run_for_request_key

__all__ = ["router", "start_sync"]

router = APIRouter(tags=["sync"])


def _run_doc(run: dict[str, Any]) -> dict[str, Any]:
    run["url"] = f"/api/v1/sync/runs/{run['id']}"
    run["explanation"] = library.explain_cause(run.get("code"), run.get("cause"))
    return run


async def start_sync(ctx: ServiceContext, name: str) -> tuple[bool, int | None]:
    """Start a sync of ``name``; return whether it started and the new run's id (if seen)."""
    library.connection_id(ctx.engine, name)  # 404 for an unknown name
    key = f"service:{uuid.uuid4().hex}"
    if not ctx.syncs.start(name, key):
        return False, None
    # The sync opens its run row first thing; wait briefly so the answer can name it.
    for _ in range(100):
        await asyncio.sleep(0.02)
        with ctx.engine.connect() as conn:
            run = run_for_request_key(conn, key)
        if run is not None:
            return True, run.id
        if not ctx.syncs.running(name):
            break
    return True, None


@router.post("/connections/{name}/sync", status_code=202, responses=ERRORS)
async def trigger_sync(request: Request, name: str, principal: ApiPrincipal) -> JSONResponse:
    """Start syncing the connection in the background (one sync per connection at a time)."""
    del principal
    ctx = context_of(request)
    started, run_id = await start_sync(ctx, name)
    body: dict[str, Any] = {
        "connection": name,
        "started": started,
        "already_running": not started,
        "run_id": run_id,
        "run_url": f"/api/v1/sync/runs/{run_id}" if run_id else None,
        "runs_url": f"/api/v1/sync/runs?connection={name}",
    }
    deferral = ctx.syncs.deferred.get(name)
    if deferral is not None:
        body["deferred_until"] = deferral.until.isoformat(timespec="seconds")
        body["message"] = str(deferral)
    elif not started:
        body["message"] = f"a sync of {name!r} is already running"
    elif run_id is None:
        failure = ctx.syncs.early_failures.get(name)
        if failure is not None:
            body["error"] = {
                "code": failure.code,
                "cause": failure.cause,
                "message": failure.message,
            }
    return JSONResponse(body, status_code=202)


@router.get("/sync/runs", responses=ERRORS)
def runs(
    request: Request,
    principal: ApiPrincipal,
    connection: str | None = None,
    status: Annotated[str | None, Query(pattern="^(running|succeeded|failed)$")] = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Runs, newest first; failed runs carry their catalogue code, cause and fix."""
    del principal
    ctx = context_of(request)
    ids = [library.connection_id(ctx.engine, connection)] if connection else None
    with ctx.engine.connect() as conn:
        records = list_runs(conn, connection_ids=ids, status=status, limit=limit)
    return {"items": [_run_doc(r.as_dict()) for r in records], "limit": limit}


@router.get("/sync/runs/{run_id}", responses=ERRORS)
def run(request: Request, run_id: RowId, principal: ApiPrincipal) -> dict[str, Any]:
    """One run, with live ``progress`` while it is ``running``."""
    del principal
    ctx = context_of(request)
    with ctx.engine.connect() as conn:
        record = get_run(conn, run_id)
    if record is None:
        raise not_found("sync run", run_id)
    return _run_doc(record.as_dict())


@router.get("/sync/progress", responses=ERRORS)
def progress(request: Request, principal: ApiPrincipal) -> dict[str, Any]:
    """Every sync running now, with items done out of the totals Apple reported."""
    del principal
    ctx = context_of(request)
    with ctx.engine.connect() as conn:
        records = list_runs(conn, status="running", limit=100)
    running = set(ctx.syncs.running_names())
    return {
        "running": sorted(running),
        "items": [_run_doc(r.as_dict()) for r in records if r.connection in running],
    }
