"""Apple's error answer → the classified error to raise, and what the failure proves.

The error class and the action come from :func:`~asc_access.api.classify.classify`
(the catalogue's table). Apple's 401 says nothing about why; a clock far
enough off Apple's ``Date`` header explains it (the token's ``iat`` lies in
Apple's future, or the token expired on arrival), so the error then carries
``cause="clock_skew"`` and the measured skew.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from asc_access.api.classify import classify
from asc_access.api.jsonapi import decode_errors
from asc_access.api.response import error_message, excerpt
from asc_access.api.retry import AttemptOutcome, FailedAttempt
from asc_access.api.types import ResponseInfo
from asc_access.errors import RateLimitSnapshot, ResourceNotFoundError

__all__ = [
    "SKEW_AHEAD_REFUSED",
    "SKEW_BEHIND_REFUSED",
    "clock_skew_note",
    "failed_answer",
    "skew_explains_refusal",
]

#: A clock this far ahead of Apple's puts a token's ``iat`` in Apple's future even
#: after the usual back-dating; this far behind, the token has expired on arrival.
SKEW_AHEAD_REFUSED = 120.0
SKEW_BEHIND_REFUSED = 600.0


def skew_explains_refusal(skew_seconds: float) -> bool:
    """Whether a clock ``skew_seconds`` off Apple's (positive: ahead) explains a 401."""
    return skew_seconds >= SKEW_AHEAD_REFUSED or skew_seconds <= -SKEW_BEHIND_REFUSED


def clock_skew_note(date: datetime | None, now: float, context: dict[str, Any]) -> str | None:
    """For a 401 answered at Apple's ``date``: the message's addition when the clock explains it.

    Records ``clock_skew_seconds`` in ``context`` (positive: this computer is ahead).
    """
    if date is None:
        return None
    skew = now - date.timestamp()
    if not skew_explains_refusal(skew):
        return None
    context["clock_skew_seconds"] = round(skew, 1)
    return f"; this computer's clock is {abs(skew):.0f} s " + (
        "ahead of Apple's" if skew > 0 else "behind Apple's"
    )


def failed_answer(
    info: ResponseInfo,
    content: bytes,
    *,
    retry_after: float | None,
    rate_limit: RateLimitSnapshot | None,
    sends: int,
    after_retry: bool,
    wall_clock: Callable[[], float],
) -> FailedAttempt:
    """The failed attempt an error answer (``info``, body ``content``) stands for."""
    method, status = info.method, info.status
    errors = decode_errors(content)
    rule = classify(status, errors)
    context: dict[str, Any] = {"attempts": sends}
    if not errors:
        context["excerpt"] = excerpt(content)
    message = error_message(status, errors)
    if after_retry:
        context["after_retry"] = True
        if rule.error is ResourceNotFoundError and method == "DELETE":
            message = (
                "Not found when the DELETE was repeated: the earlier attempt, "
                f"whose answer was lost, probably succeeded ({message})"
            )
    note = clock_skew_note(info.date, wall_clock(), context) if status == 401 else None
    error = rule.error(
        message + (note or ""),
        method=method,
        path=info.path,
        status=status,
        errors=errors,
        request_id=info.request_id,
        rate_limit=rate_limit,
        retry_after=retry_after,
        cause="clock_skew" if note else None,
        context=context,
    )
    outcome: AttemptOutcome | None = None
    if status == 429:
        outcome = AttemptOutcome.NOT_PROCESSED
    elif rule.action == "retry":
        outcome = AttemptOutcome.MAYBE_PROCESSED
    return FailedAttempt(error, outcome, remint=rule.action == "remint")
