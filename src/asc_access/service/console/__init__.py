"""The web console: server-rendered pages over the same library as the API."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from asc_access.service.console import (
    actions_pages,
    activity_pages,
    approval_pages,
    auth_pages,
    connections_pages,
    governance_pages,
    people_pages,
    scim_pages,
    sso_pages,
)
from asc_access.service.console.common import see_other
from asc_access.service.roles import enforce_console_role

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
router.include_router(auth_pages.router)
router.include_router(sso_pages.router)
# Every other page checks the user's role against service/roles.py's table.
for _module in (
    connections_pages,
    people_pages,
    actions_pages,
    activity_pages,
    approval_pages,
    governance_pages,
    scim_pages,
):
    router.include_router(_module.router, dependencies=[Depends(enforce_console_role)])


@router.get("/")
def home() -> RedirectResponse:
    """The console starts at the connections page."""
    return see_other("/connections")
