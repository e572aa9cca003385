"""(HTTP status, Apple error code) → error class and action, read from the catalogue.

The catalogue's Apple-code table (:mod:`asc_access.catalogue.apple_codes`)
says which cause (or, outside the catalogue, which kind of refusal) an answer
is and what a client does about it; :data:`RULES` is derived from it, row by
row, adding only the error class to raise. Rules are tried in order: the coded
rows (in table order, matched by Apple's dotted hierarchy, never by text, but
for the 2020 agreements wording), then each status's fallback, then 5xx, other
4xx and everything else. The class of a catalogued cause is the one whose
``default_cause`` it is (so the error tree, the client and the doctor read the
same row); refusals outside the catalogue map by kind:

=====================  ========================
kind                   error class
=====================  ========================
not_found, gone        ResourceNotFoundError
conflict               ConflictError
bad_request            RequestRejectedError
=====================  ========================

A status the table does not know is a refused request when it is a 4xx and an
unreadable answer (APP-107) otherwise. ``remint`` means: drop the cached token,
mint a new one and send the request once more (a 401 proves Apple did not act
on the request). ``retry`` means the bounded retry loop may repeat the request
when that is safe for its method (see :mod:`asc_access.api.retry`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from asc_access.catalogue import APPLE_CODES, Action, AppleCodeEntry, Kind
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
    TransportError,
    UnexpectedResponseError,
)

__all__ = ["RULES", "Action", "ClassifyRule", "classify"]

_CLIENT_ERRORS = frozenset(range(400, 500))
_SERVER_ERRORS = frozenset(range(500, 600))

_BY_CAUSE: dict[str | None, type[ApiError]] = {
    cls.default_cause: cls
    for cls in (
        AuthenticationError,
        PermissionDeniedError,
        AgreementsError,
        RateLimitedError,
        ServerError,
        TransportError,
        UnexpectedResponseError,
    )
}
_BY_KIND: dict[Kind, type[ApiError]] = {
    "not_found": ResourceNotFoundError,
    "gone": ResourceNotFoundError,
    "conflict": ConflictError,
    "bad_request": RequestRejectedError,
}


@dataclass(frozen=True, slots=True)
class ClassifyRule:
    """One classification rule, derived from a row of the catalogue's Apple-code table.

    ``statuses=None`` matches every status; ``code_prefix=None`` any document
    (or none); ``needs_document`` requires Apple's error document.
    """

    statuses: frozenset[int] | None
    code_prefix: str | None
    error: type[ApiError]
    action: Action
    note: str
    wording: str | None = None
    needs_document: bool = False

    def matches(self, status: int, errors: Sequence[AppleError]) -> bool:
        """Whether this rule applies to a response with ``status`` and ``errors``."""
        if self.statuses is not None and status not in self.statuses:
            return False
        if self.needs_document and not errors:
            return False
        if self.code_prefix is None:
            return True
        for error in errors:
            if not error.matches(self.code_prefix):
                continue
            if self.wording is None or self.wording in f"{error.title} {error.detail}".lower():
                return True
        return False


def _error_class(item: AppleCodeEntry) -> type[ApiError]:
    if item.cause is not None:
        return _BY_CAUSE[item.cause]
    return _BY_KIND[item.kind]


def _rule(item: AppleCodeEntry, *, fallback: bool = False) -> ClassifyRule:
    return ClassifyRule(
        frozenset({item.status}),
        None if fallback else item.code,
        _error_class(item),
        item.action,
        item.title,
        wording=None if fallback else item.wording,
        needs_document=item.any_code and fallback,
    )


def _rules() -> tuple[ClassifyRule, ...]:
    """Coded rows (table order), then each status's fallbacks, then the status ranges."""
    coded = [_rule(item) for item in APPLE_CODES if item.code is not None]
    any_code = [_rule(item, fallback=True) for item in APPLE_CODES if item.any_code]
    plain = [_rule(item, fallback=True) for item in APPLE_CODES if item.code is None]
    server = next(r for r in plain if r.statuses == frozenset({500}))
    return (
        *coded,
        *any_code,
        *plain,
        replace(server, statuses=_SERVER_ERRORS, note="Apple's service failed"),
        ClassifyRule(_CLIENT_ERRORS, None, RequestRejectedError, "fail", "the request was refused"),
        ClassifyRule(
            None, None, UnexpectedResponseError, "fail", "a status the client does not expect"
        ),
    )


#: The classification table, derived from :data:`asc_access.catalogue.APPLE_CODES`.
RULES: tuple[ClassifyRule, ...] = _rules()


def classify(status: int, errors: Sequence[AppleError] = ()) -> ClassifyRule:
    """The first rule of :data:`RULES` that matches an error response."""
    for rule in RULES:
        if rule.matches(status, errors):
            return rule
    raise AssertionError("the last rule matches everything")  # pragma: no cover
