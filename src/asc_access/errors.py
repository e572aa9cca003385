"""The one exception tree of asc-access, grouped by what the caller should do next.

::

    AscAccessError                      root; carries .code / .cause when catalogued
    ├── UsageError                      the caller asked for something malformed (exit 2)
    │   └── NotFoundLocallyError        unknown connection name, unknown person in the mirror
    ├── CredentialError                 a local fact proves the key is wrong (APP-101, certain)
    ├── SecretStoreError                master key missing or wrong; stored key unreadable
    ├── ApiError                        Apple answered with an error document (or not at all)
    │   ├── AuthenticationError         401 NOT_AUTHORIZED (APP-101)
    │   ├── PermissionDeniedError       403 FORBIDDEN_ERROR (APP-102)
    │   ├── AgreementsError             403 FORBIDDEN.REQUIRED_AGREEMENTS_... (APP-103)
    │   ├── RateLimitedError            429 RATE_LIMIT_EXCEEDED, or our own budget stop (APP-104)
    │   ├── ServerError                 5xx after retries (APP-105)
    │   ├── TransportError              DNS / connect / TLS / timeout / dropped (APP-106)
    │   ├── UnexpectedResponseError     a body we cannot read (APP-107)
    │   └── RequestRejectedError        400 / 404 / 405 / 409 / 410 / 422: the request itself
    │       ├── ResourceNotFoundError   404 NOT_FOUND, 410
    │       └── ConflictError           409 ENTITY_ERROR.* / STATE_ERROR.*
    ├── StoreError                      the database failed or is out of date
    │   ├── StoreConflictError          another writer saved the same row first: read again, retry
    │   └── StoreValueError             the database refused a value (NUL, far too long): fix it
    ├── SyncError                       a sync could not complete (wraps the ApiError as __cause__)
    └── ActionError                     a provisioning action was refused by our safety rules

Errors carry structured context; their default code and cause, and the sentence
a person reads, come from the catalogue's one table (:mod:`asc_access.catalogue`),
not from here. Nothing in this
module may hold a secret: callers pass paths and sources, never key material.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asc_access.catalogue import defaults_for

__all__ = [
    "ActionError",
    "AgreementsError",
    "ApiError",
    "AppleError",
    "AscAccessError",
    "AuthenticationError",
    "ConflictError",
    "CredentialError",
    "NotFoundLocallyError",
    "PermissionDeniedError",
    "RateLimitSnapshot",
    "RateLimitedError",
    "RequestRejectedError",
    "ResourceNotFoundError",
    "SecretStoreError",
    "ServerError",
    "StoreConflictError",
    "StoreError",
    "StoreValueError",
    "SyncError",
    "TransportError",
    "UnexpectedResponseError",
    "UsageError",
]


@dataclass(frozen=True, slots=True)
class RateLimitSnapshot:
    """Apple's ``X-Rate-Limit`` header: ``user-hour-lim:3600;user-hour-rem:3599;``."""

    limit: int | None
    remaining: int | None
    extra: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, int | None]:
        """The shape used in ``--json`` output."""
        return {"limit": self.limit, "remaining": self.remaining}


@dataclass(frozen=True, slots=True)
class AppleError:
    """One entry of Apple's ``errors[]`` document."""

    status: str
    code: str
    title: str = ""
    detail: str = ""
    id: str | None = None
    source: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    links: dict[str, Any] | None = None

    def matches(self, prefix: str) -> bool:
        """Whether the code is ``prefix`` or lies under it in Apple's dotted hierarchy."""
        return self.code == prefix or self.code.startswith(prefix + ".")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, leaving out empty fields."""
        out: dict[str, Any] = {"status": self.status, "code": self.code, "title": self.title}
        if self.detail:
            out["detail"] = self.detail
        for name in ("id", "source", "meta", "links"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out


class AscAccessError(Exception):
    """Root of every error asc-access raises on purpose.

    ``code`` and ``cause`` name the catalogue entry (``APP-101`` / ``rejected``)
    when the error maps to one; ``context`` holds extra structured facts.
    """

    default_code: str | None = None
    default_cause: str | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        cause: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.cause = cause or self.default_cause
        self.context: dict[str, Any] = dict(context or {})

    def __str__(self) -> str:
        prefix = f"{self.code} " if self.code else ""
        return f"{prefix}{self.message}"


class UsageError(AscAccessError):
    """The caller asked for something malformed: fix the command or the input (exit 2)."""


class NotFoundLocallyError(UsageError):
    """A name the caller gave is not known locally (connection, person, app)."""


class CredentialError(AscAccessError):
    """Local evidence proves the Key ID, Issuer ID or private key is wrong (APP-101).

    ``source`` says where the bad value came from (``flag --key-id``,
    ``env ASC_KEY_ID``, ``file /path/AuthKey_X.p8``).
    """

    default_code = defaults_for("CredentialError")[0]

    def __init__(
        self,
        message: str,
        *,
        cause: str,
        source: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, cause=cause, context=context)
        self.source = source


class SecretStoreError(AscAccessError):
    """The master key is missing or wrong, or stored key material cannot be decrypted."""


class StoreError(AscAccessError):
    """The database failed, or its schema is not at the version this code needs."""


class StoreConflictError(StoreError):
    """Another writer saved a row with the same key first: read again and retry once."""


class StoreValueError(StoreError):
    """The database refused a value as a value (a NUL character, text far too long)."""


class SyncError(AscAccessError):
    """A sync could not complete; the previous snapshot is untouched."""


class ActionError(AscAccessError):
    """A provisioning action was refused by a safety rule (Account Holder, last Admin, ...)."""


class ApiError(AscAccessError):
    """Apple answered with an error (or not at all).

    Carries the method, the path (never the query's secrets: there are none, and
    never the Authorization header), the HTTP status, Apple's ``errors[]``,
    Apple's request id and the rate-limit snapshot of the failing response.
    """

    retriable: bool = False

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        errors: tuple[AppleError, ...] = (),
        request_id: str | None = None,
        rate_limit: RateLimitSnapshot | None = None,
        retry_after: float | None = None,
        code: str | None = None,
        cause: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, cause=cause, context=context)
        self.method = method
        self.path = path
        self.status = status
        self.errors = errors
        self.request_id = request_id
        self.rate_limit = rate_limit
        self.retry_after = retry_after

    @property
    def apple_code(self) -> str | None:
        """The first Apple error code, if Apple sent a document."""
        return self.errors[0].code if self.errors else None

    def __str__(self) -> str:
        answer = f"-> {self.status}" if self.status is not None else "-> no answer"
        where = f" ({self.method} {self.path} {answer})" if self.method else ""
        apple = f" [{self.apple_code}]" if self.apple_code else ""
        return f"{super().__str__()}{where}{apple}"

    def as_dict(self) -> dict[str, Any]:
        """Structured context for JSON output and audit records."""
        return {
            "code": self.code,
            "cause": self.cause,
            "message": self.message,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "errors": [e.as_dict() for e in self.errors],
            "request_id": self.request_id,
            "rate_limit": self.rate_limit.as_dict() if self.rate_limit else None,
        }


class AuthenticationError(ApiError):
    """401 NOT_AUTHORIZED: Apple refused the token (APP-101)."""

    default_code, default_cause = defaults_for("AuthenticationError")


class PermissionDeniedError(ApiError):
    """403 FORBIDDEN_ERROR: the key may not make this call (APP-102)."""

    default_code, default_cause = defaults_for("PermissionDeniedError")


class AgreementsError(ApiError):
    """403 FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED (APP-103)."""

    default_code, default_cause = defaults_for("AgreementsError")


class RateLimitedError(ApiError):
    """429, or our own pacing stopping before the hourly budget is burnt (APP-104)."""

    default_code, default_cause = defaults_for("RateLimitedError")
    retriable = True


class ServerError(ApiError):
    """Apple's service failed (5xx) and retries did not help (APP-105)."""

    default_code, default_cause = defaults_for("ServerError")
    retriable = True


class TransportError(ApiError):
    """Apple could not be reached: DNS, connect, TLS, proxy, timeout, dropped (APP-106)."""

    default_code, default_cause = defaults_for("TransportError")
    retriable = True


class UnexpectedResponseError(ApiError):
    """Apple answered something we cannot read (APP-107)."""

    default_code, default_cause = defaults_for("UnexpectedResponseError")


class RequestRejectedError(ApiError):
    """400 / 404 / 405 / 409 / 410 / 422: Apple refused this request as made."""


class ResourceNotFoundError(RequestRejectedError):
    """404 NOT_FOUND (or 410 Gone): the id does not exist on the team."""


class ConflictError(RequestRejectedError):
    """409 ENTITY_ERROR.* / STATE_ERROR.*: the data is unacceptable in the current state."""
