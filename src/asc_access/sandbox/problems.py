"""Apple-shaped error documents, raised as :class:`ApiProblem` inside the sandbox.

Titles and details follow what Apple sends (asc-api-notes.md §3.3). Where no
public capture exists (duplicate invitations, the Account Holder, restricting an
Admin's apps), the sandbox picks a code from Apple's documented vocabulary; the
choices are listed in :mod:`asc_access.sandbox` and the sandbox README section
of the final report.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = [
    "ApiProblem",
    "agreements_missing",
    "entity_error",
    "entity_invalid",
    "entity_unprocessable",
    "forbidden",
    "method_not_allowed",
    "not_acceptable",
    "not_authorized",
    "not_found",
    "parameter_illegal",
    "parameter_invalid",
    "path_error",
    "rate_limited",
    "server_error",
    "unsupported_media_type",
]

NOT_AUTHORIZED_BODY: dict[str, Any] = {
    "errors": [
        {
            "status": "401",
            "code": "NOT_AUTHORIZED",
            "title": "Authentication credentials are missing or invalid.",
            "detail": (
                "Provide a properly configured and signed bearer token, and make sure that "
                "it has not expired. Learn more about Generating Tokens for API Requests "
                "https://developer.apple.com/go/?id=api-generating-tokens"
            ),
        }
    ]
}


class ApiProblem(Exception):  # noqa: N818  (a response, not a failure of the sandbox)
    """An error response: HTTP status, Apple's error objects, extra headers."""

    def __init__(
        self,
        status: int,
        errors: list[dict[str, Any]],
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {errors[0].get('code', '')}")
        self.status = status
        self.errors = errors
        self.headers = headers or {}

    def document(self) -> dict[str, Any]:
        """The JSON body."""
        return {"errors": self.errors}


def _error(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    source: dict[str, str] | None = None,
    links: dict[str, str] | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "status": str(status),
        "code": code,
        "title": title,
        "detail": detail,
    }
    if source is not None:
        error["source"] = source
    if links is not None:
        error["links"] = links
    return error


def _one(status: int, code: str, title: str, detail: str, **extra: Any) -> ApiProblem:
    return ApiProblem(status, [_error(status, code, title, detail, **extra)])


def not_authorized() -> ApiProblem:
    """401: the same body whatever was wrong with the token (Apple reveals nothing)."""
    return ApiProblem(401, [dict(NOT_AUTHORIZED_BODY["errors"][0])])


def forbidden() -> ApiProblem:
    """403 FORBIDDEN_ERROR: the key's role does not allow this request."""
    return _one(
        403,
        "FORBIDDEN_ERROR",
        "This request is forbidden for security reasons",
        "The API key in use does not allow this request",
    )


def agreements_missing() -> ApiProblem:
    """403 with the agreements code and ``links.see``."""
    return _one(
        403,
        "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
        "A required agreement is missing or has expired.",
        "This request requires an in-effect agreement that has not been signed or has expired.",
        links={"see": "/business"},
    )


def not_found(resource_type: str, resource_id: str) -> ApiProblem:
    """404 NOT_FOUND for an unknown id on a valid path."""
    return _one(
        404,
        "NOT_FOUND",
        "The specified resource does not exist",
        f"There is no resource of type '{resource_type}' with id '{resource_id}'",
    )


def path_error(path: str) -> ApiProblem:
    """404 PATH_ERROR for a path that names no resource."""
    return _one(
        404,
        "PATH_ERROR",
        "The URL path is not valid",
        f"The path provided does not match a defined resource type: '{path}'",
    )


def method_not_allowed(method: str, path: str) -> ApiProblem:
    """405 METHOD_NOT_ALLOWED."""
    return _one(
        405,
        "METHOD_NOT_ALLOWED",
        "The request method is not valid for the resource path.",
        f"The request method '{method}' is not valid for the resource path '{path}'.",
    )


def parameter_invalid(parameter: str, detail: str) -> ApiProblem:
    """400 PARAMETER_ERROR.INVALID naming the parameter."""
    return _one(
        400,
        "PARAMETER_ERROR.INVALID",
        "A parameter has an invalid value",
        detail,
        source={"parameter": parameter},
    )


def parameter_illegal(parameter: str, detail: str | None = None) -> ApiProblem:
    """400 PARAMETER_ERROR.ILLEGAL: the parameter may not be used with this request."""
    return _one(
        400,
        "PARAMETER_ERROR.ILLEGAL",
        "A parameter is not allowed for this request",
        detail or f"The parameter '{parameter}' can not be used with this request",
        source={"parameter": parameter},
    )


def entity_invalid(detail: str) -> ApiProblem:
    """400 ENTITY_INVALID: the body is not JSON (or not an object)."""
    return _one(400, "ENTITY_INVALID", "The request entity is not valid JSON", detail)


def entity_unprocessable(detail: str, pointer: str | None = None) -> ApiProblem:
    """422 ENTITY_UNPROCESSABLE: JSON, but not a valid request document."""
    return _one(
        422,
        "ENTITY_UNPROCESSABLE",
        "The request entity is not a valid request document object",
        detail,
        source={"pointer": pointer} if pointer else None,
    )


_ENTITY_TITLES = {
    "ENTITY_ERROR.ATTRIBUTE.INVALID": "The provided entity includes an attribute with an "
    "invalid value",
    "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE": "The provided entity includes an attribute "
    "with a value that is a duplicate of an existing entity",
    "ENTITY_ERROR.ATTRIBUTE.INVALID.UNMODIFIABLE": "The provided entity contains a field that "
    "can not be modified in the current state",
    "ENTITY_ERROR.ATTRIBUTE.REQUIRED": "The provided entity is missing a required field",
    "ENTITY_ERROR.ATTRIBUTE.UNKNOWN": "The provided entity includes an unknown attribute",
    "ENTITY_ERROR.RELATIONSHIP.INVALID": "The provided entity includes a relationship with "
    "an invalid value",
    "ENTITY_ERROR.RELATIONSHIP.UNKNOWN": "The provided entity includes an unknown relationship",
    "STATE_ERROR.ENTITY_STATE_INVALID": "The request cannot be fulfilled because of the "
    "state of the resource.",
}


def entity_error(code: str, detail: str, pointer: str | None) -> ApiProblem:
    """409 ``ENTITY_ERROR.*`` / ``STATE_ERROR.*`` with ``source.pointer``."""
    title = _ENTITY_TITLES.get(code, "The provided entity is not valid")
    return _one(
        409, code, title, detail, source={"pointer": pointer} if pointer is not None else None
    )


def rate_limited() -> ApiProblem:
    """429 RATE_LIMIT_EXCEEDED."""
    return _one(
        429,
        "RATE_LIMIT_EXCEEDED",
        "The request rate limit has been reached.",
        "We've received too many requests for this API. Please wait and try again or slow "
        "down your request rate.",
    )


def server_error(status: int) -> ApiProblem:
    """A 5xx (500 UNEXPECTED_ERROR; 502/503 with the same vocabulary)."""
    if status == 500:
        return _one(
            500,
            "UNEXPECTED_ERROR",
            "An unexpected error occurred.",
            "An unexpected error occurred on the server side. If this issue continues, "
            "contact us at https://developer.apple.com/contact/.",
        )
    return _one(
        status,
        "SERVICE_UNAVAILABLE" if status == 503 else "BAD_GATEWAY",
        "The service is temporarily unavailable.",
        "The service is temporarily unavailable. Please try again later.",
    )


def unsupported_media_type(content_type: str) -> ApiProblem:
    """415: the body must be ``application/json``."""
    return _one(
        415,
        "ENTITY_INVALID",
        "The request entity has an unsupported media type",
        f"Content-Type '{content_type}' is not supported; use 'application/json'.",
    )


def not_acceptable() -> ApiProblem:
    """406 (rendered as plain text by the app, as Apple does)."""
    return ApiProblem(406, [{"status": "406", "code": "NOT_ACCEPTABLE", "title": "", "detail": ""}])
