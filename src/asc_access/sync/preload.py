"""The stored picture, read while Apple's pages are in flight instead of after them.

A re-sync compares what it read with what the store holds. Reading the stored
picture back takes a tenth of a second or more for 10,000 members; done under the
lock at the end it adds to the sync's wall time. :func:`preload` reads it on the
event loop while the pages are in flight, a hundred rows at a time (each pause
lets the next page's request and response through), with the connection's
``mirror_state.generation`` read first. Under the lock, :func:`stored_picture`
uses that copy only when the generation has not moved since (every mirror write
moves it, in the same transaction); otherwise it reads the picture again, as
before. A preload that fails is dropped, never the sync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from asc_access.errors import StoreError
from asc_access.store.handle import Database, DatabaseConnection, reading
from asc_access.store.mirror import fill_snapshot, load_snapshot, mirror_generation
from asc_access.store.snapshot import Snapshot

__all__ = ["Preloaded", "cancel", "preload", "stored_picture"]

log = logging.getLogger("asc_access.sync")

#: Loop turns before the first rows are read: the team's first requests leave first.
_HEAD_START = 8


@dataclass(slots=True)
class Preloaded:
    """The stored picture as read at ``generation``; ``snapshot`` is ``None`` until done."""

    generation: int = -1
    snapshot: Snapshot | None = field(default=None)


async def preload(engine: Database, connection_id: int, into: Preloaded) -> None:
    """Read the connection's stored picture into ``into``, pausing every hundred rows."""
    for _ in range(_HEAD_START):
        await asyncio.sleep(0)
    snapshot = Snapshot()
    try:
        with reading(engine) as conn:
            generation = mirror_generation(conn, connection_id)
            for _ in fill_snapshot(conn, connection_id, snapshot):
                await asyncio.sleep(0)
    except StoreError as error:  # the commit reads it again under the lock
        log.debug("reading the stored picture early failed: %s", type(error).__name__)
        return
    into.generation, into.snapshot = generation, snapshot


async def cancel(task: asyncio.Future[None]) -> None:
    """Stop a preload that is no longer needed (the sync failed); nothing if it is done."""
    if task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def stored_picture(conn: DatabaseConnection, connection_id: int, early: Preloaded) -> Snapshot:
    """What the store holds now (call under the connection's lock): the early copy if current."""
    if early.snapshot is not None and early.generation == mirror_generation(conn, connection_id):
        return early.snapshot
    return load_snapshot(conn, connection_id)
