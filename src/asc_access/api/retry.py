"""The retry policy, and which requests may be repeated after which failures.

Every failed attempt ends in one of three outcomes:

``NOT_SENT``
    The request never reached Apple: DNS, TCP connect, TLS handshake, proxy
    refusal, connect or pool timeout.
``NOT_PROCESSED``
    Apple answered that it refused the request before acting on it: 429
    ``RATE_LIMIT_EXCEEDED`` (and 401, which is handled separately: the token is
    re-minted once and the request sent once more).
``MAYBE_PROCESSED``
    Apple may have acted: 5xx, a read/write timeout, a dropped connection, a
    connection reset while reading the answer.

Any request may be repeated after ``NOT_SENT`` and ``NOT_PROCESSED``. After
``MAYBE_PROCESSED`` only *replayable* requests are repeated, i.e. those whose
second execution leaves Apple in the same state as the first:

- ``GET`` / ``HEAD``.
- ``PATCH /v1/users/{id}``: it sets absolute values (roles, flags, the full
  visible-apps list), so applying it twice is applying it once.
- ``POST`` / ``PATCH`` / ``DELETE /v1/users/{id}/relationships/visibleApps``:
  JSON:API makes adding a member already present, removing one already absent
  and replacing the whole list no-ops on repetition.
- ``DELETE /v1/users/{id}`` and ``DELETE /v1/userInvitations/{id}``: if the
  first attempt did delete, the repetition answers 404; the client then raises
  :class:`~asc_access.errors.ResourceNotFoundError` with
  ``context["after_retry"] = True`` and says the earlier attempt probably
  succeeded, so callers can report it distinctly (``already``).

``POST /v1/userInvitations`` is **never** repeated after ``MAYBE_PROCESSED``:
a lost answer may hide a created invitation (and a sent e-mail); repeating it
could invite twice or fail with a 409 about our own invitation. The caller gets
the error and decides (read back the invitations, then create if absent).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass

from asc_access.errors import ApiError

__all__ = ["AttemptOutcome", "FailedAttempt", "RetryPolicy", "equal_jitter", "may_repeat"]


class AttemptOutcome(enum.Enum):
    """What a failed attempt proves about whether Apple acted on it."""

    NOT_SENT = "not_sent"
    NOT_PROCESSED = "not_processed"
    MAYBE_PROCESSED = "maybe_processed"


@dataclass(frozen=True, slots=True)
class FailedAttempt:
    """One failed send: the error to raise, what it proves, whether to re-mint the token."""

    error: ApiError
    outcome: AttemptOutcome | None
    remint: bool = False
    cause: BaseException | None = None


def may_repeat(outcome: AttemptOutcome, *, replayable: bool) -> bool:
    """Whether a request with this replay safety may be sent again after ``outcome``."""
    return replayable or outcome is not AttemptOutcome.MAYBE_PROCESSED


def equal_jitter(delay: float) -> float:
    """A random delay between half of ``delay`` and ``delay`` (the default jitter)."""
    return random.uniform(delay / 2, delay)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds for the one retry loop.

    ``max_attempts`` counts every send of the request (the re-mint after a 401
    is extra and happens once). Waits follow ``Retry-After`` when Apple sends
    it, otherwise ``min(max_delay, base_delay * 2**(n-1))`` passed through
    ``jitter``. No wait may end later than ``total_budget`` seconds after the
    first send: the loop gives up instead and raises the last error (which
    carries ``retry_after`` for a caller that can re-queue).
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    total_budget: float = 120.0
    jitter: Callable[[float], float] = equal_jitter

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.total_budget < 0:
            raise ValueError("delays and the time budget must not be negative")

    @classmethod
    def never(cls) -> RetryPolicy:
        """A policy that sends every request once (the 401 re-mint still applies)."""
        return cls(max_attempts=1)

    def next_delay(
        self,
        outcome: AttemptOutcome | None,
        *,
        replayable: bool,
        attempt: int,
        retry_after: float | None,
        elapsed: Callable[[], float],
    ) -> float | None:
        """The wait before repeating failed attempt ``attempt``, or ``None`` to give up.

        ``None`` when the failure may not be repeated for this request (see
        :func:`may_repeat`), the attempts are used up, or the wait would end
        after ``total_budget`` (``elapsed()`` is the time since the first send).
        """
        if outcome is None or not may_repeat(outcome, replayable=replayable):
            return None
        if attempt >= self.max_attempts:
            return None
        delay = retry_after if retry_after is not None else self.backoff(attempt)
        if elapsed() + delay > self.total_budget:
            return None
        return delay

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based) without ``Retry-After``."""
        raw = min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, 32))
        return max(0.0, min(self.max_delay, self.jitter(raw)))
