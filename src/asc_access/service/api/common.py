"""Shared pieces of the API routers: error responses for the OpenAPI document, paging."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, Field

from asc_access.service.auth import Principal
from asc_access.service.errors import ServiceError

__all__ = [
    "ERRORS",
    "MAX_ID",
    "ErrorBody",
    "Limit",
    "Offset",
    "RowId",
    "not_found",
    "page_body",
    "page_of",
    "require_admin",
]


class ErrorBody(BaseModel):
    """Every error answer."""

    code: str | None = Field(description="Catalogue code (APP-101...) or null")
    cause: str | None = Field(description="Stable cause id")
    title: str
    resolution: list[str] = Field(description="Numbered steps, in order")
    message: str


def _err(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _err("Malformed request (e.g. invalid JSON)"),
    401: _err("No token, a wrong token or a revoked token"),
    403: _err("Not allowed (missing or wrong CSRF token with a session, or not an admin)"),
    404: _err("Unknown id or name"),
    413: _err("Request body too large"),
    422: _err("Invalid fields, or a key that is not a usable App Store Connect key"),
}

#: Database ids are 32-bit integers on PostgreSQL; anything larger is not an id.
MAX_ID = 2_147_483_647
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id")]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")]


def not_found(what: str, name: object) -> ServiceError:
    """A 404 naming the unknown thing."""
    return ServiceError(
        404,
        f"There is no {what} {name!r}.",
        cause="not_found",
        title=f"Unknown {what}",
        resolution=[f"Check the {what}; the matching list endpoint shows what exists."],
    )


def require_admin(principal: Principal) -> None:
    """Refuse unless the caller used the admin token."""
    if not principal.token.is_admin:
        raise ServiceError(
            403,
            "Only the admin token may manage API tokens.",
            cause="admin_required",
            title="Admin token required",
            resolution=["Use the admin token (ASC_ACCESS_API_TOKEN) for this call."],
        )


def page_body(items: list[Any], *, total: int | None, limit: int, offset: int) -> dict[str, Any]:
    """The paging envelope every list endpoint answers."""
    next_offset = offset + len(items)
    has_more = total is not None and next_offset < total
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": next_offset if has_more else None,
    }


def page_of(rows: Sequence[Any], *, limit: int, offset: int) -> dict[str, Any]:
    """One page cut from a list read whole (each row's ``as_dict()``), in the paging envelope."""
    items = [r.as_dict() for r in rows[offset : offset + limit]]
    return page_body(items, total=len(rows), limit=limit, offset=offset)
