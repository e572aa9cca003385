"""The control API under ``/_sandbox/`` (loopback only; not part of Apple's API).

``GET /_sandbox/`` lists these endpoints (:data:`ENDPOINTS`); docs/sandbox.md
documents each with a curl example.

- ``GET /_sandbox/info``; ``GET /_sandbox/stats``; ``POST /_sandbox/stats/reset``
- ``GET|POST|DELETE /_sandbox/faults``
- ``GET|POST /_sandbox/keys``; ``POST /_sandbox/keys/{key_id}/revoke``
- ``POST /_sandbox/agreements`` ``{"accepted": bool}``
- ``GET|POST /_sandbox/clock`` ``{"offset_seconds": n}``
- ``POST /_sandbox/rate-limit`` ``{"limit": n, "window_seconds"?: s}``
- ``POST /_sandbox/included-totals`` ``{"omit": bool}``: drop ``meta.paging.total`` on included
  relationships (as Apple may), or send it again
- ``POST /_sandbox/userInvitations/{id}/accept`` and ``.../expire``
- ``POST /_sandbox/users/{id}/roles`` ``{"roles": [...], "all_apps_visible"?: bool}``
- ``POST /_sandbox/reset`` ``{"seed": "demo"}`` or a generated team
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asc_access.sandbox import problems
from asc_access.sandbox.routes import Call, Reply, json_reply
from asc_access.sandbox.seeds import SeedSpec
from asc_access.sandbox.state import Sandbox

__all__ = ["ENDPOINTS", "handle_control"]

#: (method, path, what it does, JSON body) for ``GET /_sandbox/``.
ENDPOINTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("GET", "/_sandbox/", "this list", None),
    ("GET", "/_sandbox/info", "Issuer ID, team size, switches, keys (no key material)", None),
    ("GET", "/_sandbox/stats", "requests to Apple's API, by route and by status", None),
    ("POST", "/_sandbox/stats/reset", "zero the request counters", None),
    ("GET", "/_sandbox/faults", "the fault rules", None),
    (
        "POST",
        "/_sandbox/faults",
        "add a fault rule",
        (
            '{"status": 503, "count": 2, "path_prefix": "/v1/users", "method": "GET", "after": 0, '
            '"rate": 1.0, "latency_ms": 0, "retry_after": null, "drop": false, "malformed": false}'
        ),
    ),
    ("DELETE", "/_sandbox/faults", "remove every fault rule", None),
    ("GET", "/_sandbox/keys", "every key issued (no key material)", None),
    (
        "POST",
        "/_sandbox/keys",
        "issue a key; the answer holds its private key (PEM), once",
        (
            '{"key_type": "team", "role": "ADMIN", "name": "ci"} or '
            '{"key_type": "individual", "user": "<user id>"}'
        ),
    ),
    ("POST", "/_sandbox/keys/{key_id}/revoke", "revoke a key for good", None),
    (
        "POST",
        "/_sandbox/agreements",
        "block (false) or allow (true) every call",
        '{"accepted": false}',
    ),
    ("GET", "/_sandbox/clock", "the sandbox clock's offset from real time", None),
    ("POST", "/_sandbox/clock", "run the clock ahead (+) or behind (-)", '{"offset_seconds": 120}'),
    ("POST", "/_sandbox/rate-limit", "requests per key per rolling hour", '{"limit": 100}'),
    ("POST", "/_sandbox/userInvitations/{id}/accept", "the invitee accepts", None),
    ("POST", "/_sandbox/userInvitations/{id}/expire", "the invitation expires now", None),
    (
        "POST",
        "/_sandbox/users/{id}/roles",
        "change a member's roles as App Store Connect's web UI would",
        '{"roles": ["DEVELOPER", "APP_MANAGER"], "all_apps_visible": false}',
    ),
    (
        "POST",
        "/_sandbox/reset",
        "a fresh team (keys stay valid)",
        (
            '{"seed": "demo"} or {"seed": "generated", "users": 100, "apps": 10, '
            '"invitations": 5, "random_seed": 1}'
        ),
    ),
)


def _index() -> dict[str, Any]:
    return {
        "endpoints": [
            {"method": method, "path": path, "description": what, "body": body}
            for method, path, what, body in ENDPOINTS
        ],
        "docs": "docs/sandbox.md",
    }


class _ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _body(call: Call) -> dict[str, Any]:
    if not call.body.strip():
        return {}
    try:
        data = json.loads(call.body)
    except ValueError:
        raise _ControlError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise _ControlError(400, "the body must be a JSON object")
    return data


def _int_field(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _ControlError(400, f"'{name}' must be a non-negative integer")
    return value


def _user_json(user: Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "roles": list(user.roles),
        "all_apps_visible": user.all_apps_visible,
        "visible_app_ids": list(user.visible_app_ids),
    }


def _info(sandbox: Sandbox, call: Call) -> dict[str, Any]:
    world = sandbox.world
    return {
        "base_url": call.base,
        "issuer_id": sandbox.issuer_id,
        "seed": sandbox.seed_spec.seed,
        "users": len(world.users),
        "apps": len(world.apps),
        "invitations": len(world.invitations),
        "agreements_accepted": sandbox.agreements_accepted,
        "clock_offset_seconds": sandbox.clock.offset_seconds,
        "rate_limit": sandbox.limiter.limit,
        "latency_ms": sandbox.latency_ms,
        "keys": [key.describe(sandbox.issuer_id) for key in sandbox.keys],
    }


def _issue_key(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    key_type = body.get("key_type", "team")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise _ControlError(400, "'name' must be a string")
    if key_type == "team":
        role = body.get("role", "ADMIN")
        try:
            key = sandbox.keys.issue_team(str(role), name)
        except ValueError as error:
            raise _ControlError(400, str(error)) from None
    elif key_type == "individual":
        user_id = body.get("user")
        if not isinstance(user_id, str) or user_id not in sandbox.world.users:
            raise _ControlError(404, f"no user with id {user_id!r}")
        key = sandbox.keys.issue_individual(user_id, name)
    else:
        raise _ControlError(400, "'key_type' must be 'team' or 'individual'")
    described = key.describe(sandbox.issuer_id)
    described["private_key"] = key.private_key_pem
    return described


Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Ask:
    """One control call: the sandbox, the call, its JSON body (``{}`` for GET and DELETE)
    and, for an endpoint with ids in its path, the path's match."""

    sandbox: Sandbox
    call: Call
    body: dict[str, Any]
    found: re.Match[str] | None = None

    def path_id(self, group: int = 1) -> str:
        assert self.found is not None
        return self.found.group(group)


Endpoint = Callable[[_Ask], Answer]


def _reset_stats(ask: _Ask) -> Answer:
    ask.sandbox.stats.reset()
    return 200, ask.sandbox.stats.as_json()


def _clear_faults(ask: _Ask) -> Answer:
    ask.sandbox.faults.clear()
    return 200, {"faults": []}


def _add_fault(ask: _Ask) -> Answer:
    try:
        return 201, ask.sandbox.faults.add(ask.body).describe()
    except ValueError as error:
        raise _ControlError(400, str(error)) from None


def _switch(key: str, attribute: str) -> Endpoint:
    """An endpoint setting one on/off switch of the sandbox from ``{key: true|false}``."""

    def endpoint(ask: _Ask) -> Answer:
        value = ask.body.get(key)
        if not isinstance(value, bool):
            raise _ControlError(400, f"'{key}' must be true or false")
        setattr(ask.sandbox, attribute, value)
        return 200, {key: value}

    return endpoint


def _clock(ask: _Ask) -> Answer:
    if ask.call.method == "POST":
        offset = ask.body.get("offset_seconds")
        if isinstance(offset, bool) or not isinstance(offset, int | float):
            raise _ControlError(400, "'offset_seconds' must be a number")
        ask.sandbox.clock.offset_seconds = float(offset)
        ask.sandbox.world.touch()
    return 200, {"offset_seconds": ask.sandbox.clock.offset_seconds, "now": ask.sandbox.clock.now()}


def _rate_limit(ask: _Ask) -> Answer:
    ask.sandbox.limiter.limit = _int_field(ask.body, "limit", ask.sandbox.limiter.limit)
    if "window_seconds" in ask.body:
        ask.sandbox.limiter.window = float(_int_field(ask.body, "window_seconds", 3600))
    return 200, {"limit": ask.sandbox.limiter.limit, "window_seconds": ask.sandbox.limiter.window}


def _reset(ask: _Ask) -> Answer:
    seed = ask.body.get("seed", ask.sandbox.seed_spec.seed)
    if not isinstance(seed, str):
        raise _ControlError(400, "'seed' must be a string")
    spec = SeedSpec(
        seed=seed,
        users=_int_field(ask.body, "users", 0),
        apps=_int_field(ask.body, "apps", 0),
        invitations=_int_field(ask.body, "invitations", 0),
        random_seed=_int_field(ask.body, "random_seed", 0),
    )
    ask.sandbox.reset(spec)
    return 200, _info(ask.sandbox, ask.call)


def _revoke(ask: _Ask) -> Answer:
    try:
        return 200, ask.sandbox.keys.revoke(ask.path_id()).describe(ask.sandbox.issuer_id)
    except KeyError:
        raise _ControlError(404, f"no key with id {ask.path_id()!r}") from None


def _invitation_event(ask: _Ask) -> Answer:
    if ask.path_id(2) == "accept":
        user = ask.sandbox.world.accept_invitation(ask.path_id())
        return 200, {"user_id": user.id, "user": _user_json(user)}
    invitation = ask.sandbox.world.expire_invitation(ask.path_id())
    return 200, {"id": invitation.id, "expiration": invitation.expiration.isoformat()}


def _set_roles(ask: _Ask) -> Answer:
    roles = ask.body.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _ControlError(400, "'roles' must be a list of strings")
    visible = ask.body.get("all_apps_visible")
    if visible is not None and not isinstance(visible, bool):
        raise _ControlError(400, "'all_apps_visible' must be true or false")
    user = ask.sandbox.world.set_roles_out_of_band(ask.path_id(), roles, visible)
    return 200, _user_json(user)


#: Every control endpoint at a fixed path, by method and path.
_ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/_sandbox"): lambda _ask: (200, _index()),
    ("GET", "/_sandbox/info"): lambda ask: (200, _info(ask.sandbox, ask.call)),
    ("GET", "/_sandbox/stats"): lambda ask: (200, ask.sandbox.stats.as_json()),
    ("POST", "/_sandbox/stats/reset"): _reset_stats,
    ("GET", "/_sandbox/faults"): lambda ask: (
        200,
        {"faults": [f.describe() for f in ask.sandbox.faults.faults]},
    ),
    ("DELETE", "/_sandbox/faults"): _clear_faults,
    ("POST", "/_sandbox/faults"): _add_fault,
    ("GET", "/_sandbox/keys"): lambda ask: (
        200,
        {"keys": [k.describe(ask.sandbox.issuer_id) for k in ask.sandbox.keys]},
    ),
    ("POST", "/_sandbox/keys"): lambda ask: (201, _issue_key(ask.sandbox, ask.body)),
    ("POST", "/_sandbox/agreements"): _switch("accepted", "agreements_accepted"),
    ("GET", "/_sandbox/clock"): _clock,
    ("POST", "/_sandbox/clock"): _clock,
    ("POST", "/_sandbox/included-totals"): _switch("omit", "omit_included_totals"),
    ("POST", "/_sandbox/rate-limit"): _rate_limit,
    ("POST", "/_sandbox/reset"): _reset,
}
#: The endpoints with ids in their path (all POST).
_PATH_ENDPOINTS: tuple[tuple[re.Pattern[str], Endpoint], ...] = (
    (re.compile(r"/_sandbox/keys/([^/]+)/revoke"), _revoke),
    (re.compile(r"/_sandbox/userInvitations/([^/]+)/(accept|expire)"), _invitation_event),
    (re.compile(r"/_sandbox/users/([^/]+)/roles"), _set_roles),
)


def _route(sandbox: Sandbox, call: Call) -> Answer:
    method, path = call.method, call.path.rstrip("/")
    body = _body(call) if method in {"POST", "PATCH", "PUT"} else {}
    endpoint = _ENDPOINTS.get((method, path))
    if endpoint is not None:
        return endpoint(_Ask(sandbox, call, body))
    if method == "POST":
        for pattern, path_endpoint in _PATH_ENDPOINTS:
            found = pattern.fullmatch(path)
            if found:
                return path_endpoint(_Ask(sandbox, call, body, found))
    raise _ControlError(404, f"no control endpoint {method} {path}")


def handle_control(sandbox: Sandbox, call: Call, loopback: bool) -> Reply:
    """Answer a control request (JSON in, JSON out)."""
    if not loopback:
        return json_reply(403, {"error": "the control API answers loopback clients only"})
    try:
        status, document = _route(sandbox, call)
    except _ControlError as error:
        return json_reply(error.status, {"error": error.message})
    except problems.ApiProblem as problem:
        first = problem.errors[0]
        return json_reply(
            problem.status, {"error": first.get("detail", ""), "code": first.get("code")}
        )
    return json_reply(status, document)
