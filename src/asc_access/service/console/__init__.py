"""The web console: server-rendered pages over the same library as the API."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from asc_access.service.console import (
    actions_pages,
    activity_pages,
    auth_pages,
    connections_pages,
    people_pages,
    scim_pages,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
for _module in (
    auth_pages,
    connections_pages,
    people_pages,
    actions_pages,
    activity_pages,
    scim_pages,
):
    router.include_router(_module.router)


@router.get("/")
def home() -> RedirectResponse:
    """The console starts at the connections page."""
    return RedirectResponse("/connections", status_code=303)
