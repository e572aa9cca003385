"""Who is calling: bearer tokens for the API, signed sessions for the console, CSRF checks.

The API accepts ``Authorization: Bearer <token>``; a console session cookie is
accepted too (so the console's own script can poll), and then every unsafe
method must carry the session's CSRF token in ``X-CSRF-Token``. Console forms
carry it in the ``csrf_token`` field. A missing or wrong CSRF token is a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from asc_access.service.context import ServiceContext, context_of
from asc_access.service.errors import ServiceError
from asc_access.service.oidc import sso_record
from asc_access.service.sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Session, same_token
from asc_access.store.tokens import TokenRecord, find_token, get_token_by_id, verify_token

__all__ = [
    "ApiPrincipal",
    "ConsolePrincipal",
    "FormPrincipal",
    "LoginRequired",
    "Principal",
    "api_principal",
    "check_form_csrf",
    "client_of",
    "console_principal",
    "session_principal",
]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(
    auto_error=False,
    description="An admin or named API token (`asc-access tokens create NAME`).",
)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    token: TokenRecord
    via: Literal["bearer", "session"]
    session: Session | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller: ``token:<name>``, or ``user:<e-mail>`` (SSO)."""
        if self.session is not None and self.session.user:
            return f"user:{self.session.user}"
        return self.token.actor

    @property
    def role(self) -> str:
        """``viewer``, ``operator`` or ``admin``: what this caller may do (service/roles.py)."""
        return self.token.role

    @property
    def csrf(self) -> str:
        """The session's CSRF token (empty for bearer callers, who need none)."""
        return self.session.csrf if self.session else ""


class LoginRequired(Exception):  # noqa: N818 - a redirect, not an error
    """A console page was asked for without a valid session: send the person to log in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        """Where to redirect."""
        return f"/login?next={quote(self.next_path, safe='/')}"


def _unauthorised(message: str, cause: str) -> ServiceError:
    return ServiceError(
        401,
        message,
        cause=cause,
        title="Authentication required",
        resolution=[
            (
                "Send the header 'Authorization: Bearer <token>' with the admin token "
                "(ASC_ACCESS_API_TOKEN, or the one printed when the service first started) "
                "or a named token from 'asc-access tokens create NAME'."
            ),
        ],
        headers={"WWW-Authenticate": "Bearer"},
    )


def session_principal(ctx: ServiceContext, request: Request) -> Principal | None:
    """The principal behind the request's session cookie, if the session is still good."""
    session = ctx.signer.read_session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    if session.user:  # signed in through SSO: no token behind the session
        return Principal(
            sso_record(session.user, session.role, session.issued_at), "session", session
        )
    token = get_token_by_id(ctx.engine, session.token_id)
    if token is None or not token.active:
        return None
    if not same_token(token.token_hash[:16], session.token_hash_prefix):
        return None
    return Principal(token=token, via="session", session=session)


def client_of(request: Request) -> str:
    """The client address failed attempts are counted under."""
    return request.client.host if request.client else "unknown"


def _bearer_principal(ctx: ServiceContext, request: Request, given: str) -> Principal:
    client = client_of(request)
    ctx.throttle.check(client, "bearer")
    token = verify_token(ctx.engine, given, clock=ctx.clock)
    if token is not None:
        return Principal(token=token, via="bearer")
    known = find_token(ctx.engine, given)
    if known is not None and not known.active:
        ctx.throttle.failed(client, "bearer", "token_revoked")
        raise _unauthorised(f"The token {known.name!r} has been revoked.", "token_revoked")
    if known is not None and known.scim_connection_id is not None:
        raise _unauthorised(
            f"The token {known.name!r} is a SCIM token: it opens only /scim/v2.", "token_scim"
        )
    ctx.throttle.failed(client, "bearer", "token_invalid")
    raise _unauthorised("The bearer token is not valid.", "token_invalid")


def api_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the API caller, or a 401 / 403 explaining what is wrong."""
    ctx = context_of(request)
    header = request.headers.get("authorization")
    if credentials is not None:
        return _bearer_principal(ctx, request, credentials.credentials)
    if header:
        raise _unauthorised("The Authorization header must be 'Bearer <token>'.", "token_invalid")
    principal = session_principal(ctx, request)
    if principal is None:
        raise _unauthorised("No API token was sent.", "token_missing")
    if request.method not in _SAFE_METHODS:
        _check_csrf(principal, request.headers.get(CSRF_HEADER))
    return principal


def _check_csrf(principal: Principal, given: str | None) -> None:
    if not given:
        raise ServiceError(
            403,
            "The CSRF token is missing.",
            cause="csrf_missing",
            title="Request refused: missing CSRF token",
            resolution=["Reload the page and submit the form again."],
        )
    if not same_token(principal.csrf, given):
        raise ServiceError(
            403,
            "The CSRF token does not match this session.",
            cause="csrf_mismatch",
            title="Request refused: wrong CSRF token",
            resolution=["Reload the page and submit the form again."],
        )


def console_principal(request: Request) -> Principal:
    """FastAPI dependency for console pages: the session's principal, or off to the login."""
    principal = session_principal(context_of(request), request)
    if principal is None:
        target = request.url.path if request.method == "GET" else "/"
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        raise LoginRequired(target)
    return principal


async def check_form_csrf(request: Request) -> Principal:
    """FastAPI dependency for console form posts: a session plus a matching CSRF field."""
    principal = console_principal(request)
    form = await request.form()
    value = form.get(CSRF_FIELD)
    _check_csrf(principal, value if isinstance(value, str) else None)
    return principal


ApiPrincipal = Annotated[Principal, Depends(api_principal)]
ConsolePrincipal = Annotated[Principal, Depends(console_principal)]
#: A console form post: the session's principal, its CSRF field checked.
FormPrincipal = Annotated[Principal, Depends(check_form_csrf)]
