"""A response as the client keeps it, and the small text helpers around responses (no HTTP)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from asc_access.api.types import ResponseInfo
from asc_access.errors import ApiError, AppleError, UnexpectedResponseError

__all__ = ["ApiResponse", "error_message", "excerpt", "http_date", "redact", "url_path"]

R = TypeVar("R")

_SECRETISH = re.compile(r"(?i)bearer\s+\S+|eyJ[\w-]+\.[\w-]*\.?[\w-]*")
_EXCERPT = 160
_MESSAGE = 300


def redact(text: str) -> str:
    """``text`` with anything shaped like a bearer token or a JWT replaced."""
    return _SECRETISH.sub("[redacted]", text)


def excerpt(body: bytes) -> str:
    """The start of a body as one line of text, tokens redacted (evidence for APP-107)."""
    text = body[: _EXCERPT * 4].decode("utf-8", errors="replace")
    text = redact(" ".join(text.split()))
    return text[:_EXCERPT]


def http_date(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware datetime (``None`` when absent or unreadable)."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def error_message(status: int, errors: Sequence[AppleError]) -> str:
    """One readable line for an error response: Apple's title and detail, bounded."""
    if errors:
        first = errors[0]
        text = first.title or first.code or f"HTTP {status}"
        if first.detail:  # Apple's titles often end with a full stop: no ".:" then
            text = (
                f"{text} {first.detail}"
                if text.endswith((".", "!", "?"))
                else f"{text}: {first.detail}"
            )
        if len(errors) > 1:
            text = f"{text} (+{len(errors) - 1} more)"
    else:
        text = f"HTTP {status} without an Apple error document"
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE else text[: _MESSAGE - 1] + "…"


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A successful (2xx) response: its facts and body, with decoding that names failures."""

    info: ResponseInfo
    body: bytes
    after_retry: bool = False

    def unexpected(self, reason: str, context: dict[str, Any] | None = None) -> ApiError:
        """An ``UnexpectedResponseError`` about this response, with its full context."""
        return UnexpectedResponseError(
            f"Apple's answer could not be read: {reason}",
            method=self.info.method,
            path=self.info.path,
            status=self.info.status,
            request_id=self.info.request_id,
            rate_limit=self.info.rate_limit,
            context={**(context or {}), "reason": reason, "excerpt": excerpt(self.body)},
        )

    def json(self) -> Any:
        """The body parsed as JSON (``UnexpectedResponseError`` when it is not)."""
        if not self.body.strip():
            raise self.unexpected("the body is empty")
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError) as exc:
            raise self.unexpected("the body is not JSON") from exc

    def decode(self, decoder: Callable[[Any], R]) -> R:
        """Parse the body and apply a :mod:`~asc_access.api.jsonapi` decoder to it."""
        document = self.json()
        try:
            return decoder(document)
        except UnexpectedResponseError as exc:
            raise self.unexpected(exc.context.get("reason", exc.message)) from exc


def url_path(url: str) -> str:
    """The path of a URL or path-with-query, without the query (for logs and errors)."""
    path = url.partition("?")[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path or "/"
