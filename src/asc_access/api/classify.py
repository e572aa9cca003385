"""The one table that turns (HTTP status, Apple error code) into an error class and an action.

Rules are tried in order; the first whose status set contains the status, whose
Apple code prefix matches one of the document's ``errors[].code`` (by Apple's
dotted hierarchy, never by text) and whose other conditions hold, wins.

======  ==================================================  ========================  ======
status  Apple code (prefix)                                 error class               action
======  ==================================================  ========================  ======
401     any                                                 AuthenticationError       remint
403     FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED    AgreementsError           fail
403     FORBIDDEN, title/detail mention an agreement        AgreementsError           fail
403     any other                                           PermissionDeniedError     fail
429     any                                                 RateLimitedError          retry
404     PATH_ERROR (wrong API URL, or a client bug)         UnexpectedResponseError   fail
404     any, with an Apple error document                   ResourceNotFoundError     fail
410     any                                                 ResourceNotFoundError     fail
404     no Apple error document (not Apple at this URL?)    UnexpectedResponseError   fail
409     any                                                 ConflictError             fail
4xx     any other (400, 405, 406, 415, 422, ...)            RequestRejectedError      fail
5xx     any                                                 ServerError               retry
other   (1xx, 3xx)                                          UnexpectedResponseError   fail
======  ==================================================  ========================  ======

A 404 proves a resource absent only when Apple's own document says so: an
unknown *path* (or a 404 from something that is not Apple) must never read as
"already deleted" to a caller treating ``ResourceNotFoundError`` as done, so
those are ``UnexpectedResponseError`` (APP-107, ``unexpected_response``), in
step with :mod:`asc_access.diagnosis.apple_codes`.

``remint`` means: drop the cached token, mint a new one and send the request
once more (a 401 proves Apple did not act on the request). ``retry`` means the
bounded retry loop may repeat the request when that is safe for its method
(see :mod:`asc_access.api.retry`). This module imports nothing but the error
tree, so :mod:`asc_access.diagnosis` can mirror it without importing the API
layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from asc_access.errors import (
    AgreementsError,
    ApiError,
    AppleError,
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    RateLimitedError,
    RequestRejectedError,
    ResourceNotFoundError,
    ServerError,
    UnexpectedResponseError,
)

__all__ = ["RULES", "Action", "Rule", "classify"]

Action = Literal["remint", "retry", "fail"]

_CLIENT_ERRORS = frozenset(range(400, 500))
_SERVER_ERRORS = frozenset(range(500, 600))


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the classification table."""

    statuses: frozenset[int] | None
    code_prefix: str | None
    error: type[ApiError]
    action: Action
    note: str
    wording: str | None = None
    needs_document: bool = False
    no_document: bool = False

    def matches(self, status: int, errors: Sequence[AppleError]) -> bool:
        """Whether this rule applies to a response with ``status`` and ``errors``."""
        if self.statuses is not None and status not in self.statuses:
            return False
        if self.needs_document and not errors:
            return False
        if self.no_document and errors:
            return False
        if self.code_prefix is None:
            return True
        for error in errors:
            if not error.matches(self.code_prefix):
                continue
            if self.wording is None:
                return True
            text = f"{error.title} {error.detail}".lower()
            if self.wording in text:
                return True
        return False


RULES: tuple[Rule, ...] = (
    Rule(frozenset({401}), None, AuthenticationError, "remint", "token refused: re-mint once"),
    Rule(
        frozenset({403}),
        "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
        AgreementsError,
        "fail",
        "agreements not accepted (current code)",
    ),
    Rule(
        frozenset({403}),
        "FORBIDDEN",
        AgreementsError,
        "fail",
        "agreements not accepted (2020 form: code FORBIDDEN, wording about the agreement)",
        wording="agreement",
    ),
    Rule(frozenset({403}), None, PermissionDeniedError, "fail", "the key may not make this call"),
    Rule(frozenset({429}), None, RateLimitedError, "retry", "rate limit reached"),
    Rule(
        frozenset({404}),
        "PATH_ERROR",
        UnexpectedResponseError,
        "fail",
        "unknown path: the API URL or the client is wrong, not the resource",
    ),
    Rule(
        frozenset({404}),
        None,
        ResourceNotFoundError,
        "fail",
        "no such resource",
        needs_document=True,
    ),
    Rule(frozenset({410}), None, ResourceNotFoundError, "fail", "resource gone"),
    Rule(
        frozenset({404}),
        None,
        UnexpectedResponseError,
        "fail",
        "404 without Apple's error document: probably not Apple's API at this URL",
        no_document=True,
    ),
    Rule(frozenset({409}), None, ConflictError, "fail", "data unacceptable in the current state"),
    Rule(_CLIENT_ERRORS, None, RequestRejectedError, "fail", "the request itself was refused"),
    Rule(_SERVER_ERRORS, None, ServerError, "retry", "Apple's service failed"),
    Rule(None, None, UnexpectedResponseError, "fail", "a status the client does not expect"),
)


def classify(status: int, errors: Sequence[AppleError] = ()) -> Rule:
    """The first rule of :data:`RULES` that matches an error response."""
    for rule in RULES:
        if rule.matches(status, errors):
            return rule
    raise AssertionError("the last rule matches everything")  # pragma: no cover
