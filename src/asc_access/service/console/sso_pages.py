"""Console sign-in through the company's identity provider (OpenID Connect).

``GET /login/oidc`` sends the browser to the provider with state, nonce and a PKCE
challenge kept in a short-lived signed cookie (``SameSite=Lax``, so it comes back
on the provider's redirect); ``GET /login/oidc/callback`` checks the answer, redeems
the code, validates the ID token and starts a console session with the role the
person's groups give (service/oidc.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.requests import HTTPConnection

from asc_access.service.console.common import see_other
from asc_access.service.console.render import render
from asc_access.service.context import context_of
from asc_access.service.errors import ServiceError
from asc_access.service.oidc import OidcError, OidcSettings, begin, finish

__all__ = ["oidc_settings", "router", "safe_next"]

router = APIRouter(include_in_schema=False)

FLOW_COOKIE = "asc_oidc"
_FLOW_MAX_AGE = 600


def oidc_settings(conn: HTTPConnection) -> OidcSettings:
    """The app's sign-in settings (SSO off, local sign-in on, when none were given)."""
    settings = getattr(conn.app.state, "oidc", None)
    return settings if isinstance(settings, OidcSettings) else OidcSettings()


def safe_next(target: str | None) -> str:
    """Only local paths: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/connections"
    return target


def _not_configured() -> ServiceError:
    return ServiceError(
        404,
        "Single sign-on is not configured on this service.",
        cause="not_found",
        title="No single sign-on",
        resolution=["Set ASC_ACCESS_OIDC_ISSUER and ASC_ACCESS_OIDC_CLIENT_ID (docs/identity.md)."],
    )


@router.get("/login/oidc")
async def start(request: Request, next: str | None = None) -> Response:  # noqa: A002
    """Off to the identity provider."""
    settings = oidc_settings(request)
    if not settings.enabled:
        raise _not_configured()
    redirect = settings.redirect_url or str(request.url_for("oidc_callback"))
    try:
        url, kept = await begin(settings, redirect)
    except OidcError as error:
        return _refused(request, str(error))
    ctx = context_of(request)
    cookie = ctx.signer.dumps("oidc", {**kept, "next": safe_next(next), "iat": ctx.signer.now()})
    response = see_other(url)
    response.set_cookie(
        FLOW_COOKIE,
        cookie,
        max_age=_FLOW_MAX_AGE,
        path="/login/oidc",
        secure=ctx.signer.secure,
        httponly=True,
        samesite="lax",
    )
    return response


def _refused(request: Request, message: str) -> HTMLResponse:
    return render(
        request,
        "login.html",
        None,
        status_code=403,
        title="Sign in",
        login_csrf="",
        next="/connections",
        error=f"Sign-in refused: {message}.",
        sso=oidc_settings(request).enabled,
        local_login=False,
    )


@router.get("/login/oidc/callback", name="oidc_callback")
async def callback(request: Request) -> Response:
    """The provider's answer: start a session, or explain the refusal."""
    settings = oidc_settings(request)
    if not settings.enabled:
        raise _not_configured()
    ctx = context_of(request)
    kept = ctx.signer.loads("oidc", request.cookies.get(FLOW_COOKIE), max_age=_FLOW_MAX_AGE)
    if kept is None:
        return _refused(request, "the sign-in took too long or started in another browser")
    try:
        person = await finish(settings, {k: str(v) for k, v in kept.items()}, request.url.query)
    except OidcError as error:
        return _refused(request, str(error))
    _session, cookie = ctx.signer.new_session(0, "", user=person.email, role=person.role)
    # The session cookie is SameSite=Strict, and this answer ends a navigation another
    # site started: a page of our own moves on, so the browser sends the new cookie.
    target = safe_next(str(kept.get("next", "")))
    response = render(
        request, "signed_in.html", None, title="Signed in", target=target, person=person
    )
    ctx.signer.set_session_cookie(response, cookie)
    response.delete_cookie(FLOW_COOKIE, path="/login/oidc")
    return response
