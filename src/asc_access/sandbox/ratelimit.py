"""Apple's hourly request quota: per key, over a rolling 60 minutes."""

from __future__ import annotations

from collections import deque

__all__ = ["DEFAULT_HOURLY_LIMIT", "RateLimiter"]

DEFAULT_HOURLY_LIMIT = 3600
_WINDOW_SECONDS = 3600.0


class RateLimiter:
    """Counts accepted requests per key; refused ones do not count."""

    def __init__(self, limit: int = DEFAULT_HOURLY_LIMIT, window: float = _WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window  #: seconds; Apple's is an hour (shorter for tests of refills)
        self._seen: dict[str, deque[float]] = {}

    def _window(self, key_id: str, now: float) -> deque[float]:
        seen = self._seen.setdefault(key_id, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        while seen and seen[-1] > now:  # the clock moved back: forget the "future"
            seen.pop()
        return seen

    def take(self, key_id: str, now: float) -> tuple[bool, int]:
        """Count one request if the quota allows; returns (allowed, remaining)."""
        seen = self._window(key_id, now)
        if len(seen) >= self.limit:
            return False, 0
        seen.append(now)
        return True, self.limit - len(seen)

    def header(self, remaining: int) -> str:
        """The ``X-Rate-Limit`` header value."""
        return f"user-hour-lim:{self.limit};user-hour-rem:{remaining};"

    def reset(self) -> None:
        """Forget every key's history."""
        self._seen.clear()
