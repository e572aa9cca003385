"""The web console: server-rendered pages over the same library as the API."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from asc_access.service.console import auth_pages

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
router.include_router(auth_pages.router)


@router.get("/")
def home() -> RedirectResponse:
    """The console starts at the connections page."""
    return RedirectResponse("/connections", status_code=303)
