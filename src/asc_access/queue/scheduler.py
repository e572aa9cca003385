"""``asc-access scheduler``: enqueue each connection's sync when its interval comes round.

A small loop, not celery beat: the schedule lives in the database
(``connections.sync_interval_seconds``), so it follows connections as they are
added, changed and removed without a restart.

Which connections are due is the store's one rule (:mod:`asc_access.store.schedule`,
shared with the service's in-process scheduler); one whose sync holds the lock is
left for the next tick. Its trigger's request key is deterministic,
``schedule:<connection id>:<due time>`` with the due time being the last run's
start plus the interval (0 for a first sync), so two schedulers (or two ticks)
that see the same state send the same key, and the task's idempotency collapses
them into one run. A short-lived Redis marker per key keeps a busy queue
from receiving the same trigger again every tick. The task itself checks once more
that the connection has not run within half an interval (``schedule_interval``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from redis import Redis

from asc_access.queue.app import SYNC_TASK
from asc_access.queue.config import WorkerConfig
from asc_access.store.handle import Database
from asc_access.store.schedule import DueSync, due_syncs

__all__ = ["DueSync", "Scheduler", "due_syncs"]

log = logging.getLogger("asc_access.workers.scheduler")  # the name log readers know


class Scheduler:
    """Enqueues due syncs every ``tick`` seconds."""

    def __init__(
        self,
        app: Celery,
        engine: Database,
        redis: Redis[Any],
        config: WorkerConfig,
        *,
        tick: float = 15.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._app = app
        self._engine = engine
        self._redis = redis
        self._config = config
        self.tick = tick
        self._clock = clock
        self._stop = threading.Event()

    def _locked(self, connection_id: int) -> bool:
        return bool(self._redis.exists(self._config.key("lock", "connection", connection_id)))

    def tick_once(self) -> list[DueSync]:
        """Enqueue every due sync not already queued or running; return those sent."""
        sent: list[DueSync] = []
        for item in due_syncs(self._engine, self._clock()):
            if self._locked(item.connection_id):
                continue  # a sync of it runs now; its start will move the due time
            marker = self._config.key("scheduled", item.request_key)
            ttl = max(60, min(item.interval, int(self._config.visibility_timeout)))
            if not self._redis.set(marker, "1", nx=True, ex=ttl):
                continue  # already sent by this or another scheduler
            self._app.send_task(
                SYNC_TASK,
                args=[item.connection_id, item.request_key],
                kwargs={"schedule_interval": item.interval},
                task_id=item.request_key,
            )
            log.info(
                "scheduled sync queued",
                extra={
                    "connection": item.connection,
                    "connection_id": item.connection_id,
                    "request_key": item.request_key,
                },
            )
            sent.append(item)
        return sent

    def run_forever(self) -> None:
        """Tick until :meth:`stop` (a failing tick is logged, never fatal)."""
        log.info("scheduler started", extra={"tick_seconds": self.tick})
        while not self._stop.is_set():
            try:
                self.tick_once()
            except Exception:
                log.exception("scheduler tick failed")
            self._stop.wait(self.tick)
        log.info("scheduler stopped")

    def stop(self) -> None:
        """Ask :meth:`run_forever` to return after the current tick."""
        self._stop.set()
