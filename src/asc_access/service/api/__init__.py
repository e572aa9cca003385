"""The REST API under ``/api/v1`` (described at ``/api/openapi.json``)."""

from __future__ import annotations

from fastapi import APIRouter

from asc_access.service.api import actions, audit, connections, meta, mirror, sync, tokens
from asc_access.service.api import governance as _governance

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")
for _module in (meta, tokens, connections, mirror, sync, actions, audit):
    router.include_router(_module.router)
router.include_router(_governance.router)
