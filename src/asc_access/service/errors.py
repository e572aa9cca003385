"""The service's one error seam: every failure becomes ``{code, cause, title, resolution[], ...}``.

Our errors (:mod:`asc_access.errors`) get the catalogue's code and cause and the
diagnosis table's title and numbered resolution steps; FastAPI's validation
errors, unknown routes and our own HTTP-level refusals (:class:`ServiceError`)
get the same shape with ``code: null`` and a stable ``cause``. Bad input is
always a 4xx; a 5xx means the service or Apple failed, never the caller.
API paths answer JSON; console pages render the same content as HTML.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from asc_access.errors import (
    ActionError,
    ApiError,
    AscAccessError,
    ConflictError,
    CredentialError,
    NotFoundLocallyError,
    RateLimitedError,
    ResourceNotFoundError,
    SecretStoreError,
    StoreError,
    StoreValueError,
    SyncError,
    UsageError,
)
from asc_access.redaction import redact
from asc_access.service.explain import Explanation, explain
from asc_access.store.handle import REFUSED_VALUE, translate

__all__ = ["Problem", "ServiceError", "install_error_handlers", "problem_for", "status_for"]

log = logging.getLogger("asc_access.service")


class ServiceError(Exception):
    """A refusal decided by the service itself (auth, CSRF, limits, unknown ids)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        cause: str,
        title: str | None = None,
        resolution: Sequence[str] = (),
        headers: dict[str, str] | None = None,
        code: str | None = None,
        detail: Any = None,
    ) -> None:
        super().__init__(message)
        #: The error document this refusal answers with.
        self.problem = Problem(
            status=status,
            code=code,
            cause=cause,
            title=title or message,
            message=message,
            resolution=list(resolution),
            headers=dict(headers or {}),
            detail=detail,
        )


@dataclass(frozen=True)
class Problem:
    """The error document and the status it travels with."""

    status: int
    code: str | None
    cause: str | None
    title: str
    message: str
    resolution: list[str] = field(default_factory=list)
    certainty: str | None = None
    evidence: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    detail: Any = None

    def body(self) -> dict[str, Any]:
        """The JSON body every error answer carries (upstream text redacted once more)."""
        out: dict[str, Any] = {
            "code": self.code,
            "cause": self.cause,
            "title": redact(self.title),
            "resolution": list(self.resolution),
            "message": redact(self.message),
        }
        if self.certainty is not None:
            out["certainty"] = self.certainty
        if self.evidence:
            out["evidence"] = [redact(e) for e in self.evidence]
        if self.detail is not None:
            out["detail"] = self.detail
        return out


def status_for(error: AscAccessError) -> int:
    """The HTTP status for one of our errors (4xx for the caller's input, 5xx for failures)."""
    if isinstance(error, NotFoundLocallyError):
        return 404
    if isinstance(error, UsageError):
        return 409 if error.context.get("conflict") else 400
    if isinstance(error, CredentialError):
        return 422
    if isinstance(error, ActionError):
        return 409
    if isinstance(error, ResourceNotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, RateLimitedError):
        return 503
    if isinstance(error, ApiError | SyncError):
        # Apple refused or failed on the service's behalf: a bad gateway, not a bad request.
        return 502
    if isinstance(error, SecretStoreError | StoreError):
        return 503
    return 500


def _from_explanation(status: int, error: AscAccessError, ex: Explanation) -> Problem:
    headers: dict[str, str] = {}
    if isinstance(error, ApiError) and error.retry_after is not None:
        headers["Retry-After"] = str(max(1, int(error.retry_after)))
    elif isinstance(error, RateLimitedError):
        headers["Retry-After"] = "60"
    return Problem(
        status=status,
        code=ex.code,
        cause=ex.cause,
        title=ex.title,
        message=error.message,
        resolution=list(ex.resolution),
        certainty=ex.certainty,
        evidence=list(ex.evidence),
        headers=headers,
    )


#: The fixed problems with no catalogue code: cause -> (status, title, message, the one step).
_PLAIN: dict[str, tuple[int, str, str, str]] = {
    "invalid_json": (
        400,
        "The request body is not valid JSON",
        "The request body could not be parsed as JSON.",
        "Send a JSON object with Content-Type: application/json.",
    ),
    # The database refused a value as a value: a NUL character (PostgreSQL cannot
    # store or even compare one) or text too long for its column. Apple's values are
    # checked when decoded, so here it came from the request.
    "invalid_value": (
        400,
        "A value in the request cannot be used",
        (
            "A value in the request cannot be stored or searched for "
            "(a NUL character, or a value far too long)."
        ),
        "Remove control characters from the values sent, and keep them short.",
    ),
    "internal_error": (
        500,
        "The service failed unexpectedly",
        "The service failed unexpectedly; the error was logged on the server.",
        "Try again; if it keeps failing, check the server log.",
    ),
}


def _plain(cause: str) -> Problem:
    status, title, message, step = _PLAIN[cause]
    return Problem(
        status=status, code=None, cause=cause, title=title, message=message, resolution=[step]
    )


def _validation_problem(error: RequestValidationError) -> Problem:
    issues = []
    malformed_json = False
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        if item.get("type") == "json_invalid":
            malformed_json = True
        issues.append({"field": where, "problem": str(item.get("msg", "invalid"))})
    if malformed_json:
        return _plain("invalid_json")
    summary = "; ".join(f"{i['field']}: {i['problem']}" for i in issues[:5])
    return Problem(
        status=422,
        code=None,
        cause="invalid_request",
        title="The request is missing or has invalid fields",
        message=f"Invalid request: {summary}",
        resolution=["Correct the fields listed in 'detail' and send the request again."],
        detail=issues,
    )


def _http_problem(error: StarletteHTTPException) -> Problem:
    causes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    message = str(error.detail) if error.detail else "Request refused"
    if error.status_code == 404 and message == "Not Found":
        message = "There is nothing at this address."
    return Problem(
        status=error.status_code,
        code=None,
        cause=causes.get(error.status_code, "http_error"),
        title=message,
        message=message,
        headers=dict(error.headers or {}),
    )


def problem_for(error: BaseException) -> Problem:
    """Turn any exception into a :class:`Problem` (unknown ones become a plain 500)."""
    if isinstance(error, ServiceError):
        return error.problem
    if isinstance(error, StoreValueError) or isinstance(translate(error), StoreValueError):
        return _plain("invalid_value")
    if isinstance(error, AscAccessError):
        return _from_explanation(status_for(error), error, explain(error))
    if isinstance(error, RequestValidationError):
        return _validation_problem(error)
    if isinstance(error, StarletteHTTPException):
        return _http_problem(error)
    return _plain("internal_error")


def wants_html(request: Request) -> bool:
    """Whether this request came from a console page rather than the API."""
    path = request.url.path
    return not (path.startswith(("/api/", "/static/")) or path in {"/api", "/metrics"})


#: Draws a problem as a console page (the console's renderer, given at installation).
HtmlRenderer = Callable[[Request, Problem], Response]


async def _handle(request: Request, error: Exception, html: HtmlRenderer | None) -> Response:
    problem = problem_for(error)
    if problem.status >= 500:
        log.error(
            "request failed: %s %s -> %s (%s)",
            request.method,
            request.url.path,
            problem.status,
            type(error).__name__,
            exc_info=not isinstance(error, AscAccessError),
        )
    if html is not None and wants_html(request):
        return html(request, problem)
    return JSONResponse(problem.body(), status_code=problem.status, headers=problem.headers)


def install_error_handlers(app: FastAPI, html: HtmlRenderer | None = None) -> None:
    """Register the one handler for every error type the service can meet.

    ``html`` draws the problem for console pages (:func:`wants_html`); the console
    passes its renderer in, so this module never imports the console (which needs it).
    """

    async def handle(request: Request, error: Exception) -> Response:
        return await _handle(request, error, html)

    for kind in (
        ServiceError,
        AscAccessError,
        RequestValidationError,
        StarletteHTTPException,
        REFUSED_VALUE,
        Exception,
    ):
        app.add_exception_handler(kind, handle)
