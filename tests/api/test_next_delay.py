"""RetryPolicy.next_delay: the one decision whether, and how long before, a failed send repeats."""

from __future__ import annotations

from asc_access.api.retry import AttemptOutcome, RetryPolicy

POLICY = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=8.0, total_budget=10.0, jitter=float)


def _delay(outcome: AttemptOutcome | None, **kw: object) -> float | None:
    args: dict[str, object] = {
        "replayable": True,
        "attempt": 1,
        "retry_after": None,
        "elapsed": lambda: 0.0,
    }
    args.update(kw)
    return POLICY.next_delay(outcome, **args)  # type: ignore[arg-type]


def test_backoff_or_retry_after() -> None:
    assert _delay(AttemptOutcome.NOT_SENT) == 1.0
    assert _delay(AttemptOutcome.NOT_SENT, attempt=2) == 2.0
    assert _delay(AttemptOutcome.NOT_PROCESSED, retry_after=4.0) == 4.0


def test_gives_up() -> None:
    assert _delay(None) is None  # not retriable at all
    assert _delay(AttemptOutcome.MAYBE_PROCESSED, replayable=False) is None
    assert _delay(AttemptOutcome.MAYBE_PROCESSED) == 1.0
    assert _delay(AttemptOutcome.NOT_SENT, attempt=3) is None  # attempts used up
    assert _delay(AttemptOutcome.NOT_SENT, elapsed=lambda: 9.5) is None  # past the budget
