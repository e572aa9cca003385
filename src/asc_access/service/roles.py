"""Roles: who may do what, in one table, checked by one dependency.

Every API token and console user has a role: ``viewer`` (reads everything but
secrets), ``operator`` (also syncs, invites, changes roles and app access, runs
reviews) or ``admin`` (also removes, offboards, applies desired state, manages
connections and keys, tokens and policies). Each role includes the ones before it.

:data:`ROUTE_ROLES` names the role every route needs, keyed ``"METHOD /path"``;
provisioning actions need the role :data:`ACTION_ROLES` gives them. The routers
include their routes with :func:`enforce_api_role` / :func:`enforce_console_role`,
which look the matched route up here. A route missing from the table is refused
(default-deny) and fails ``tests/identity/test_roles.py``. A refusal is a 403 whose
body names the role needed (``detail.required_role``). The OpenAPI document
carries each operation's role as ``x-required-role``; the console asks
:func:`may` before it shows a button.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from asc_access.service.auth import ApiPrincipal, ConsolePrincipal, Principal
from asc_access.service.errors import ServiceError

__all__ = [
    "ACTION_ROLES",
    "PUBLIC",
    "ROLES",
    "ROUTE_ROLES",
    "SCIM",
    "enforce_api_role",
    "enforce_console_role",
    "has_role",
    "install_openapi_roles",
    "may",
    "require_action_role",
    "require_role",
    "route_key",
    "route_role",
]

#: Least to most; each role may do everything the roles before it may.
ROLES: tuple[str, ...] = ("viewer", "operator", "admin")
#: No sign-in needed (liveness, the sign-in pages themselves).
PUBLIC = "public"
#: Opened only by a SCIM token bound to its connection (checked by the SCIM module).
SCIM = "scim"

_V, _O, _A = ROLES

#: The one table: ``"METHOD /path"`` -> the role it needs.
ROUTE_ROLES: dict[str, str] = {
    # service
    "GET /api/openapi.json": PUBLIC,
    "GET /api/v1/health": PUBLIC,
    "GET /api/v1/me": _V,
    "GET /api/v1/workers": _V,
    "GET /metrics": _V,
    # tokens (secrets): admin
    "GET /api/v1/tokens": _A,
    "POST /api/v1/tokens": _A,
    "DELETE /api/v1/tokens/{name}": _A,
    # connections and keys
    "GET /api/v1/connections": _V,
    "POST /api/v1/connections": _A,
    "GET /api/v1/connections/{name}": _V,
    "POST /api/v1/connections/{name}/doctor": _O,
    "PUT /api/v1/connections/{name}/key": _A,
    "DELETE /api/v1/connections/{name}": _A,
    # mirror
    "GET /api/v1/users": _V,
    "GET /api/v1/people": _V,
    "GET /api/v1/invitations": _V,
    "GET /api/v1/apps": _V,
    "GET /api/v1/changes": _V,
    "GET /api/v1/export": _V,
    "GET /api/v1/review": _V,
    "POST /api/v1/review": _O,
    # sync
    "POST /api/v1/connections/{name}/sync": _O,
    "GET /api/v1/sync/runs": _V,
    "GET /api/v1/sync/runs/{run_id}": _V,
    "GET /api/v1/sync/progress": _V,
    # actions (and each action's own role, ACTION_ROLES)
    "POST /api/v1/actions/plans": _O,
    "POST /api/v1/actions/apply": _A,
    "GET /api/v1/actions/plans/{plan_id}": _O,
    "POST /api/v1/actions/plans/{plan_id}/confirm": _O,
    # four-eyes approvals (approving also needs the action's own role)
    "GET /api/v1/approvals": _V,
    "GET /api/v1/approvals/{approval_id}": _V,
    "POST /api/v1/approvals/{approval_id}/approve": _O,
    "POST /api/v1/approvals/{approval_id}/refuse": _O,
    # audit
    "GET /api/v1/audit": _V,
    "GET /api/v1/audit/{entry_id}": _V,
    # console: sign-in
    "GET /": PUBLIC,
    "GET /login": PUBLIC,
    "POST /login": PUBLIC,
    "POST /logout": PUBLIC,
    "GET /login/oidc": PUBLIC,
    "GET /login/oidc/callback": PUBLIC,
    # console pages
    "GET /connections": _V,
    "GET /connections/new": _A,
    "POST /connections/new": _A,
    "GET /connections/{name}": _V,
    "POST /connections/{name}/test": _O,
    "POST /connections/{name}/rotate": _A,
    "POST /connections/{name}/remove": _A,
    "GET /connections/{name}/scim-groups": _V,
    "POST /connections/{name}/scim-groups": _A,
    "POST /connections/{name}/scim-groups/remove": _A,
    "GET /people": _V,
    "GET /changes": _V,
    "GET /review": _V,
    "POST /review": _O,
    "GET /actions": _O,
    "POST /actions/plan": _O,
    "POST /actions/plans/{plan_id}/confirm": _O,
    "GET /sync": _V,
    "POST /sync/{name}": _O,
    "GET /sync/runs/{run_id}": _V,
    "GET /audit": _V,
    "GET /audit/{entry_id}": _V,
    "GET /approvals": _V,
    "POST /approvals/{approval_id}/approve": _O,
    "POST /approvals/{approval_id}/refuse": _O,
    # governance: reading violations is viewing; reviews are an operator's; editing
    # policies and closing a campaign (which removes access) are an admin's
    "GET /api/v1/violations": _V,
    "POST /api/v1/policies/check": _O,
    "GET /api/v1/alerts": _V,
    "GET /api/v1/campaigns": _V,
    "POST /api/v1/campaigns": _O,
    "GET /api/v1/campaigns/{campaign_id}": _V,
    "POST /api/v1/campaigns/{campaign_id}/decisions": _O,
    "POST /api/v1/campaigns/{campaign_id}/close": _A,
    "GET /api/v1/campaigns/{campaign_id}/report": _V,
    "GET /violations": _V,
    "POST /violations/policies": _A,
    "POST /violations/check": _O,
    "GET /campaigns": _V,
    "POST /campaigns": _O,
    "GET /campaigns/{campaign_id}": _V,
    "POST /campaigns/{campaign_id}/decide": _O,
    "POST /campaigns/{campaign_id}/close": _A,
    "GET /campaigns/{campaign_id}/report.{fmt}": _V,
}

#: Paths under these prefixes are declared by the prefix (their own auth applies).
PREFIX_ROLES: dict[str, str] = {"/scim/v2/": SCIM, "/static/": PUBLIC}

#: What each provisioning action needs, on top of its route's role.
ACTION_ROLES: dict[str, str] = {
    "invite": _O,
    "cancel-invitation": _O,
    "set-roles": _O,
    "set-apps": _O,
    "remove": _A,
    "offboard": _A,
    "apply": _A,
}


def route_key(method: str, path: str) -> str:
    """The table's key for a route."""
    return f"{method.upper()} {path}"


def route_role(method: str, path: str) -> str | None:
    """The role ``method path`` (a route's path template) needs, or ``None`` if undeclared."""
    declared = ROUTE_ROLES.get(route_key(method, path))
    if declared is not None:
        return declared
    for prefix, role in PREFIX_ROLES.items():
        if path.startswith(prefix):
            return role
    return None


def has_role(role: str, needed: str) -> bool:
    """Whether ``role`` includes ``needed`` (``public`` needs nothing)."""
    if needed == PUBLIC:
        return True
    if role not in ROLES or needed not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def _refused(role: str, needed: str, what: str) -> ServiceError:
    return ServiceError(
        403,
        f"{what} needs the {needed!r} role; this caller's role is {role!r}.",
        cause="role_required",
        title=f"The {needed} role is required",
        resolution=[
            (
                f"Use a token or an account with the {needed!r} role "
                f"('asc-access tokens create NAME --role {needed}'), or ask an admin to do it."
            ),
        ],
        detail={"required_role": needed, "role": role},
    )


def require_role(principal: Principal, needed: str, what: str) -> None:
    """Refuse with a 403 naming ``needed`` unless ``principal`` has it."""
    if not has_role(principal.role, needed):
        raise _refused(principal.role, needed, what)


def require_action_role(principal: Principal, action: str) -> None:
    """Refuse a provisioning action the caller's role may not plan or run."""
    needed = ACTION_ROLES.get(action, _A)
    require_role(principal, needed, f"The action {action!r}")


@functools.cache
def _compiled(template: str) -> tuple[re.Pattern[str], frozenset[str]]:
    regex, _format, convertors = compile_path(template)
    return regex, frozenset(convertors)


def _template_for(request: Request) -> str:
    """The declared path template of the route that matched (``/api/v1/x/{name}``).

    Of the table's templates for this method, the one that matches the request's
    path with the same parameters and ends in the matched route's own template
    (routers hold their routes relative to their prefix); else the route's own.
    """
    route = request.scope.get("route")
    own = route.path_format if isinstance(route, APIRoute) else ""
    path = request.scope.get("path") or request.url.path
    params = frozenset(request.path_params)
    method = request.method.upper()
    for key in ROUTE_ROLES:
        key_method, _, template = key.partition(" ")
        if key_method != method or not template.endswith(own):
            continue
        regex, names = _compiled(template)
        if names == params and regex.match(path):
            return template
    return own or path


def _enforce(request: Request, principal: Principal) -> Principal:
    key = route_key(request.method, _template_for(request))
    needed = ROUTE_ROLES.get(key)
    if needed is None:
        # Default-deny: a route nobody declared a role for is open to no one.
        raise ServiceError(
            403,
            f"{key} has no declared role, so no one may use it.",
            cause="role_undeclared",
            title="This operation is not open to any role",
            resolution=["Declare the route's role in service/roles.py (ROUTE_ROLES)."],
            detail={"required_role": None, "role": principal.role},
        )
    require_role(principal, needed, key)
    return principal


def enforce_api_role(request: Request, principal: ApiPrincipal) -> Principal:
    """Router dependency for the API: the caller's role must cover the route's."""
    return _enforce(request, principal)


def enforce_console_role(request: Request, principal: ConsolePrincipal) -> Principal:
    """Router dependency for console pages: the signed-in user's role must cover the page's."""
    return _enforce(request, principal)


def may(principal: Principal | None, operation: str) -> bool:
    """Whether the console should offer ``operation`` (``"POST /path"`` or an action name)."""
    if principal is None:
        return False
    if operation in ACTION_ROLES:
        return has_role(principal.role, ACTION_ROLES[operation])
    method, _, path = operation.partition(" ")
    needed = route_role(method, path)
    return needed is not None and has_role(principal.role, needed)


def install_openapi_roles(app: FastAPI) -> None:
    """Mark every operation in the OpenAPI document with ``x-required-role``."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                needed = route_role(method, path)
                if needed is None or not isinstance(operation, dict):
                    continue
                operation["x-required-role"] = needed
                note = (
                    "No sign-in needed (`public`)."
                    if needed == PUBLIC
                    else f"Required role: `{needed}` (or higher)."
                )
                if method == "post" and path == "/api/v1/actions/plans":
                    note += " Also per action: " + ", ".join(
                        f"`{a}` {r}" for a, r in ACTION_ROLES.items()
                    )
                operation["description"] = (
                    operation.get("description", "") + "\n\n" + note
                ).strip()
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
