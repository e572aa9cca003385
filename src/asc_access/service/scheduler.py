"""In-process scheduling for the embedded default: each connection syncs on its own interval.

One asyncio task in the app's lifespan wakes every ``tick`` seconds, asks which
connections are due (their ``sync_interval_seconds`` has passed since their
last run started, or they never ran) and starts those through the
:class:`~asc_access.service.syncing.SyncManager`, which never runs two syncs of
one connection at once. Failures are recorded by the sync in ``sync_runs``
and shown on the console. ``create_app(..., scheduler=False)`` turns it off
(tests drive syncs themselves; with Celery, ``asc-access scheduler`` does this job).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from asc_access.service.syncing import SyncManager

__all__ = ["DueConnections", "Scheduler"]

log = logging.getLogger("asc_access.service.scheduler")

#: Given the time now, the names of the connections whose next sync is due.
DueConnections = Callable[[datetime], list[str]]


class Scheduler:
    """Starts due syncs every ``tick`` seconds until stopped."""

    def __init__(
        self,
        syncs: SyncManager,
        due: DueConnections,
        *,
        clock: Callable[[], datetime],
        tick: float = 15.0,
    ) -> None:
        self._syncs = syncs
        self._due = due
        self._clock = clock
        self.tick = tick
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0

    async def tick_once(self) -> list[str]:
        """Start every due sync now; return the names started."""
        names = await asyncio.to_thread(self._due, self._clock())
        started = [n for n in names if self._syncs.start(n, f"schedule:{uuid.uuid4().hex}")]
        self.ticks += 1
        if started:
            log.info("scheduled syncs started: %s", ", ".join(started))
        return started

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A failing tick (database briefly locked, say) must not end scheduling.
                log.exception("scheduler tick failed")
            await asyncio.sleep(self.tick)

    def start(self) -> None:
        """Begin ticking on the running event loop."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="scheduler")

    @property
    def running(self) -> bool:
        """Whether the scheduler is ticking."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Stop ticking (running syncs are the manager's to stop)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
