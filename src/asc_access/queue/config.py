"""Worker settings from the environment (everything the Celery side needs).

==================================  ===============================================
``ASC_ACCESS_BROKER_URL``           Redis URL of the Celery broker (required here)
``ASC_ACCESS_RESULT_BACKEND``       Redis URL for task results (default: the broker)
``ASC_ACCESS_KEY_PREFIX``           prefix of every Redis key we and Celery write
                                    (default ``asc-access:``), so several deployments
                                    (or test runs) can share one Redis
``ASC_ACCESS_QUEUE``                queue name (default ``asc-access.sync``)
``ASC_ACCESS_VISIBILITY_TIMEOUT``   seconds before an unacknowledged task is delivered
                                    again (default 3600)
``ASC_ACCESS_LOCK_TTL``             seconds a per-connection lock lives without renewal
                                    (default 60; renewed every third of it)
``ASC_ACCESS_KEY_MAX_IN_FLIGHT``    requests in flight at once per API key, all workers
                                    together (default 4)
``ASC_ACCESS_KEY_RESERVE``          requests of each key's hourly budget never spent by
                                    syncs (default 50)
``ASC_ACCESS_SYNC_TIME_LIMIT``      time limit of one sync task in seconds
                                    (default 3000)
==================================  ===============================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from asc_access.errors import UsageError

__all__ = ["WorkerConfig", "redact_url"]


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise UsageError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value < minimum:
        raise UsageError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class WorkerConfig:
    """Resolved worker settings. URLs may hold a Redis password: kept out of ``repr``."""

    broker_url: str
    result_backend: str
    key_prefix: str = "asc-access:"
    queue: str = "asc-access.sync"
    visibility_timeout: float = 3600.0
    lock_ttl: float = 60.0
    key_max_in_flight: int = 4
    key_reserve: int = 50
    key_window: float = 3600.0  #: Apple's rolling window (shorter only in tests of refills)
    sync_time_limit: float = 3000.0

    def __repr__(self) -> str:
        return (
            f"WorkerConfig(broker={redact_url(self.broker_url)!r}, queue={self.queue!r}, "
            f"key_prefix={self.key_prefix!r})"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkerConfig:
        """Build the worker settings from ``environ`` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        broker = env.get("ASC_ACCESS_BROKER_URL") or ""
        if not broker:
            raise UsageError(
                "no broker configured: set ASC_ACCESS_BROKER_URL to a Redis URL "
                "(e.g. redis://127.0.0.1:6379/0) to run workers"
            )
        if not broker.startswith(("redis://", "rediss://", "unix://")):
            raise UsageError(
                f"ASC_ACCESS_BROKER_URL must be a Redis URL (redis://...), got {redact_url(broker)}"
            )
        return cls(
            broker_url=broker,
            result_backend=env.get("ASC_ACCESS_RESULT_BACKEND") or broker,
            key_prefix=env.get("ASC_ACCESS_KEY_PREFIX", "asc-access:"),
            queue=env.get("ASC_ACCESS_QUEUE") or "asc-access.sync",
            visibility_timeout=_float(env, "ASC_ACCESS_VISIBILITY_TIMEOUT", 3600.0, 1.0),
            lock_ttl=_float(env, "ASC_ACCESS_LOCK_TTL", 60.0, 1.0),
            key_max_in_flight=_int(env, "ASC_ACCESS_KEY_MAX_IN_FLIGHT", 4, 1),
            key_reserve=_int(env, "ASC_ACCESS_KEY_RESERVE", 50, 0),
            key_window=_float(env, "ASC_ACCESS_KEY_WINDOW", 3600.0, 1.0),
            sync_time_limit=_float(env, "ASC_ACCESS_SYNC_TIME_LIMIT", 3000.0, 1.0),
        )

    def key(self, *parts: object) -> str:
        """A Redis key under this deployment's prefix."""
        return self.key_prefix + ":".join(str(p) for p in parts)


def redact_url(url: str) -> str:
    """``redis://:secret@host`` → ``redis://***@host``."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
