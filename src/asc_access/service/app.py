"""The service's app factory: REST API under ``/api/v1``, the console, in-process scheduling.

:func:`create_app` takes the settings and these keyword arguments (all optional):

    settings: where the store is and which Apple URL new connections default to.
    engine: an open store (default: :func:`asc_access.runtime.open_store`).
    scheduler: run each connection's sync on its interval inside the app
        (turn off in tests, or when ``asc-access scheduler`` runs with workers).
    scheduler_tick: how often the scheduler looks for due connections (seconds).
    session_secret: key that signs console cookies (default: derived from
        ``ASC_ACCESS_SESSION_SECRET`` or the master key, so every process of
        a deployment accepts the same sessions; see :mod:`.session_secret`).
    secure_cookies: set the ``Secure`` flag on cookies (browsers accept it on
        ``http://127.0.0.1``; leave on everywhere else and serve over TLS).
    on_admin_token: called once with a newly generated admin token (the CLI
        prints it); never called when ``ASC_ACCESS_API_TOKEN`` is set.
    client_kwargs: extra keyword arguments for every API client built.
    sync_runner, due_connections: replace how a sync runs and which
        connections are due (tests); the defaults use the library.
    clock: the service's notion of now (aware datetimes).
    max_key_bytes: the largest private key upload accepted.
    auth_throttle: how failed sign-ins and bearer tokens are throttled
        (default: ``ASC_ACCESS_AUTH_THROTTLE``, see :mod:`.throttle`).
    oidc: console single sign-on and whether local token sign-in is on
        (default: from ``ASC_ACCESS_OIDC_*`` / ``ASC_ACCESS_LOCAL_LOGIN``).
    approvals: four-eyes approval of risky actions (default: from
        ``ASC_ACCESS_FOUR_EYES`` / ``ASC_ACCESS_APPROVAL_TTL``).
    url_policy: which API URLs the service may call (default: Apple's and
        ``ASC_ACCESS_ALLOWED_API_URLS``; tests inject a resolver).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from asc_access import __version__
from asc_access.config import Settings
from asc_access.service import library
from asc_access.service.api import router as api_router
from asc_access.service.approvals import ApprovalPolicy
from asc_access.service.auth import LoginRequired
from asc_access.service.console import router as console_router
from asc_access.service.console.render import render_problem
from asc_access.service.context import ServiceContext, utcnow
from asc_access.service.errors import install_error_handlers
from asc_access.service.json_depth import JsonDepthMiddleware
from asc_access.service.metrics_route import router as metrics_router
from asc_access.service.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from asc_access.service.oidc import OidcSettings
from asc_access.service.plans import PlanStore
from asc_access.service.roles import enforce_api_role, install_openapi_roles
from asc_access.service.scheduler import DueConnections, Scheduler
from asc_access.service.scim import create_scim_app
from asc_access.service.session_secret import session_secret_for
from asc_access.service.sessions import SessionSigner
from asc_access.service.syncing import SyncManager, SyncRunner
from asc_access.service.throttle import AuthThrottle
from asc_access.store.handle import Database
from asc_access.store.tokens import ensure_admin_token
from asc_access.urlpolicy import UrlPolicy

__all__ = ["MAX_BODY_BYTES", "create_app"]

#: No request the service accepts needs more (a .p8 key is about 250 bytes).
MAX_BODY_BYTES = 256 * 1024

_DESCRIPTION = """\
The asc-access service: connections to App Store Connect with their health,
a mirror of who has access to what (users, invitations, apps, changes), the
access review and export, and provisioning actions as plan-then-confirm, all
audited. Authenticate with `Authorization: Bearer <token>`.

Every error answers `{code, cause, title, resolution[], message}`: `code` and
`cause` are the catalogue's (`APP-101`... with stable cause ids) when Apple or
a key is involved, `null` and a service cause (`token_missing`,
`csrf_missing`, `not_found`, `invalid_json`, `too_large`...) otherwise.
"""


def create_app(
    settings: Settings,
    *,
    engine: Database | None = None,
    scheduler: bool = True,
    scheduler_tick: float = 15.0,
    session_secret: bytes | None = None,
    secure_cookies: bool = True,
    on_admin_token: Callable[[str], None] | None = None,
    client_kwargs: dict[str, Any] | None = None,
    sync_runner: SyncRunner | None = None,
    due_connections: DueConnections | None = None,
    clock: Callable[[], datetime] = utcnow,
    max_key_bytes: int = 10 * 1024,
    auth_throttle: AuthThrottle | None = None,
    oidc: OidcSettings | None = None,
    approvals: ApprovalPolicy | None = None,
    url_policy: UrlPolicy | None = None,
) -> FastAPI:
    """Build the service (its keyword arguments are described in this module's docstring)."""
    engine = engine if engine is not None else library.open_store(settings)
    generated = ensure_admin_token(engine, settings.api_token, clock=clock)
    if generated is not None and on_admin_token is not None:
        on_admin_token(generated)
    kwargs = dict(client_kwargs or {})
    policy = url_policy or UrlPolicy.from_settings(settings)
    runner = sync_runner or library.sync_runner(engine, settings, kwargs, policy)
    ctx = ServiceContext(
        settings=settings,
        engine=engine,
        signer=SessionSigner(session_secret or session_secret_for(settings), secure=secure_cookies),
        syncs=SyncManager(runner, clock=clock),
        plans=PlanStore(),
        clock=clock,
        client_kwargs=kwargs,
        max_key_bytes=max_key_bytes,
        url_policy=policy,
        throttle=auth_throttle or AuthThrottle.from_env(settings.broker_url),
    )
    due = due_connections or library.due_connections(engine, policy)
    ticker = Scheduler(ctx.syncs, due, clock=clock, tick=scheduler_tick)
    app = _fastapi(ctx, ticker, run_scheduler=scheduler)
    app.state.oidc = oidc if oidc is not None else OidcSettings.from_env(os.environ)
    app.state.approvals = approvals or ApprovalPolicy.from_env(os.environ)
    return app


def _fastapi(ctx: ServiceContext, ticker: Scheduler, *, run_scheduler: bool) -> FastAPI:
    """The app around ``ctx``: lifespan (scheduler), error handlers, middleware, routes."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_scheduler:
            ticker.start()
        try:
            yield
        finally:
            await ticker.stop()
            await ctx.syncs.aclose()

    app = FastAPI(
        title="asc-access",
        version=__version__,
        description=_DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.scheduler = ticker
    install_error_handlers(app, html=render_problem)
    install_openapi_roles(app)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        del request
        return RedirectResponse(exc.location, status_code=303)

    app.add_middleware(JsonDepthMiddleware)  # inside the body limit: reads a bounded body
    app.add_middleware(BodyLimitMiddleware, limit=MAX_BODY_BYTES)
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount(
        "/static",
        StaticFiles(directory=str(Path(__file__).resolve().parent / "static")),
        name="static",
    )
    app.include_router(api_router)
    app.include_router(metrics_router, dependencies=[Depends(enforce_api_role)])
    app.include_router(console_router)
    app.mount("/scim/v2", create_scim_app(ctx), name="scim")  # type: ignore[arg-type]
    return app


def app_from_env() -> FastAPI:
    """The service from the environment, for ``uvicorn --factory`` (``asc-access serve``).

    ``ASC_ACCESS_SERVE_SCHEDULER=0`` turns the in-process scheduler off
    (``asc-access serve --no-scheduler`` sets it).
    """
    scheduler = os.environ.get("ASC_ACCESS_SERVE_SCHEDULER", "1") != "0"
    return create_app(Settings.from_env(), scheduler=scheduler)
