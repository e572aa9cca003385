"""Who am I, and is the service up."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from asc_access import __version__
from asc_access.service.api.common import ERRORS
from asc_access.service.auth import ApiPrincipal

__all__ = ["router"]

router = APIRouter(tags=["service"])


@router.get("/health")
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
        "via": principal.via,
    }
