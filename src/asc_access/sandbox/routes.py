"""Handlers for the 16 operations of Apple's API that the sandbox serves."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asc_access.sandbox import bodies, problems
from asc_access.sandbox.auth import Principal
from asc_access.sandbox.documents import Renderer, page_links
from asc_access.sandbox.params import Query, parse_query
from asc_access.sandbox.state import Sandbox
from asc_access.sandbox.world import World

__all__ = ["ROUTES", "Call", "Reply", "Route", "json_reply", "match_route"]

Doc = dict[str, Any]


@dataclass(slots=True)
class Call:
    """One request to Apple's API, authenticated."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes
    base: str
    principal: Principal | None = None
    path_params: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Reply:
    """A response before the common headers are added."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"


def json_reply(status: int, document: Doc, headers: dict[str, str] | None = None) -> Reply:
    """A JSON response."""
    body = json.dumps(document, separators=(",", ":")).encode()
    return Reply(status, body, headers or {})


def _no_content() -> Reply:
    return Reply(204, b"", {}, None)


def _renderer(sandbox: Sandbox, call: Call) -> Renderer:
    return Renderer(call.base, sandbox.app_cache, omit_totals=sandbox.omit_included_totals)


def _collection(
    call: Call, query: Query, records: Sequence[Any], render: Callable[[Any, dict[str, Doc]], Doc]
) -> Reply:
    page = records[query.offset : query.offset + query.limit]
    included: dict[str, Doc] = {}
    document: Doc = {"data": [render(record, included) for record in page]}
    if included:
        document["included"] = list(included.values())
    document["links"] = page_links(
        call.base, call.path, query, call.raw_query, query.offset, len(records)
    )
    document["meta"] = {"paging": {"total": len(records), "limit": query.limit}}
    return json_reply(200, document)


def _single(call: Call, resource: Doc, included: dict[str, Doc], status: int = 200) -> Reply:
    document: Doc = {"data": resource}
    if included:
        document["included"] = list(included.values())
    document["links"] = {
        "self": f"{call.base}{call.path}" + (f"?{call.raw_query}" if call.raw_query else "")
    }
    return json_reply(status, document)


def _body(call: Call) -> Any:
    return bodies.read_json(call.headers.get("content-type"), call.body)


Handler = Callable[[Sandbox, Call], Reply]
#: How a handler finds a user or an invitation by id (:meth:`World.user`, :meth:`World.invitation`).
_Find = Callable[[World, str], Any]


def _people_page(scope: str, view_of: Callable[[World, Any, Any], Sequence[Any]]) -> Handler:
    """GET a page of users or invitations, filtered and sorted by ``view_of``."""

    def handler(sandbox: Sandbox, call: Call) -> Reply:
        query = parse_query(call.raw_query, scope)
        view = view_of(sandbox.world, query.filters, query.sort)
        renderer = _renderer(sandbox, call)
        apps = sandbox.world.apps
        return _collection(call, query, view, lambda r, inc: renderer.person(r, query, inc, apps))

    return handler


def _one_person(scope: str, find: _Find) -> Handler:
    """GET one user or invitation, by the path's ``id``."""

    def handler(sandbox: Sandbox, call: Call) -> Reply:
        query = parse_query(call.raw_query, scope)
        record = find(sandbox.world, call.path_params["id"])
        included: dict[str, Doc] = {}
        resource = _renderer(sandbox, call).person(record, query, included, sandbox.world.apps)
        return _single(call, resource, included)

    return handler


def _deleter(remove: Callable[[World, str], object]) -> Handler:
    """DELETE the user or invitation the path's ``id`` names."""

    def handler(sandbox: Sandbox, call: Call) -> Reply:
        parse_query(call.raw_query, "write")
        remove(sandbox.world, call.path_params["id"])
        return _no_content()

    return handler


def _person_apps(find: _Find) -> Handler:
    """GET the apps the user or invitation the path's ``id`` names can see."""

    def handler(sandbox: Sandbox, call: Call) -> Reply:
        query = parse_query(call.raw_query, "related_apps")
        app_ids = find(sandbox.world, call.path_params["id"]).visible_app_ids
        apps = [sandbox.world.apps[a] for a in app_ids if a in sandbox.world.apps]
        renderer = _renderer(sandbox, call)
        fields = query.fields_for("apps")
        return _collection(call, query, apps, lambda a, _inc: renderer.app(a, fields))

    return handler


def _person_linkages(find: _Find) -> Handler:
    """GET the ids of the apps the user or invitation the path's ``id`` names can see."""

    def handler(sandbox: Sandbox, call: Call) -> Reply:
        query = parse_query(call.raw_query, "linkages")
        app_ids = find(sandbox.world, call.path_params["id"]).visible_app_ids
        return _collection(call, query, app_ids, lambda a, _inc: {"type": "apps", "id": a})

    return handler


# ----- users -------------------------------------------------------------------------
list_users = _people_page("users", World.user_view)  # GET /v1/users
get_user = _one_person("user", World.user)  # GET /v1/users/{id}
delete_user = _deleter(World.delete_user)  # DELETE /v1/users/{id}
user_visible_apps = _person_apps(World.user)  # GET /v1/users/{id}/visibleApps
get_linkages = _person_linkages(World.user)  # GET /v1/users/{id}/relationships/visibleApps


def patch_user(sandbox: Sandbox, call: Call) -> Reply:
    """PATCH /v1/users/{id}."""
    parse_query(call.raw_query, "write")
    user_id = call.path_params["id"]
    sandbox.world.user(user_id)
    changes = bodies.user_update(_body(call), user_id)
    user = sandbox.world.update_user(user_id, **changes)
    resource = _renderer(sandbox, call).person(user, Query(), {}, sandbox.world.apps)
    return _single(call, resource, {})


def _change_linkages(sandbox: Sandbox, call: Call, mode: str) -> Reply:
    parse_query(call.raw_query, "write")
    user_id = call.path_params["id"]
    sandbox.world.user(user_id)
    ids = bodies.linkage_ids(_body(call))
    sandbox.world.change_visible_apps(user_id, ids, mode)
    return _no_content()


def add_linkages(sandbox: Sandbox, call: Call) -> Reply:
    """POST /v1/users/{id}/relationships/visibleApps."""
    return _change_linkages(sandbox, call, "add")


def replace_linkages(sandbox: Sandbox, call: Call) -> Reply:
    """PATCH /v1/users/{id}/relationships/visibleApps."""
    return _change_linkages(sandbox, call, "replace")


def remove_linkages(sandbox: Sandbox, call: Call) -> Reply:
    """DELETE /v1/users/{id}/relationships/visibleApps."""
    return _change_linkages(sandbox, call, "remove")


# ----- invitations -------------------------------------------------------------------
list_invitations = _people_page("invitations", World.invitation_view)  # GET /v1/userInvitations
get_invitation = _one_person("invitation", World.invitation)  # GET /v1/userInvitations/{id}
delete_invitation = _deleter(World.delete_invitation)  # DELETE /v1/userInvitations/{id}
#: GET /v1/userInvitations/{id}/visibleApps
invitation_visible_apps = _person_apps(World.invitation)
#: GET /v1/userInvitations/{id}/relationships/visibleApps (in Apple's full spec)
invitation_linkages = _person_linkages(World.invitation)


def create_invitation(sandbox: Sandbox, call: Call) -> Reply:
    """POST /v1/userInvitations."""
    parse_query(call.raw_query, "write")
    fields = bodies.invitation_create(_body(call))
    invitation = sandbox.world.create_invitation(**fields)
    resource = _renderer(sandbox, call).person(invitation, Query(), {}, sandbox.world.apps)
    location = f"{call.base}/v1/userInvitations/{invitation.id}"
    reply = _single(call, resource, {}, status=201)
    reply.headers["Location"] = location
    return reply


# ----- apps --------------------------------------------------------------------------
def _viewer(call: Call) -> str | None:
    key = call.principal.key if call.principal else None
    return key.user_id if key is not None and key.key_type == "individual" else None


def list_apps(sandbox: Sandbox, call: Call) -> Reply:
    """GET /v1/apps (an individual key sees only its user's apps)."""
    query = parse_query(call.raw_query, "apps")
    view = sandbox.world.app_view(query.filters, query.sort, _viewer(call))
    renderer = _renderer(sandbox, call)
    fields = query.fields_for("apps")
    return _collection(call, query, view, lambda a, _inc: renderer.app(a, fields))


def get_app(sandbox: Sandbox, call: Call) -> Reply:
    """GET /v1/apps/{id}."""
    query = parse_query(call.raw_query, "app")
    app_id = call.path_params["id"]
    app = sandbox.world.app(app_id)
    allowed = sandbox.world.visible_apps_of_viewer(_viewer(call))
    if allowed is not None and app_id not in allowed:
        raise problems.not_found("apps", app_id)
    return _single(call, _renderer(sandbox, call).app(app, query.fields_for("apps")), {})


# ----- routing -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    """A path template, its handlers by method, and whether it needs user management."""

    template: str
    pattern: re.Pattern[str]
    handlers: dict[str, Handler]
    manages_users: bool


def _route(template: str, handlers: dict[str, Handler], *, manages_users: bool) -> Route:
    regex = "^" + re.escape(template).replace(re.escape("{id}"), "(?P<id>[^/]+)") + "$"
    return Route(template, re.compile(regex), handlers, manages_users)


ROUTES: tuple[Route, ...] = (
    _route("/v1/users", {"GET": list_users}, manages_users=True),
    _route(
        "/v1/users/{id}",
        {"GET": get_user, "PATCH": patch_user, "DELETE": delete_user},
        manages_users=True,
    ),
    _route("/v1/users/{id}/visibleApps", {"GET": user_visible_apps}, manages_users=True),
    _route(
        "/v1/users/{id}/relationships/visibleApps",
        {
            "GET": get_linkages,
            "POST": add_linkages,
            "PATCH": replace_linkages,
            "DELETE": remove_linkages,
        },
        manages_users=True,
    ),
    _route(
        "/v1/userInvitations",
        {"GET": list_invitations, "POST": create_invitation},
        manages_users=True,
    ),
    _route(
        "/v1/userInvitations/{id}",
        {"GET": get_invitation, "DELETE": delete_invitation},
        manages_users=True,
    ),
    _route(
        "/v1/userInvitations/{id}/visibleApps",
        {"GET": invitation_visible_apps},
        manages_users=True,
    ),
    _route(
        "/v1/userInvitations/{id}/relationships/visibleApps",
        {"GET": invitation_linkages},
        manages_users=True,
    ),
    _route("/v1/apps", {"GET": list_apps}, manages_users=False),
    _route("/v1/apps/{id}", {"GET": get_app}, manages_users=False),
)


def match_route(path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for ``path`` and its path parameters."""
    for route in ROUTES:
        found = route.pattern.match(path)
        if found:
            return route, found.groupdict()
    return None
