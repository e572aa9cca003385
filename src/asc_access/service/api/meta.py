"""Who am I, and is the service up."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from asc_access import __version__
from asc_access.service import library
from asc_access.service.api.common import ERRORS
from asc_access.service.auth import ApiPrincipal
from asc_access.service.context import context_of

__all__ = ["public_router", "router"]

router = APIRouter(tags=["service"])
#: Routes that answer without a token (declared ``public`` in service/roles.py).
public_router = APIRouter(tags=["service"])


@public_router.get("/health")
def health(request: Request) -> dict[str, Any]:
    """Liveness: answers without authentication, reveals nothing but the version."""
    del request
    return {"ok": True, "version": __version__}


@router.get("/me", responses=ERRORS)
def me(principal: ApiPrincipal) -> dict[str, Any]:
    """The token the caller authenticated with (its name is the audit actor)."""
    return {
        "token": principal.token.name,
        "actor": principal.actor,
        "is_admin": principal.token.is_admin,
        "role": principal.role,
        "via": principal.via,
    }


@router.get("/workers", responses=ERRORS)
async def workers(request: Request, principal: ApiPrincipal) -> dict[str, Any]:
    """Worker health, queue depth and each connection's last success and last error.

    ``mode`` is ``in-process`` when no broker is configured (syncs run in the service).
    """
    del principal
    ctx = context_of(request)
    return await asyncio.to_thread(library.worker_status, ctx.engine, ctx.settings)
