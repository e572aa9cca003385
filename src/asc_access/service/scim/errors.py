"""Our failures as SCIM errors (RFC 7644 §3.12), with statuses that make IdPs retry or stop.

A spent rate budget is ``429`` with ``Retry-After``; Apple down, unreachable or
a connection whose key no longer works is ``503`` (the IdP retries later); a
safety rule is ``400 mutability`` (nothing was changed); an existing person is
``409 uniqueness``; a value Apple does not know is ``400 invalidValue``.
"""

from __future__ import annotations

from scim2_models import (
    InvalidValueException,
    MutabilityException,
    SCIMException,
    UniquenessException,
)

from asc_access.actions import Execution, Plan, Rule
from asc_access.errors import ApiError, UsageError

__all__ = ["RetryLater", "execution_error", "plan_error", "scim_error"]

_RETRY_SECONDS = 30.0


class RetryLater(SCIMException):
    """Apple cannot take the write now: ``429`` (budget spent) or ``503``; ``Retry-After`` set."""

    def __init__(self, status: int, detail: str, retry_after: float | None) -> None:
        super().__init__(detail=detail)
        self.status = status
        self.retry_after = max(1, int(retry_after or _RETRY_SECONDS))


def _for_code(code: str | None, detail: str, retry_after: float | None) -> SCIMException:
    if code == "APP-104":
        return RetryLater(429, detail, retry_after or 60.0)
    if code is not None:
        return RetryLater(503, detail, retry_after)
    return InvalidValueException(detail=detail)


def scim_error(error: Exception) -> SCIMException | None:
    """The SCIM error for one of our exceptions (``None``: not ours, a 500)."""
    if isinstance(error, SCIMException):
        return error
    if isinstance(error, ApiError):
        return _for_code(error.code, f"App Store Connect: {error}", error.retry_after)
    if isinstance(error, UsageError):
        return InvalidValueException(detail=error.message)
    return None


def plan_error(plan: Plan) -> SCIMException | None:
    """The error for a plan our safety rules refuse (``None`` when it may run)."""
    refusals = plan.blocking_refusals
    if not refusals:
        return None
    first = refusals[0]
    detail = "; ".join(r.reason for r in refusals) + " (nothing was changed)"
    if first.rule is Rule.MEMBER_EXISTS:
        return UniquenessException(detail=detail)
    if first.rule in {Rule.ACCOUNT_HOLDER, Rule.LAST_ADMIN}:
        return MutabilityException(detail=detail)
    if first.rule is Rule.UNREADABLE:
        return RetryLater(503, detail, None)
    return InvalidValueException(detail=detail)


def execution_error(execution: Execution) -> SCIMException | None:
    """The error for a plan that did not run to the end (``None`` when it did)."""
    if execution.status == "done":
        return None
    failed = execution.first_failure or next(
        (r for r in execution.results if r.state == "not_run"), None
    )
    message = failed.message if failed else execution.status
    code = failed.code if failed else None
    retry_after = (failed.error or {}).get("retry_after") if failed else None
    detail = f"the change was not completed ({execution.status}): {message}"
    if code is None and execution.status != "partial":
        code = "APP-105"
    return _for_code(code, detail, retry_after if isinstance(retry_after, int | float) else None)
