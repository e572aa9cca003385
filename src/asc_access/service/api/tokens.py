"""Named API tokens (admin only): create (shown once), list, revoke."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from asc_access.service.api.common import ERRORS, require_admin
from asc_access.service.auth import ApiPrincipal
from asc_access.service.context import context_of
from asc_access.store import tokens as store

__all__ = ["router"]

router = APIRouter(prefix="/tokens", tags=["tokens"])


class NewToken(BaseModel):
    """A token to create."""

    name: str = Field(min_length=1, max_length=64, examples=["ci-reporting"])
    role: Literal["viewer", "operator", "admin"] = Field(
        default="admin", description="What the token may do (see docs/roles.md)"
    )


@router.get("", responses=ERRORS)
def list_tokens(request: Request, principal: ApiPrincipal) -> dict[str, Any]:
    """Every token (never the secret, never the hash)."""
    require_admin(principal)
    records = store.list_tokens(context_of(request).engine)
    return {"items": [r.as_dict() for r in records]}


@router.post("", status_code=201, responses=ERRORS)
def create_token(request: Request, body: NewToken, principal: ApiPrincipal) -> dict[str, Any]:
    """Create a named token; the answer is the only time the token is shown."""
    require_admin(principal)
    ctx = context_of(request)
    record, secret = store.create_token(ctx.engine, body.name, clock=ctx.clock, role=body.role)
    return {**record.as_dict(), "token": secret}


@router.delete("/{name}", responses=ERRORS)
def revoke_token(request: Request, name: str, principal: ApiPrincipal) -> dict[str, Any]:
    """Revoke a named token at once (its console sessions end too)."""
    require_admin(principal)
    ctx = context_of(request)
    return store.revoke_token(ctx.engine, name, clock=ctx.clock).as_dict()
