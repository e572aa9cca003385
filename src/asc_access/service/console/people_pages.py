"""The people × apps access view, the change timeline and the access review."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from asc_access.errors import NotFoundLocallyError
from asc_access.models import Role
from asc_access.service.auth import ConsolePrincipal, FormPrincipal, Principal
from asc_access.service.console.common import PageInfo, form_text, split_list
from asc_access.service.console.render import render, render_with_teams
from asc_access.service.context import context_of
from asc_access.service.mirror import ChangesPage, changes_page, review
from asc_access.store.changes import ChangeType
from asc_access.store.people import PeopleFilter, PeoplePage, people_page
from asc_access.store.queries import list_apps
from asc_access.store.review import SECTIONS

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50

SECTION_TITLES = {
    "privileged": "Admins and the Account Holder",
    "all_apps": "People who see every app",
    "invitations": "Expired or long-pending invitations",
    "no_apps": "People restricted to no app at all",
    "not_in_directory": "Not in the staff directory (leavers who kept access?)",
}
CHANGE_LABELS = {
    "user_added": "Joined",
    "user_removed": "Removed",
    "user_roles_changed": "Roles changed",
    "user_apps_changed": "Apps changed",
    "user_flags_changed": "Settings changed",
    "invitation_created": "Invited",
    "invitation_accepted": "Accepted invitation",
    "invitation_expired": "Invitation expired",
    "invitation_cancelled": "Invitation cancelled",
    "app_added": "App added",
    "app_removed": "App removed",
}


def _offset(request: Request) -> int:
    raw = request.query_params.get("offset", "0")
    return max(0, min(int(raw), 10_000_000)) if raw.isdigit() else 0


def _paged(
    request: Request,
    principal: Principal,
    name: str,
    title: str,
    page: PeoplePage | ChangesPage,
    offset: int,
    **context: Any,
) -> HTMLResponse:
    """A paged list (template and nav entry ``name``), with the connections to filter by."""
    return render_with_teams(
        request,
        f"{name}.html",
        principal,
        nav=name,
        title=title,
        page=page,
        info=PageInfo(offset, PAGE_SIZE, len(page.items), page.total),
        **context,
    )


@router.get("/people", response_class=HTMLResponse)
def people_view(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """Who can see what: filters, search, role badges, app chips; paged in the database."""
    ctx = context_of(request)
    q = request.query_params
    raw_status = q.get("status")
    status: Literal["member", "invited"] | None = (
        "member" if raw_status == "member" else "invited" if raw_status == "invited" else None
    )
    all_apps = {"all": True, "restricted": False}.get(q.get("apps_scope", ""))
    connection = q.get("connection", "")
    flt = PeopleFilter(
        connections=[connection] if connection else [],
        search=q.get("q", "").strip()[:200],
        role=q.get("role", "").strip()[:60],
        app=q.get("app", "").strip()[:500],
        status=status,
        all_apps=all_apps,
    )
    offset = _offset(request)
    error = None
    with ctx.engine.connect() as conn:
        try:
            page = people_page(conn, flt, limit=PAGE_SIZE, offset=offset)
        except NotFoundLocallyError as exc:
            error = exc.message
            page = PeoplePage([], 0, PAGE_SIZE, 0)
        apps = list_apps(conn)
    return _paged(
        request,
        principal,
        "people",
        "People",
        page,
        offset,
        flt=flt,
        apps_scope=q.get("apps_scope", ""),
        roles=[r.value for r in Role],
        apps=apps,
        error=error,
        now=ctx.clock(),
    )


@router.get("/changes", response_class=HTMLResponse)
def timeline(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """What changed, newest first: found by syncs or made through asc-access."""
    ctx = context_of(request)
    q = request.query_params
    connection = q.get("connection", "")
    kind = q.get("type", "")
    types = [kind] if kind in {t.value for t in ChangeType} else []
    run = q.get("run", "")
    since_text = q.get("since", "")
    since = None
    if since_text:
        try:
            since = datetime.fromisoformat(since_text)
        except ValueError:
            since = None
    offset = _offset(request)
    with ctx.engine.connect() as conn:
        page = changes_page(
            conn,
            connections=[connection] if connection else [],
            types=types,
            since=since,
            run_id=int(run) if run.isdigit() else None,
            email=q.get("q", "").strip()[:320] or None,
            limit=PAGE_SIZE,
            offset=offset,
        )
    return _paged(
        request,
        principal,
        "changes",
        "Changes",
        page,
        offset,
        labels=CHANGE_LABELS,
        selected={"connection": connection, "type": kind, "q": q.get("q", ""), "since": since_text},
    )


def _review_page(
    request: Request, principal: Principal, *, directory: set[str] | None
) -> HTMLResponse:
    ctx = context_of(request)
    with ctx.engine.connect() as conn:
        result = review(conn, now=ctx.clock(), directory=directory)
    return render(
        request,
        "review.html",
        principal,
        nav="review",
        title="Access review",
        review=result,
        sections=SECTIONS,
        titles=SECTION_TITLES,
        directory_given=directory is not None,
    )


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """The access review across every team."""
    return _review_page(request, principal, directory=None)


@router.post("/review", response_class=HTMLResponse)
async def review_with_directory(request: Request, principal: FormPrincipal) -> HTMLResponse:
    """The review, plus team members missing from the pasted staff e-mails."""
    form = await request.form()
    emails = {e.lower() for e in split_list(form_text(form, "directory", max_length=2_000_000))}
    return _review_page(request, principal, directory={e for e in emails if "@" in e})
