"""The stored picture, without reading it back when it has not changed.

A re-sync compares what it read with what the store holds. Reading the stored
picture back takes a fifth of a second of CPU for 10,000 members. Most re-syncs find
nothing changed, so the store keeps the picture's digest (``mirror_state.digest``,
:meth:`~asc_access.store.snapshot.Snapshot.digest`), noted by the last sync that
wrote or compared all of it and cleared by every other write. Under the lock,
:func:`stored_picture` answers the new picture itself when the digests are equal
(nothing to compare or write).

When no digest is stored, :func:`preload` reads the picture on the event loop while
Apple's pages are in flight, a hundred rows at a time (each pause lets the next
page's request and response through), with the connection's generation read first;
:func:`stored_picture` uses that copy only when the generation has not moved since
(every mirror write moves it, in the same transaction). Otherwise it reads the
picture again. A preload that fails is dropped, never the sync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from asc_access.errors import StoreError
from asc_access.store.handle import Database, DatabaseConnection, reading
from asc_access.store.mirror import fill_snapshot, load_snapshot, mirror_state
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
    """Read the connection's stored picture into ``into``, pausing every hundred rows.

    Nothing is read when the store holds the picture's digest (the commit compares that).
    """
    for _ in range(_HEAD_START):
        await asyncio.sleep(0)
    snapshot = Snapshot()
    try:
        with reading(engine) as conn:
            generation, digest = mirror_state(conn, connection_id)
            if digest is not None:
                return
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


def stored_picture(
    conn: DatabaseConnection, connection_id: int, early: Preloaded, new: Snapshot, digest: str
) -> Snapshot:
    """What the store holds now (call under the connection's lock).

    ``new`` itself when the stored digest is ``digest`` (``new``'s): the same picture.
    Else the early copy if still current, else the picture read now.
    """
    generation, stored = mirror_state(conn, connection_id)
    if stored == digest:
        return new
    if early.snapshot is not None and early.generation == generation:
        return early.snapshot
    return load_snapshot(conn, connection_id)
