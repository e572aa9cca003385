"""Console sign-in and sign-out: paste a token, get a signed session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from asc_access.service.auth import FormPrincipal, client_of, session_principal
from asc_access.service.console.common import see_other
from asc_access.service.console.render import render
from asc_access.service.console.sso_pages import oidc_settings
from asc_access.service.context import context_of
from asc_access.service.errors import ServiceError
from asc_access.service.sessions import CSRF_FIELD, LOGIN_COOKIE, same_token
from asc_access.store.tokens import find_token, verify_token

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local paths: never an open redirect to another site.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/connections"
    return target


def _login_page(request: Request, *, next_path: str, error: str | None, status: int) -> Response:
    ctx = context_of(request)
    nonce = ctx.signer.login_nonce(request.cookies.get(LOGIN_COOKIE))
    cookie = None
    if nonce is None:
        nonce, cookie = ctx.signer.new_login_cookie()
    response = render(
        request,
        "login.html",
        None,
        status_code=status,
        title="Sign in",
        login_csrf=nonce,
        next=next_path,
        error=error,
        sso=oidc_settings(request).enabled,
        local_login=oidc_settings(request).local_login,
    )
    if cookie is not None:
        ctx.signer.set_login_cookie(response, cookie)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    """The sign-in form (straight on to the console when already signed in)."""
    if session_principal(context_of(request), request) is not None:
        return see_other(_safe_next(next))
    return _login_page(request, next_path=_safe_next(next), error=None, status=200)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    token: Annotated[str, Form(max_length=512)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/connections",  # noqa: A002
) -> Response:
    """Check the pasted token and start a session."""
    ctx = context_of(request)
    form = await request.form()
    given = form.get(CSRF_FIELD)
    nonce = ctx.signer.login_nonce(request.cookies.get(LOGIN_COOKIE))
    if nonce is None or not same_token(nonce, given if isinstance(given, str) else None):
        raise ServiceError(
            403,
            "The sign-in form expired or did not come from this console.",
            cause="csrf_missing" if not given else "csrf_mismatch",
            title="Sign-in refused: missing or wrong CSRF token",
            resolution=["Open the sign-in page again and paste the token there."],
        )
    if not oidc_settings(request).local_login:
        raise ServiceError(
            403,
            "Signing in with a token is switched off on this service.",
            cause="local_login_disabled",
            title="Sign in with your company account",
            resolution=["Use 'Sign in with your company account' (ASC_ACCESS_LOCAL_LOGIN=false)."],
        )
    client = client_of(request)
    ctx.throttle.check(client, "console sign-in")
    record = verify_token(ctx.engine, token.strip(), clock=ctx.clock)
    if record is None:
        known = find_token(ctx.engine, token.strip())
        ctx.throttle.failed(client, "console sign-in", "token_invalid")
        message = (
            f"The token {known.name!r} has been revoked."
            if known is not None
            else "That token is not valid. Check that you pasted all of it."
        )
        return _login_page(request, next_path=_safe_next(next), error=message, status=401)
    _session, cookie = ctx.signer.new_session(record.id, record.token_hash)
    response = see_other(_safe_next(next))
    ctx.signer.set_session_cookie(response, cookie)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, principal: FormPrincipal) -> Response:
    """End the session (a copy of its cookie stops working too)."""
    signer = context_of(request).signer
    if principal.session is not None:
        signer.end_session(principal.session)
    response = see_other("/login")
    signer.clear_session_cookie(response)
    return response
