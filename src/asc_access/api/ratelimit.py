"""Rate limits: Apple's ``X-Rate-Limit`` and ``Retry-After`` headers, and the pacing budget.

Apple counts requests per API key over a rolling hour and reports the budget on
every response as ``X-Rate-Limit: user-hour-lim:3600;user-hour-rem:3599;``.
The parser reads it by key, ignores pairs it does not know (kept in
``extra``) and never raises. ``Retry-After`` is undocumented for this API; it
is read as seconds, as an HTTP date, or (App Store Server API style) as a Unix
time in milliseconds.

:class:`RateBudget` is the hook the client calls around every request, keyed
by the API key id; :class:`PacingBudget` is the in-memory default (the workers
supply a Redis-backed one for many processes).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, runtime_checkable

from asc_access.errors import RateLimitedError, RateLimitSnapshot

__all__ = [
    "PacingBudget",
    "RateBudget",
    "parse_rate_limit",
    "parse_retry_after",
]

_LIMIT_KEY = "user-hour-lim"
_REMAINING_KEY = "user-hour-rem"
_MAX_EXTRA_PAIRS = 16
_MAX_EXTRA_TEXT = 100
_NUMBER = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,9})?")
_EPOCH_SECONDS = 1e9  # a "delay" this large is a point in time (2001 onwards)
_EPOCH_MILLISECONDS = 1e12


def _count(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def parse_rate_limit(value: str | None) -> RateLimitSnapshot | None:
    """Parse ``X-Rate-Limit``; ``None`` when absent or holding no ``key:value`` pair.

    Keys are matched case-insensitively; the first occurrence of a key wins;
    unknown pairs go to ``extra`` (bounded); values that are not counts leave
    ``limit`` / ``remaining`` as ``None``.
    """
    if not value:
        return None
    limit: int | None = None
    remaining: int | None = None
    seen: set[str] = set()
    extra: list[tuple[str, str]] = []
    found = False
    for part in value.split(";"):
        key, sep, raw = part.partition(":")
        key = key.strip().lower()
        raw = raw.strip()
        if not sep or not key:
            continue
        found = True
        if key in seen:
            continue
        seen.add(key)
        if key == _LIMIT_KEY:
            limit = _count(raw)
        elif key == _REMAINING_KEY:
            remaining = _count(raw)
        elif len(extra) < _MAX_EXTRA_PAIRS:
            extra.append((key[:_MAX_EXTRA_TEXT], raw[:_MAX_EXTRA_TEXT]))
    if not found:
        return None
    return RateLimitSnapshot(limit=limit, remaining=remaining, extra=tuple(extra))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to ``Retry-After``; ``None`` when absent or unreadable.

    Accepts delta-seconds (decimals tolerated), an HTTP date, or a Unix time in
    seconds or milliseconds (a number too large to be a delay). Times in the
    past give ``0.0``. ``now`` is the reference instant for dates (use the
    response's ``Date`` header when there is one: it is in Apple's clock).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):
        number = float(text)
        if not math.isfinite(number):
            return None
        if number < _EPOCH_SECONDS:
            return number
        seconds = number / 1000 if number >= _EPOCH_MILLISECONDS else number
        reference = (now or datetime.now(UTC)).timestamp()
        return max(0.0, seconds - reference)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference_dt = now or datetime.now(UTC)
    try:
        delta = (when - reference_dt).total_seconds()
    except OverflowError:  # pragma: no cover - datetimes at the edges of the range
        return None
    return max(0.0, delta)


@runtime_checkable
class RateBudget(Protocol):
    """The client's pacing hook, keyed by API key id.

    ``before_request`` runs before every HTTP request (retries included): it
    may sleep, or raise :class:`~asc_access.errors.RateLimitedError` to stop.
    ``observe`` receives the snapshot parsed from every response that had one.
    """

    async def before_request(self, key_id: str) -> None:
        """Wait or refuse before a request is sent with this key."""
        ...

    def observe(self, key_id: str, snapshot: RateLimitSnapshot) -> None:
        """Record the budget Apple reported for this key."""
        ...


@dataclass(slots=True)
class _KeyState:
    snapshot: RateLimitSnapshot
    observed_at: float
    sent_since: int = 0


class PacingBudget:
    """In-memory pacer: slows down as ``user-hour-rem`` runs low, stops before the reserve.

    With ``L`` the hourly limit, the pacer starts waiting once fewer than
    ``max(reserve + 1, slow_fraction * L)`` requests are left (estimated as the
    last reported ``remaining`` minus the requests sent since), waiting longer
    the closer it gets to ``reserve`` (up to ``max_delay`` seconds). With
    ``reserve`` or fewer left it raises ``RateLimitedError`` (cause
    ``rate_limited``) instead of using them, letting one request through every
    ``probe_after`` seconds to learn whether the rolling hour has freed some.
    """

    def __init__(
        self,
        *,
        reserve: int = 50,
        slow_fraction: float = 0.1,
        max_delay: float = 2.0,
        probe_after: float = 60.0,
        window: float = 3600.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if reserve < 0 or not 0.0 <= slow_fraction <= 1.0 or max_delay < 0 or probe_after < 0:
            raise ValueError("reserve, max_delay, probe_after >= 0 and 0 <= slow_fraction <= 1")
        self.reserve = reserve
        self.slow_fraction = slow_fraction
        self.max_delay = max_delay
        self.probe_after = probe_after
        self._sleep = sleep
        self._clock = clock
        self._states: dict[str, _KeyState] = {}
        self.window = window
        self._sent: dict[str, deque[float]] = {}
        self._holds: dict[str, dict[str, int]] = {}

    def snapshot(self, key_id: str) -> RateLimitSnapshot | None:
        """The latest snapshot observed for ``key_id``."""
        state = self._states.get(key_id)
        return state.snapshot if state else None

    def estimated_remaining(self, key_id: str) -> int | None:
        """Apple's last ``remaining`` for the key minus the requests sent since."""
        state = self._states.get(key_id)
        if state is None or state.snapshot.remaining is None:
            return None
        return state.snapshot.remaining - state.sent_since

    def _slow_below(self, limit: int | None) -> int:
        scaled = int(self.slow_fraction * limit) if limit else 0
        return max(self.reserve + 1, scaled)

    def _refilled(self, key_id: str) -> int | None:
        """The estimate plus our requests that left Apple's window since it was observed."""
        state, left = self._states.get(key_id), self.estimated_remaining(key_id)
        if state is None or left is None:
            return None
        now, sent = self._clock(), self._sent.get(key_id, ())
        aged = sum(1 for t in sent if state.observed_at - self.window < t <= now - self.window)
        return left + aged

    def admit(self, key_id: str, cost: int, ticket: str) -> float | None:
        """Hold ``cost`` requests for a sync (``None``), or the seconds until they refill."""
        holds = self._holds.setdefault(key_id, {})
        left = self._refilled(key_id)
        if ticket in holds or left is None:
            holds.setdefault(ticket, cost)
            return None
        short = cost - (left - self.reserve - sum(holds.values()))
        if short <= 0:
            holds[ticket] = cost
            return None
        now = self._clock()
        recent = [t for t in self._sent.get(key_id, ()) if t > now - self.window]
        if len(recent) >= short:
            return max(0.0, recent[short - 1] + self.window - now)
        return self.window

    def release(self, key_id: str, ticket: str) -> None:
        """Drop what is left of a sync's hold."""
        self._holds.get(key_id, {}).pop(ticket, None)

    def _spend(self, key_id: str) -> None:
        sent = self._sent.setdefault(key_id, deque())
        now = self._clock()
        sent.append(now)
        while sent and sent[0] <= now - 2 * self.window:
            sent.popleft()
        holds = self._holds.get(key_id, {})
        ticket = next((t for t, n in holds.items() if n > 0), None)
        if ticket is not None:
            holds[ticket] -= 1

    async def before_request(self, key_id: str) -> None:
        """Sleep in proportion to how low the budget is; refuse inside the reserve."""
        await self._pace(key_id)
        self._spend(key_id)

    async def _pace(self, key_id: str) -> None:
        state = self._states.get(key_id)
        left = self._refilled(key_id)
        if state is None or left is None:
            return
        if left <= self.reserve:
            waited = self._clock() - state.observed_at
            if waited >= self.probe_after:
                state.observed_at = self._clock()  # one probe per interval
                state.sent_since += 1
                return
            raise RateLimitedError(
                f"Stopped before using the last {self.reserve} requests of this key's hourly "
                f"budget ({max(left, 0)} left of {state.snapshot.limit or 'unknown'})",
                rate_limit=state.snapshot,
                retry_after=max(0.0, self.probe_after - waited),
                context={"source": "budget", "reserve": self.reserve},
            )
        state.sent_since += 1
        slow_below = self._slow_below(state.snapshot.limit)
        if left < slow_below and self.max_delay > 0:
            depth = (slow_below - left) / max(1, slow_below - self.reserve)
            await self._sleep(self.max_delay * min(1.0, depth))

    def observe(self, key_id: str, snapshot: RateLimitSnapshot) -> None:
        """Remember Apple's latest figures for the key (snapshots without counts are ignored)."""
        if snapshot.remaining is None:
            return
        self._states[key_id] = _KeyState(snapshot=snapshot, observed_at=self._clock())
