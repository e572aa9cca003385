"""The REST API under ``/api/v1`` (described at ``/api/openapi.json``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from asc_access.service.api import (
    actions,
    approvals,
    audit,
    connections,
    governance,
    meta,
    mirror,
    sync,
    tokens,
)
from asc_access.service.roles import enforce_api_role

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")
router.include_router(meta.public_router)
# Every other route checks the caller's role against service/roles.py's table.
for _module in (meta, tokens, connections, mirror, sync, actions, audit, approvals, governance):
    router.include_router(_module.router, dependencies=[Depends(enforce_api_role)])
