"""Running syncs inside the service: one asyncio task per connection at a time.

The API, the console and the scheduler all start syncs through
:class:`SyncManager`. The sync itself (``asc_access.sync.sync_connection``)
records its run, its progress and its failure in ``sync_runs``; the manager
only makes sure a connection never syncs twice at once, and remembers failures
that happen before a run could even be recorded (a key that cannot be
decrypted, a connection removed meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from asc_access.errors import AscAccessError
from asc_access.sync.admission import SyncDeferred

__all__ = ["EarlyFailure", "SyncManager", "SyncRunner"]

log = logging.getLogger("asc_access.service.sync")

#: Runs one sync of the named connection, tagging its run row with ``request_key``.
SyncRunner = Callable[[str, str], Awaitable[object]]


@dataclass(frozen=True)
class EarlyFailure:
    """A sync that failed before its run could be recorded."""

    at: datetime
    code: str | None
    cause: str | None
    message: str


class SyncManager:
    """Starts syncs as background tasks; at most one per connection."""

    def __init__(self, runner: SyncRunner, *, clock: Callable[[], datetime]) -> None:
        self._runner = runner
        self._clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.early_failures: dict[str, EarlyFailure] = {}
        #: Syncs waiting for their key's budget to refill (they start again by themselves).
        self.deferred: dict[str, SyncDeferred] = {}

    def running(self, name: str) -> bool:
        """Whether a sync of ``name`` is in progress."""
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def running_names(self) -> list[str]:
        """Connections syncing right now."""
        return sorted(n for n in self._tasks if self.running(n))

    def start(self, name: str, request_key: str) -> bool:
        """Start a sync of ``name`` unless one is running; must be called on the event loop."""
        if self.running(name):
            return False
        self._tasks[name] = asyncio.get_running_loop().create_task(
            self._run(name, request_key), name=f"sync:{name}"
        )
        return True

    async def _run(self, name: str, request_key: str) -> None:
        try:
            await self._run_when_admitted(name, request_key)
            self.early_failures.pop(name, None)
        except asyncio.CancelledError:
            raise
        except AscAccessError as error:
            # The sync records its own failed run; this keeps what happened before it could.
            self.early_failures[name] = EarlyFailure(
                self._clock(), error.code, error.cause, error.message
            )
            log.info("sync of %s failed: %s %s", name, error.code, error.cause)
        except Exception:
            self.early_failures[name] = EarlyFailure(
                self._clock(), None, "internal_error", "the sync failed unexpectedly"
            )
            log.exception("sync of %s failed unexpectedly", name)

    async def _run_when_admitted(self, name: str, request_key: str) -> None:
        """Run the sync; while its key's budget cannot cover it, wait for the refill."""
        try:
            while True:
                try:
                    await self._runner(name, request_key)
                    return
                except SyncDeferred as deferral:
                    # Not a failure: nothing was spent; try again once the budget refilled.
                    self.deferred[name] = deferral
                    log.info("%s", deferral)
                    await asyncio.sleep(deferral.wait_seconds)
        finally:
            self.deferred.pop(name, None)

    async def wait(self, name: str) -> None:
        """Wait for the running sync of ``name`` (if any) to finish."""
        task = self._tasks.get(name)
        if task is not None:
            await asyncio.wait({task})

    async def aclose(self) -> None:
        """Cancel every running sync (the sync leaves the previous snapshot untouched)."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        self._tasks.clear()
