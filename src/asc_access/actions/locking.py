"""The per-team lock every action step (and every sync of that team) runs under.

The safety rules (the last Admin, the Account Holder) are a check-and-act: a
step reads the person and the team fresh from Apple, checks the rules, then
writes. Two steps on one team that interleave (two confirms at the same moment)
would each see the other's Admin still there. So the executor runs each step
inside :meth:`TeamLock.hold` for its team, and the step's fresh read happens
inside the lock.

The actions layer only declares what it needs (:class:`TeamLock`) and offers
the in-process variant (:class:`LocalTeamLock`: one :class:`asyncio.Lock` per
team per event loop, shared by the CLI, the service's requests and its
in-process syncs). The shells provide the Redis variant when a broker is
configured (:mod:`asc_access.queue.team_lock`), which takes the very lock
the workers' sync task takes.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

__all__ = ["LOCAL_TEAM_LOCK", "LocalTeamLock", "TeamLock", "team_lock_key"]


def team_lock_key(connection: str, connection_id: int | None) -> str:
    """What names a team's lock: its store id when it has one, else its name."""
    return str(connection_id) if connection_id is not None else f"name:{connection}"


class TeamLock(Protocol):
    """Mutual exclusion per team, across whatever runs actions and syncs."""

    def hold(self, connection: str, connection_id: int | None) -> AbstractAsyncContextManager[None]:
        """Wait for the team's lock and hold it for the ``async with`` block."""
        ...


class LocalTeamLock:
    """The in-process variant: one :class:`asyncio.Lock` per team and event loop."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def _lock(self, key: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._guard:
            per_loop = self._locks.setdefault(loop, {})
            return per_loop.setdefault(key, asyncio.Lock())

    @asynccontextmanager
    async def hold(self, connection: str, connection_id: int | None) -> AsyncIterator[None]:
        """Hold the team's lock for the block (waits while another holder runs)."""
        async with self._lock(team_lock_key(connection, connection_id)):
            yield


#: The lock the CLI and the service share inside one process (no broker configured).
LOCAL_TEAM_LOCK = LocalTeamLock()
