"""Every Apple error code we know: (HTTP status, Apple code) → what it means and how it classifies.

Sources: Apple's documentation and captured responses (``asc-api-notes.md``
§3.3, including the 409 sub-codes seen in the wild). Codes are matched by
Apple's dotted hierarchy, never by title text (one exception: the 2020 form of
the agreements block is told apart by its ``wording``). The API client
derives its classification rules from this table in table order (the first
entry one of the document's errors matches wins, so the order sets precedence:
an agreements block outranks a permission refusal, an unknown path outranks a
missing resource); the doctor explains with :func:`lookup` (the longest known
prefix).
A 404 proves a resource absent only when Apple's own document says so: a 404
without a document, or with ``PATH_ERROR``, is ``unexpected_response``.
"""

from __future__ import annotations

from asc_access.catalogue.model import Action, AppleCodeEntry, Kind

__all__ = ["APPLE_CODES", "lookup"]


def _c(
    status: int,
    code: str | None,
    kind: Kind,
    title: str,
    meaning: str,
    cause: str | None = None,
    action: Action = "fail",
    *,
    wording: str | None = None,
    any_code: bool = False,
) -> AppleCodeEntry:
    return AppleCodeEntry(status, code, kind, title, meaning, cause, action, wording, any_code)


_DUP = "Apple refused the data: "
APPLE_CODES: tuple[AppleCodeEntry, ...] = (
    _c(401, "NOT_AUTHORIZED", "authentication", "Apple refused the token",
       "The same answer for every credential problem: wrong key, issuer, signature, "
       "revoked key, token shape, lifetime or clock.", "rejected", "remint"),
    _c(401, None, "authentication", "Apple refused the token",
       "A 401 without Apple's usual code; treated like NOT_AUTHORIZED.", "rejected", "remint"),
    _c(403, "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED", "agreements",
       "The team's agreements must be accepted",
       "Every call is blocked until the Account Holder accepts the latest agreements "
       "(links.see points at /business).", "agreements_missing"),
    _c(403, "FORBIDDEN", "agreements", "Access unavailable (agreements)",
       "The 2020 form of the agreements block: code FORBIDDEN, title 'Access Unavailable', "
       "detail naming the Program License Agreement. Without that wording: a permission "
       "problem.", "agreements_missing", wording="agreement"),
    _c(403, "FORBIDDEN_ERROR", "permission", "The key may not make this call",
       "'The API key in use does not allow this request': the key's role (or an individual "
       "key's owner) lacks the permission.", "key_role_insufficient"),
    _c(403, None, "permission", "The key may not make this call",
       "Apple lists a revoked key, a malformed token or an operation not allowed.",
       "key_role_insufficient"),
    _c(404, "PATH_ERROR", "not_found", "Unknown API path",
       "The URL path does not exist: the API URL or the client is wrong, not the data.",
       "unexpected_response"),
    _c(404, "NOT_FOUND", "not_found", "No such resource",
       "There is no resource of that type with that id on this team (already deleted, "
       "or another team's id). Any other code with a 404 reads the same.",
       None, any_code=True),
    _c(404, None, "not_found", "Not Apple's API at this URL",
       "A 404 without Apple's error document: probably not App Store Connect's API at "
       "this URL (a wrong API URL, or a proxy answering).", "unexpected_response"),
    _c(405, "METHOD_NOT_ALLOWED", "bad_request", "Method not allowed",
       "The path exists but does not support this method.", None),
    _c(400, "PARAMETER_ERROR.INVALID", "bad_request", "A parameter has an invalid value",
       "A query parameter's value is not valid (source.parameter names it).", None),
    _c(400, "PARAMETER_ERROR.ILLEGAL", "bad_request", "A parameter is not allowed",
       "The query parameter is not allowed on this request.", None),
    _c(400, "PARAMETER_ERROR.REQUIRED", "bad_request", "A required parameter is missing",
       "The request lacks a parameter Apple requires.", None),
    _c(400, "PARAMETER_ERROR", "bad_request", "A parameter is wrong",
       "Another parameter problem (source.parameter names it).", None),
    _c(400, "ENTITY_INVALID", "bad_request", "The request body is not valid",
       "The body is not JSON or has the wrong type.", None),
    _c(400, None, "bad_request", "Apple refused the request", "A malformed request.", None),
    _c(406, "NOT_ACCEPTABLE", "bad_request", "Unsupported Accept header",
       "The Accept header asks for something other than JSON (the sandbox answers with "
       "this code; Apple answers in plain text).", None),
    _c(406, None, "bad_request", "Unsupported Accept header",
       "Apple answers 406 in plain text when the Accept header is not JSON.", None),
    _c(410, None, "gone", "The resource is gone",
       "E.g. reading an invitation after it was accepted (the person is now a user).", None),
    _c(415, None, "bad_request", "Unsupported Content-Type",
       "The body must be sent as application/json.", None),
    _c(422, "ENTITY_UNPROCESSABLE", "bad_request", "The request document is not valid",
       "JSON, but not a valid JSON:API document (misspelt data/attributes, wrong type).",
       None),
    _c(409, "ENTITY_ERROR", "conflict", _DUP + "the data is not acceptable",
       "Well-formed body, unacceptable data.", None),
    _c(409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "conflict", _DUP + "a value is invalid",
       "An attribute has an invalid value (source.pointer names it).", None),
    _c(409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE", "conflict",
       _DUP + "it duplicates an existing entry",
       "E.g. the e-mail already belongs to a member or a pending invitation.", None),
    _c(409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE.DIFFERENT_ACCOUNT", "conflict",
       _DUP + "it duplicates an entry of another account",
       "The value is already used by a different account.", None),
    _c(409, "ENTITY_ERROR.ATTRIBUTE.INVALID.ALREADY_EXISTS", "conflict",
       _DUP + "it already exists", "The entry already exists.", None),
    _c(409, "ENTITY_ERROR.ATTRIBUTE.INVALID.UNMODIFIABLE", "conflict",
       _DUP + "the field cannot be changed now",
       "The entity contains a field that cannot be modified in its current state (e.g. the "
       "Account Holder's roles, or app access for a role that always sees every app).",
       None),
    _c(409, "ENTITY_ERROR.ATTRIBUTE.UNKNOWN", "conflict", _DUP + "an attribute is unknown",
       "The entity includes an unknown attribute (code inferred from the title Apple "
       "sends).", None),
    _c(409, "ENTITY_ERROR.ATTRIBUTE.REQUIRED", "conflict", _DUP + "a required value is missing",
       "The entity lacks a required attribute (source.pointer names it; the sandbox's "
       "vocabulary, in Apple's error format).", None),
    _c(409, "ENTITY_ERROR.RELATIONSHIP.UNKNOWN", "conflict",
       _DUP + "a relationship is unknown",
       "The entity names a relationship this resource does not have (the sandbox's "
       "vocabulary, in Apple's error format).", None),
    _c(409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "conflict",
       _DUP + "a relationship is invalid",
       "A relationship has an invalid value (e.g. an app id that is not on the team).", None),
    _c(409, "STATE_ERROR.ALREADY_EXISTS", "conflict", "The resource already exists",
       "Apple says the resource already exists.", None),
    _c(409, "STATE_ERROR.ENTITY_STATE_INVALID", "conflict",
       "The resource's state does not allow this", "The change is not allowed in the "
       "resource's current state.", None),
    _c(409, "STATE_ERROR", "conflict", "The resource's state does not allow this",
       "Another state conflict.", None),
    _c(409, None, "conflict", _DUP + "conflict", "A conflict without a known code.", None),
    _c(429, "RATE_LIMIT_EXCEEDED", "rate_limit", "Rate limit reached",
       "The key's hourly request budget is used up, or too many requests ran at once.",
       "rate_limited", "retry"),
    _c(429, None, "rate_limit", "Rate limit reached", "Too many requests.", "rate_limited",
       "retry"),
    _c(500, "UNEXPECTED_ERROR", "server", "Apple's service failed",
       "A transient server fault; retrying usually helps.", "apple_unavailable", "retry"),
    _c(500, None, "server", "Apple's service failed", "A server fault.", "apple_unavailable",
       "retry"),
    _c(502, "BAD_GATEWAY", "server", "Apple's gateway failed",
       "Bad gateway (code as the sandbox sends it).", "apple_unavailable", "retry"),
    _c(502, None, "server", "Apple's gateway failed", "Bad gateway.", "apple_unavailable",
       "retry"),
    _c(503, "SERVICE_UNAVAILABLE", "server", "Apple's service is unavailable",
       "Service unavailable (code as the sandbox sends it).", "apple_unavailable", "retry"),
    _c(503, None, "server", "Apple's service is unavailable", "Service unavailable.",
       "apple_unavailable", "retry"),
    _c(504, None, "server", "Apple's gateway timed out", "Gateway timeout.",
       "apple_unavailable", "retry"),
)  # fmt: skip


def _fallback(status: int, *, document: bool) -> AppleCodeEntry | None:
    if document:
        for item in APPLE_CODES:
            if item.status == status and item.any_code:
                return item
    for item in APPLE_CODES:
        if item.status == status and item.code is None:
            return item
    if 500 <= status < 600:
        return _fallback(500, document=False)
    return None


def lookup(status: int | None, code: str | None) -> AppleCodeEntry | None:
    """The entry for ``(status, code)``: longest matching code prefix, else the status fallback."""
    if status is None:
        return None
    best: AppleCodeEntry | None = None
    for item in APPLE_CODES:
        if item.status != status or item.code is None or code is None:
            continue
        if (code == item.code or code.startswith(item.code + ".")) and (
            best is None or len(item.code) > len(best.code or "")
        ):
            best = item
    return best or _fallback(status, document=code is not None)
