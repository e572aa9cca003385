"""Connections: add (multipart with a .p8, or JSON with the PEM), list, test, rotate, remove."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from asc_access.service import connections_flow as flow
from asc_access.service.api.common import ERRORS
from asc_access.service.auth import ApiPrincipal
from asc_access.service.context import context_of
from asc_access.service.uploads import ConnectionInput
from asc_access.store import connections as store

__all__ = ["router"]

router = APIRouter(prefix="/connections", tags=["connections"])

_KEY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["name", "key_id", "private_key"],
                    "properties": {
                        "name": {"type": "string"},
                        "key_id": {"type": "string", "example": "2X9R4HXF34"},
                        "issuer_id": {"type": "string", "format": "uuid"},
                        "individual": {"type": "boolean"},
                        "api_url": {"type": "string"},
                        "force": {"type": "boolean"},
                        "move": {"type": "boolean"},
                        "private_key": {
                            "type": "string",
                            "format": "binary",
                            "description": "The AuthKey_<KEY_ID>.p8 file (at most 10 KiB)",
                        },
                    },
                }
            },
            "application/json": {"schema": ConnectionInput.model_json_schema()},
        },
    }
}


def _saved(outcome_report: dict[str, Any], record: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse({"connection": record, "doctor": outcome_report}, status_code=status)


@router.get("", responses=ERRORS)
def list_all(request: Request, principal: ApiPrincipal) -> dict[str, Any]:
    """Every connection with its health (Connected, or the code, cause and fix) and last sync."""
    del principal
    return {"items": [v.as_dict() for v in flow.connection_views(context_of(request))]}


@router.post("", status_code=201, responses=ERRORS, openapi_extra=_KEY_BODY)
async def add(request: Request, principal: ApiPrincipal) -> JSONResponse:
    """Check the key with the doctor and save the connection when it works.

    A key that fails is a 422 carrying the doctor's verdict (``APP-101`` and its
    cause for a bad key) and the whole report under ``detail.doctor``; nothing is
    saved unless ``force`` is set.
    """
    del principal
    ctx = context_of(request)
    outcome = await flow.add_connection(ctx, request)
    if outcome.record is None:
        problem = flow.problem_for_report(outcome.report)
        return JSONResponse(problem.body(), status_code=problem.status)
    view = flow.connection_view(ctx, outcome.record.name)
    if outcome.warnings:
        body = {"connection": view.as_dict(), "doctor": outcome.report.as_dict()}
        return JSONResponse({**body, "warnings": list(outcome.warnings)}, status_code=201)
    return _saved(outcome.report.as_dict(), view.as_dict(), 201)


@router.get("/{name}", responses=ERRORS)
def get_one(request: Request, name: str, principal: ApiPrincipal) -> dict[str, Any]:
    """One connection."""
    del principal
    return flow.connection_view(context_of(request), name).as_dict()


@router.post("/{name}/doctor", responses=ERRORS)
async def doctor(request: Request, name: str, principal: ApiPrincipal) -> dict[str, Any]:
    """Run the doctor on the saved connection now; its health is updated with the verdict."""
    del principal
    ctx = context_of(request)
    report = await flow.test_connection(ctx, name)
    return {"connection": flow.connection_view(ctx, name).as_dict(), "doctor": report.as_dict()}


@router.put("/{name}/key", responses=ERRORS, openapi_extra=_KEY_BODY)
async def rotate(request: Request, name: str, principal: ApiPrincipal) -> JSONResponse:
    """Replace the connection's key once the new one passes the doctor (history is kept).

    The new key must be of the same team at the same API URL (a 409
    ``rotation_moves_connection`` otherwise) unless ``move`` is set. The old key
    is kept until the new one has synced once, and comes back if that sync shows
    the new key refused or seeing another team.
    """
    del principal
    ctx = context_of(request)
    outcome = await flow.rotate_connection_key(ctx, name, request)
    if outcome.record is None:
        problem = flow.problem_for_report(outcome.report)
        return JSONResponse(problem.body(), status_code=problem.status)
    return _saved(outcome.report.as_dict(), flow.connection_view(ctx, name).as_dict(), 200)


@router.delete("/{name}", responses=ERRORS)
def remove(request: Request, name: str, principal: ApiPrincipal) -> dict[str, Any]:
    """Remove the connection, its key material and everything mirrored for it."""
    del principal
    record = store.delete_connection(context_of(request).engine, name)
    return {"removed": record.name}
