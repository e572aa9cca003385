"""Rendering console pages: one Jinja2 environment, the layout's context, error pages."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from asc_access.service import library
from asc_access.service.auth import Principal, session_principal
from asc_access.service.context import context_of
from asc_access.service.errors import Problem
from asc_access.service.roles import may
from asc_access.service.sessions import CSRF_FIELD

__all__ = ["TEMPLATES", "render", "render_problem", "render_with_teams"]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))


def _when(value: Any) -> str:
    """A short, readable UTC timestamp (``2026-03-01 14:05 UTC``)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def _inline_md(text: str) -> Markup:
    """The diagnosis table's light markup (``**menu**``, `` `command` ``) as safe HTML."""
    html = str(escape(text))
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    return Markup(html)  # noqa: S704 - built from escaped text only


def _role_label(role: str) -> str:
    return role.replace("_", " ").title()


def _query(request: Request, **changes: Any) -> str:
    """The current query string with ``changes`` applied (``None`` removes a key)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["role_label"] = _role_label
TEMPLATES.env.filters["md"] = _inline_md
TEMPLATES.env.globals["query"] = _query
TEMPLATES.env.globals["CSRF_FIELD"] = CSRF_FIELD
TEMPLATES.env.globals["may"] = may
TEMPLATES.env.globals["four_eyes"] = lambda request: bool(
    getattr(getattr(request.app.state, "approvals", None), "enabled", False)
)


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` inside the layout, with the session's CSRF token at hand."""
    context.setdefault("title", "")
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"principal": principal, "csrf": principal.csrf if principal else "", **context},
        status_code=status_code,
    )


def render_with_teams(
    request: Request,
    template: str,
    principal: Principal | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """:func:`render`, with ``connections``: every connection's name, for the page's team picker."""
    names = library.connection_names(context_of(request).engine)
    return render(
        request, template, principal, status_code=status_code, connections=names, **context
    )


def render_problem(request: Request, problem: Problem) -> HTMLResponse:
    """A console page explaining ``problem`` (same content as the API's JSON)."""

    try:
        principal = session_principal(context_of(request), request)
    except Exception:  # noqa: BLE001 - the error page must render even if the store is down
        principal = None
    response = render(
        request,
        "error.html",
        principal,
        status_code=problem.status,
        title=problem.title,
        problem=problem,
    )
    for key, value in problem.headers.items():
        if key.lower() != "www-authenticate":
            response.headers[key] = value
    return response
