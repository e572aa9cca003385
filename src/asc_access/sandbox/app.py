"""The ASGI application: Apple's API under ``/v1``, the control API under ``/_sandbox``.

Order of checks for Apple's API (as a gateway in front of Apple's service would):
latency → token → hourly quota → injected faults → agreements → path / method →
``Accept`` → role → the operation itself.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from email.utils import formatdate
from typing import Any

from asc_access.sandbox import problems
from asc_access.sandbox.auth import Rejection, authenticate
from asc_access.sandbox.control import handle_control
from asc_access.sandbox.routes import Call, Reply, json_reply, match_route
from asc_access.sandbox.state import Sandbox
from asc_access.sandbox.vocabulary import MANAGE_USERS_ROLES

__all__ = ["DROP_EXTENSION", "SandboxApp", "create_app"]

log = logging.getLogger("asc_access.sandbox")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Scope extension set by :mod:`asc_access.sandbox.server`: closes the connection.
DROP_EXTENSION = "asc_sandbox.drop"
_MALFORMED_BODY = b"<html><body><h1>502 Bad Gateway</h1>upstream sent garbage</body></html>"


class _DroppedError(Exception):
    """Internal: the connection is to be closed without any response."""


class SandboxApp:
    """ASGI app serving one :class:`Sandbox`."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        base = _base_url(scope, headers)
        raw_query = scope.get("query_string", b"").decode("latin-1")
        call = Call(scope["method"].upper(), path, raw_query, headers, body, base)
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            reply = handle_control(self.sandbox, call, _is_loopback(scope))
            _after(self.sandbox, call, reply)
            await _send(send, reply, self.sandbox, rate_header=None, request_id=_request_id())
            return
        try:
            reply, rate_header = await self._api(call)
        except _DroppedError:
            await _drop(scope)
            return
        self.sandbox.stats.status(reply.status)
        _after(self.sandbox, call, reply)
        await _send(send, reply, self.sandbox, rate_header=rate_header, request_id=_request_id())

    async def _api(self, call: Call) -> tuple[Reply, str | None]:
        sandbox = self.sandbox
        found = match_route(call.path)
        template = found[0].template if found else "(unknown path)"
        sandbox.stats.count(f"{call.method} {template}")
        if sandbox.latency_ms:
            await asyncio.sleep(sandbox.latency_ms / 1000)
        rate_header: str | None = None
        try:
            try:
                call.principal = authenticate(
                    sandbox.keys,
                    call.headers.get("authorization"),
                    now=sandbox.clock.now(),
                    method=call.method,
                    path=call.path,
                    query=call.raw_query,
                )
            except Rejection as rejection:
                log.info("401 for %s %s: %s", call.method, call.path, rejection.reason)
                raise problems.not_authorized() from None
            roles = _roles(sandbox, call)
            allowed, remaining = sandbox.limiter.take(
                call.principal.key.key_id, sandbox.clock.now()
            )
            rate_header = sandbox.limiter.header(remaining)
            if not allowed:
                raise problems.rate_limited()
            faulted = await _apply_faults(sandbox, call)
            if faulted is not None:
                return faulted, rate_header
            if not sandbox.agreements_accepted:
                raise problems.agreements_missing()
            if found is None:
                raise problems.path_error(call.path)
            route, call.path_params = found
            handler = route.handlers.get(call.method)
            if handler is None:
                raise problems.method_not_allowed(call.method, call.path)
            if not _accepts_json(call.headers.get("accept")):
                return Reply(406, b"Not Acceptable", {}, "text/plain"), rate_header
            if route.manages_users and not roles & MANAGE_USERS_ROLES:
                raise problems.forbidden()
            return handler(sandbox, call), rate_header
        except problems.ApiProblem as problem:
            return json_reply(problem.status, problem.document(), problem.headers), rate_header


def create_app(sandbox: Sandbox | None = None) -> SandboxApp:
    """An ASGI app for ``sandbox`` (a fresh demo sandbox when omitted)."""
    return SandboxApp(sandbox or Sandbox())


def _after(sandbox: Sandbox, call: Call, reply: Reply) -> None:
    if call.method in _WRITES and reply.status < 400:
        sandbox.changed()


_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def _roles(sandbox: Sandbox, call: Call) -> frozenset[str]:
    assert call.principal is not None
    key = call.principal.key
    if key.key_type == "team":
        return frozenset({key.role or ""})
    user = sandbox.world.users.get(key.user_id or "")
    if user is None:  # the person left the team: their key dies with them
        log.info("401: individual key %s belongs to no member", key.key_id)
        raise problems.not_authorized()
    return frozenset(user.roles)


async def _apply_faults(sandbox: Sandbox, call: Call) -> Reply | None:
    for fault in sandbox.faults.match(call.method, call.path):
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.drop:
            raise _DroppedError
        if fault.malformed:
            status = fault.status or 200
            return Reply(status, _MALFORMED_BODY, {}, "application/json")
        if fault.status is not None:
            problem = (
                problems.rate_limited()
                if fault.status == 429
                else problems.server_error(fault.status)
            )
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            document = problem.document()
            if fault.echo_authorization:
                echo = call.headers.get("authorization", "")
                document["errors"][0]["detail"] += f" Rejected request: Authorization: {echo}"
            return json_reply(problem.status, document, headers)
    return None


def _accepts_json(accept: str | None) -> bool:
    if not accept:
        return True
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in {"*/*", "application/*", "application/json", "application/vnd.api+json"}:
            return True
    return False


def _request_id() -> str:
    return str(uuid.uuid4()).upper()


def _base_url(scope: Scope, headers: dict[str, str]) -> str:
    scheme = scope.get("scheme", "http")
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}"


def _is_loopback(scope: Scope) -> bool:
    client = scope.get("client")
    if not client:
        return True
    host = str(client[0])
    return host in {"127.0.0.1", "::1", "localhost", "testclient"} or host.startswith("127.")


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(
    send: Send, reply: Reply, sandbox: Sandbox, *, rate_header: str | None, request_id: str
) -> None:
    headers = [
        (b"date", formatdate(sandbox.clock.now(), usegmt=True).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    if reply.content_type is not None:
        headers.append((b"content-type", reply.content_type.encode()))
    if rate_header is not None:
        headers.append((b"x-rate-limit", rate_header.encode()))
    headers.extend((k.lower().encode(), v.encode()) for k, v in reply.headers.items())
    headers.append((b"content-length", str(len(reply.body)).encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


async def _drop(scope: Scope) -> None:
    closer = scope.get("extensions", {}).get(DROP_EXTENSION)
    if closer is not None:
        closer()
        await asyncio.sleep(0)
        return
    # In-process (httpx.ASGITransport) there is no socket to close: raise what httpx
    # raises when a server hangs up without answering.
    import httpx  # lazy: only the in-process (ASGITransport) sandbox needs httpx

    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
