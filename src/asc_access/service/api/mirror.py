"""The mirror: users, invitations, apps, changes (filters and paging), export and review."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from asc_access.service.api.common import ERRORS, MAX_ID, Limit, Offset, page_of
from asc_access.service.auth import ApiPrincipal
from asc_access.service.context import context_of
from asc_access.service.mirror import changes_page, export_csv, review
from asc_access.store.changes import ChangeType
from asc_access.store.people import PeopleFilter, people_page
from asc_access.store.queries import export_rows, list_apps, list_invitations, resolve_connections

__all__ = ["router"]

router = APIRouter(tags=["mirror"])

Connections = Annotated[
    list[str], Query(description="Connection names (repeat); all connections when absent")
]


@router.get("/users", responses=ERRORS)
def users(
    request: Request,
    principal: ApiPrincipal,
    connection: Connections = [],  # noqa: B006 - FastAPI copies query defaults
    role: str = "",
    app: Annotated[str, Query(description="App id, bundle id or name: who can see it")] = "",
    search: Annotated[str, Query(max_length=200, description="Text in e-mail or name")] = "",
    all_apps: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Team members, sorted by e-mail (paged in the database)."""
    del principal
    flt = PeopleFilter(connection, search, role, app, "member", all_apps)
    return _people_page(request, flt, limit, offset)


@router.get("/people", responses=ERRORS)
def people(
    request: Request,
    principal: ApiPrincipal,
    connection: Connections = [],  # noqa: B006
    role: str = "",
    app: str = "",
    search: Annotated[str, Query(max_length=200)] = "",
    status: Literal["member", "invited"] | None = None,
    all_apps: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Members and invitees together (the console's people × apps view)."""
    del principal
    flt = PeopleFilter(connection, search, role, app, status, all_apps)
    return _people_page(request, flt, limit, offset)


def _people_page(request: Request, flt: PeopleFilter, limit: int, offset: int) -> dict[str, Any]:
    """One page of the people ``flt`` selects, as the API returns it (paged in the database)."""
    with context_of(request).engine.connect() as conn:
        return people_page(conn, flt, limit=limit, offset=offset).as_dict()


@router.get("/invitations", responses=ERRORS)
def invitations(
    request: Request,
    principal: ApiPrincipal,
    connection: Connections = [],  # noqa: B006
    state: Literal["pending", "expired"] | None = None,
    search: Annotated[str, Query(max_length=200)] = "",
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Invitations, pending or expired, sorted by e-mail."""
    del principal
    now = context_of(request).clock()
    read = partial(list_invitations, state=state, now=now, email=search or None)
    return _connections_page(request, connection, read, limit=limit, offset=offset)


@router.get("/apps", responses=ERRORS)
def apps(
    request: Request,
    principal: ApiPrincipal,
    connection: Connections = [],  # noqa: B006
    limit: Limit = 200,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Apps, with how many restricted members see each."""
    del principal
    return _connections_page(request, connection, list_apps, limit=limit, offset=offset)


def _connections_page(
    request: Request,
    connection: list[str],
    read: Callable[..., Sequence[Any]],
    *,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """One page of what ``read(conn, connection_ids=...)`` lists for the named connections."""
    with context_of(request).engine.connect() as conn:
        rows = read(conn, connection_ids=list(resolve_connections(conn, connection or None)))
    return page_of(rows, limit=limit, offset=offset)


@router.get("/changes", responses=ERRORS)
def changes(
    request: Request,
    principal: ApiPrincipal,
    connection: Connections = [],  # noqa: B006
    type: Annotated[list[ChangeType], Query()] = [],  # noqa: A002, B006
    since: datetime | None = None,
    run: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    email: Annotated[str, Query(max_length=320)] = "",
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The change timeline, newest first."""
    del principal
    with context_of(request).engine.connect() as conn:
        page = changes_page(
            conn,
            connections=connection,
            types=[t.value for t in type],
            since=since,
            run_id=run,
            email=email or None,
            limit=limit,
            offset=offset,
        )
    return page.as_dict()


@router.get(
    "/export",
    responses={**ERRORS, 200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def export(
    request: Request,
    principal: ApiPrincipal,
    connection: Connections = [],  # noqa: B006
    format: Literal["json", "csv"] = "json",  # noqa: A002
) -> Response:
    """The access-review matrix: one row per person per team (shape in design.md)."""
    del principal
    with context_of(request).engine.connect() as conn:
        if format == "csv":
            return PlainTextResponse(
                export_csv(conn, connections=connection),
                media_type="text/csv",
                headers={"Content-Disposition": 'attachment; filename="asc-access-export.csv"'},
            )
        ids = list(resolve_connections(conn, connection or None))
        rows = [p.export_dict() for p in export_rows(conn, connection_ids=ids)]

    return JSONResponse(rows)


class Directory(BaseModel):
    """Current staff e-mails: team members not in it are listed as leavers who kept access."""

    emails: list[str] = Field(default_factory=list, max_length=200_000)
    connections: list[str] = Field(default_factory=list, max_length=100)


@router.get("/review", responses=ERRORS)
def review_get(
    request: Request,
    principal: ApiPrincipal,
    connection: Connections = [],  # noqa: B006
) -> dict[str, Any]:
    """Admins and Account Holder, people who see all apps, old invitations, people with no app."""
    del principal
    ctx = context_of(request)
    with ctx.engine.connect() as conn:
        return review(conn, connections=connection, now=ctx.clock()).as_dict()


@router.post("/review", responses=ERRORS)
def review_with_directory(
    request: Request, body: Directory, principal: ApiPrincipal
) -> dict[str, Any]:
    """The review, plus members missing from the staff directory you send."""
    del principal
    ctx = context_of(request)
    directory = {e.strip().lower() for e in body.emails if e.strip()}
    with ctx.engine.connect() as conn:
        return review(
            conn, connections=body.connections, now=ctx.clock(), directory=directory
        ).as_dict()
