"""Throttling of failed authentication: console sign-ins and API bearer tokens.

Every failed attempt (a wrong, unknown or revoked token; a missing token is
not a guess and does not count) is a hit in two moving windows kept by the
``limits`` library: one per client address and one for the whole service.
While either window is full, every attempt from that client (or any client)
is answered 429 with ``Retry-After`` before the token is even looked at, so a
guesser learns nothing more until the window moves on. Each refusal and each
failure is logged with the client address and the cause, never the token.

The limits come from ``ASC_ACCESS_AUTH_THROTTLE`` (``"<per client>;<overall>"``
in ``limits`` notation, default ``"20/minute;200/minute"``). With a broker
configured the windows live in Redis (under ``ASC_ACCESS_KEY_PREFIX``), so every
service process counts the same attempts; should Redis fail, each process
falls back to its own windows rather than letting attempts through unthrottled.
"""

from __future__ import annotations

import logging
import math
import os
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from asc_access.errors import UsageError
from asc_access.service.errors import ServiceError

__all__ = ["DEFAULT_LIMITS", "AuthThrottle"]

DEFAULT_LIMITS = "20/minute;200/minute"
_ENV = "ASC_ACCESS_AUTH_THROTTLE"
_RETRY_SHARED = 30.0  # seconds before an unreachable Redis is tried again

log = logging.getLogger("asc_access.service.auth")


def _parse(spec: str) -> tuple[RateLimitItem, RateLimitItem]:
    parts = [p.strip() for p in spec.split(";")]
    problem = UsageError(
        f"{_ENV} must be '<per client>;<overall>' such as {DEFAULT_LIMITS!r}, got {spec!r}"
    )
    if len(parts) != 2:
        raise problem
    try:
        return parse(parts[0]), parse(parts[1])
    except ValueError:
        raise problem from None


class AuthThrottle:
    """Two moving windows of failed attempts: per client, and for everyone together."""

    def __init__(self, spec: str = DEFAULT_LIMITS, *, redis_url: str | None = None) -> None:
        self.per_client, self.overall = _parse(spec)
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        self._shared_down_until = 0.0
        if redis_url:
            prefix = os.environ.get("ASC_ACCESS_KEY_PREFIX", "asc-access:") + "auth-throttle"
            self._shared = MovingWindowRateLimiter(RedisStorage(redis_url, key_prefix=prefix))

    @classmethod
    def from_env(cls, broker_url: str | None = None) -> AuthThrottle:
        """The throttle configured by ``ASC_ACCESS_AUTH_THROTTLE``; shared through a broker."""
        return cls(os.environ.get(_ENV) or DEFAULT_LIMITS, redis_url=broker_url)

    def _test(self, item: RateLimitItem, key: str) -> tuple[bool, float]:
        """Whether ``key`` has room in ``item``, and when its window resets."""
        for limiter in self._limiters():
            try:
                room = limiter.test(item, key)
                return room, 0.0 if room else limiter.get_window_stats(item, key).reset_time
            except Exception:  # noqa: BLE001 - Redis down: this process's own windows
                log.warning("the shared throttle is unreachable; using this process's own")
                self._shared_down_until = time.monotonic() + _RETRY_SHARED
        return True, 0.0

    def _limiters(self) -> list[MovingWindowRateLimiter]:
        if self._shared is None or time.monotonic() < self._shared_down_until:
            return [self._local]
        return [self._shared, self._local]

    def _hit(self, item: RateLimitItem, key: str) -> None:
        for limiter in self._limiters():
            try:
                limiter.hit(item, key)
            except Exception:  # noqa: BLE001 - counted locally instead
                self._shared_down_until = time.monotonic() + _RETRY_SHARED

    def check(self, client: str, where: str) -> None:
        """Raise 429 while ``client`` (or everyone) has used up the failed attempts."""
        for item, key in ((self.per_client, f"client:{client}"), (self.overall, "all")):
            room, reset = self._test(item, key)
            if room:
                continue
            retry = max(1, math.ceil(reset - time.time()))
            scope = "from this address" if key != "all" else "on this service"
            log.warning(
                "authentication throttled (%s): %s, %s, retry in %d s",
                where,
                client,
                "per client" if key != "all" else "overall",
                retry,
            )
            raise ServiceError(
                429,
                f"Too many failed sign-in attempts {scope}; try again in {retry} s.",
                cause="auth_throttled",
                title="Too many failed attempts",
                resolution=[
                    f"Wait {retry} seconds, then send a valid token.",
                    (
                        "Check that the token is complete and has not been revoked "
                        "(`asc-access tokens list`)."
                    ),
                ],
                headers={"Retry-After": str(retry)},
            )

    def failed(self, client: str, where: str, cause: str) -> None:
        """Count one failed attempt of ``client`` (logged without the token)."""
        self._hit(self.per_client, f"client:{client}")
        self._hit(self.overall, "all")
        log.info("authentication failed (%s): %s, %s", where, client, cause)
