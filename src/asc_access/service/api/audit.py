"""The audit log: what was changed, by whom (``token:<name>`` for the service), and how."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request

from asc_access.service.api.common import ERRORS, Limit, RowId
from asc_access.service.auth import ApiPrincipal
from asc_access.service.context import context_of
from asc_access.store.audit import get_entry, list_entries

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", responses=ERRORS)
def audit_log(
    request: Request,
    principal: ApiPrincipal,
    connection: str | None = None,
    since: datetime | None = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Newest entries first."""
    del principal
    entries = list_entries(
        context_of(request).engine, limit=limit, connection=connection, since=since
    )
    return {"items": [e.as_dict() for e in entries], "limit": limit}


@router.get("/{entry_id}", responses=ERRORS)
def audit_entry(request: Request, entry_id: RowId, principal: ApiPrincipal) -> dict[str, Any]:
    """One entry with its plan and every step's outcome and Apple request ids."""
    del principal
    return get_entry(context_of(request).engine, entry_id).as_dict()
