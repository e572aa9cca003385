"""Worker settings from the environment (everything the Celery side needs).

Each field of :class:`WorkerConfig` is the variable ``ASC_ACCESS_<FIELD>``;
``docs/settings.md`` lists them with their defaults (generated from this model).
Numbers are checked here, naming the variable, before anything connects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from asc_access.config import env_name
from asc_access.config.settings import KEEP_EMPTY, EnvSettings
from asc_access.errors import UsageError

__all__ = ["WorkerConfig", "redact_url"]


def _number(raw: object, name: str, minimum: float, kind: type[int] | type[float]) -> float:
    if not isinstance(raw, str):
        value = raw
    else:
        try:
            value = kind(raw)
        except ValueError:
            what = "a whole number" if kind is int else "a number of seconds"
            raise UsageError(f"{name} must be {what}, got {raw!r}") from None
    if not isinstance(value, int | float):
        raise UsageError(f"{name} must be a number, got {value!r}")
    if value < minimum:
        raise UsageError(f"{name} must be at least {minimum}, got {value}")
    return value


#: The smallest value each numeric setting accepts.
_MINIMUM = {
    "visibility_timeout": 1.0,
    "lock_ttl": 1.0,
    "key_max_in_flight": 1,
    "key_reserve": 0,
    "key_window": 1.0,
    "sync_time_limit": 1.0,
}


class WorkerConfig(EnvSettings):
    """Resolved worker settings. URLs may hold a Redis password: kept out of ``repr``."""

    broker_url: str = Field(
        "",
        validate_default=True,
        description="Redis URL of the Celery broker (required here)",
    )
    result_backend: str = Field("", description="Redis URL for task results (default: the broker)")
    key_prefix: Annotated[str, KEEP_EMPTY] = Field(
        "asc-access:",
        description="prefix of every Redis key we and Celery write, so several deployments "
        "(or test runs) can share one Redis",
    )
    queue: str = Field("asc-access.sync", description="queue name")
    visibility_timeout: float = Field(
        3600.0, description="seconds before an unacknowledged task is delivered again"
    )
    lock_ttl: float = Field(
        60.0,
        description="seconds a per-connection lock lives without renewal (renewed every "
        "third of it)",
    )
    key_max_in_flight: int = Field(
        4, description="requests in flight at once per API key, all workers together"
    )
    key_reserve: int = Field(
        50, description="requests of each key's hourly budget never spent by syncs"
    )
    key_window: float = Field(
        3600.0, description="seconds of Apple's rolling rate window (shorter only in tests)"
    )
    sync_time_limit: float = Field(3000.0, description="time limit of one sync task in seconds")

    def __repr__(self) -> str:
        return (
            f"WorkerConfig(broker={redact_url(self.broker_url)!r}, queue={self.queue!r}, "
            f"key_prefix={self.key_prefix!r})"
        )

    @field_validator("broker_url")
    @classmethod
    def _redis_broker(cls, broker: str) -> str:
        if not broker:
            raise UsageError(
                "no broker configured: set ASC_ACCESS_BROKER_URL to a Redis URL "
                "(e.g. redis://127.0.0.1:6379/0) to run workers"
            )
        if not broker.startswith(("redis://", "rediss://", "unix://")):
            raise UsageError(
                f"ASC_ACCESS_BROKER_URL must be a Redis URL (redis://...), got {redact_url(broker)}"
            )
        return broker

    @field_validator(*_MINIMUM, mode="before")
    @classmethod
    def _bounded(cls, raw: object, info: ValidationInfo) -> object:
        name = info.field_name or ""
        kind = int if isinstance(_MINIMUM[name], int) else float
        return _number(raw, env_name(name), _MINIMUM[name], kind)

    @model_validator(mode="after")
    def _default_backend(self) -> WorkerConfig:
        if not self.result_backend:
            object.__setattr__(self, "result_backend", self.broker_url)
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkerConfig:
        """Build the worker settings from ``environ`` (default ``os.environ``)."""
        return cls.model_validate(cls.values_from(environ))

    def key(self, *parts: object) -> str:
        """A Redis key under this deployment's prefix."""
        return self.key_prefix + ":".join(str(p) for p in parts)


def redact_url(url: str) -> str:
    """``redis://:secret@host`` → ``redis://***@host``."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
