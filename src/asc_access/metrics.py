"""Prometheus metrics for the service and the workers (names start with ``asc_access_``).

Defined here, at the bottom of the layers, so any part can count what it does
(this module imports nothing from the product). ``GET /metrics`` on the service
exposes them in the Prometheus text format. Workers are separate processes: with
``PROMETHEUS_MULTIPROC_DIR`` set (the same directory for the service and the
workers on one host, emptied before they start) each process writes its samples
there and ``/metrics`` sums them; see ``docs/deploy.md``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = [
    "APPLE_REQUESTS",
    "CONTENT_TYPE",
    "NOTIFICATION_DELIVERIES",
    "QUEUE_DEPTH",
    "RATE_BUDGET_REMAINING",
    "SCIM_OPERATIONS",
    "SYNCS",
    "SYNC_DURATION",
    "MeteredBudget",
    "exposition",
    "metered_sync",
    "record_notification",
    "record_scim_operation",
    "record_sync",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST

SYNCS = Counter(
    "asc_access_syncs",
    "Syncs finished, by outcome (succeeded | failed) and catalogue code (APP-1xx, or none).",
    ["outcome", "code"],
)
SYNC_DURATION = Histogram(
    "asc_access_sync_duration_seconds",
    "Wall time of a sync, by outcome.",
    ["outcome"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
APPLE_REQUESTS = Counter(
    "asc_access_apple_requests",
    "HTTP requests sent to App Store Connect (retries included), by API key id.",
    ["key_id"],
)
RATE_BUDGET_REMAINING = Gauge(
    "asc_access_rate_budget_remaining",
    "Requests left in the key's rolling hour, as Apple last reported (X-Rate-Limit).",
    ["key_id"],
    multiprocess_mode="mostrecent",
)
QUEUE_DEPTH = Gauge(
    "asc_access_queue_depth",
    "Syncs waiting: tasks in the Celery queue (or syncs running in the service, in-process).",
    ["queue"],
    multiprocess_mode="mostrecent",
)
NOTIFICATION_DELIVERIES = Counter(
    "asc_access_notification_deliveries",
    "Notifications sent, by channel (slack, mail, ...) and outcome (delivered | failed).",
    ["channel", "outcome"],
)
SCIM_OPERATIONS = Counter(
    "asc_access_scim_operations",
    "SCIM requests handled, by operation (create, replace, patch, delete, get, list) and outcome.",
    ["operation", "outcome"],
)

T = TypeVar("T")


def record_sync(outcome: str, code: str | None, seconds: float) -> None:
    """Count one finished sync and its duration."""
    SYNCS.labels(outcome=outcome, code=code or "none").inc()
    SYNC_DURATION.labels(outcome=outcome).observe(max(0.0, seconds))


async def metered_sync(sync: Awaitable[T]) -> T:
    """Await ``sync`` (a ``sync_connection(...)`` call) and count how it ended."""
    started = time.perf_counter()
    try:
        result = await sync
    except Exception as error:
        record_sync("failed", getattr(error, "code", None), time.perf_counter() - started)
        raise
    record_sync("succeeded", None, time.perf_counter() - started)
    return result


def record_notification(channel: str, outcome: str) -> None:
    """Count one notification delivery attempt (``outcome``: delivered | failed)."""
    NOTIFICATION_DELIVERIES.labels(channel=channel, outcome=outcome).inc()


def record_scim_operation(operation: str, outcome: str) -> None:
    """Count one SCIM operation (``outcome``: ok | error)."""
    SCIM_OPERATIONS.labels(operation=operation, outcome=outcome).inc()


class _Budget(Protocol):
    async def before_request(self, key_id: str) -> None: ...

    def observe(self, key_id: str, snapshot: Any) -> None: ...


class MeteredBudget:
    """A rate budget that counts every request let through and the budget Apple reports.

    Wraps any budget with the client's ``before_request`` / ``observe`` hooks.
    """

    def __init__(self, inner: _Budget) -> None:
        self.inner = inner

    async def before_request(self, key_id: str) -> None:
        """Let the inner budget decide, then count the request it lets through."""
        await self.inner.before_request(key_id)
        APPLE_REQUESTS.labels(key_id=key_id).inc()

    def observe(self, key_id: str, snapshot: Any) -> None:
        """Record Apple's remaining budget for the key, then pass it on."""
        remaining = getattr(snapshot, "remaining", None)
        if isinstance(remaining, int | float):
            RATE_BUDGET_REMAINING.labels(key_id=key_id).set(remaining)
        self.inner.observe(key_id, snapshot)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def exposition() -> bytes:
    """Every metric in the Prometheus text format (summed over processes in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
