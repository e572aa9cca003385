"""Refuse JSON bodies nested deeper than any request of ours needs, before they are parsed.

Python's JSON decoder recurses per level of nesting: ``[`` × 5000 raises
``RecursionError`` inside the framework's body parsing, which would be a 500.
This middleware reads the (already size-limited) body of a JSON request, and
when it opens more than :data:`MAX_DEPTH` arrays or objects inside one another
answers 400 itself; otherwise it hands the same bytes on.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_DEPTH", "JsonDepthMiddleware", "json_depth"]

#: No request body of the API comes near this (a plan or a desired state is a few levels).
MAX_DEPTH = 64

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body`` (strings are skipped)."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return 0  # cannot be too deep: skip the scan
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub(b'""', body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


async def _send_400(send: Send) -> None:
    body = json.dumps(
        {
            "code": None,
            "cause": "invalid_json",
            "title": "The request body is nested too deeply",
            "resolution": [
                f"Send a JSON object with at most {MAX_DEPTH} levels of nested arrays and objects."
            ],
            "message": f"The JSON body nests more than {MAX_DEPTH} levels deep.",
        }
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


class JsonDepthMiddleware:
    """400 for a JSON request body nested deeper than :data:`MAX_DEPTH`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body arrived
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth(body) > MAX_DEPTH:
            await _send_400(send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
