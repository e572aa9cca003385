"""The Redis variant of the actions' per-team lock: the workers' own connection lock.

An action step on a team takes ``<prefix>lock:connection:<id>``, the very key
the sync task takes (:mod:`.lock`), so a step never interleaves with another
step or with a sync of that team in any process that shares the broker. The
holder's request key starts with :data:`ACTION_PREFIX`; a sync trigger that
finds an action holding the lock waits for it instead of joining it.

A team without a store id (credentials given on the command line) has no sync
to exclude; it is locked by name under the same prefix.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from redis import Redis

from asc_access.config import Settings
from asc_access.errors import ActionError
from asc_access.queue.app import worker_config_for
from asc_access.queue.config import WorkerConfig
from asc_access.queue.lock import ConnectionLock

__all__ = ["ACTION_PREFIX", "RedisTeamLock", "shared_team_lock"]

#: Request keys of lock holders that are action steps (not syncs).
ACTION_PREFIX = "action:"


class RedisTeamLock:
    """Satisfies :class:`asc_access.actions.locking.TeamLock` across processes."""

    def __init__(
        self,
        client: Redis[Any],
        config: WorkerConfig,
        *,
        wait_seconds: float | None = None,
        poll_seconds: float = 0.05,
    ) -> None:
        self._client = client
        self._config = config
        # A sync may hold the lock for a while: wait as long as a lock can live, and more.
        self._wait = wait_seconds if wait_seconds is not None else config.lock_ttl * 5
        self._poll = poll_seconds

    @classmethod
    def from_config(cls, config: WorkerConfig) -> RedisTeamLock:
        """A lock on the broker named by ``config``."""
        return cls(Redis.from_url(config.broker_url), config)

    def _lock(self, connection: str, connection_id: int | None) -> ConnectionLock:
        ident: object = connection_id if connection_id is not None else f"name:{connection}"
        key = self._config.key("lock", "connection", ident)
        return ConnectionLock(self._client, key, ttl_seconds=self._config.lock_ttl)

    async def _acquire(self, lock: ConnectionLock, connection: str) -> str:
        request_key = f"{ACTION_PREFIX}{uuid.uuid4().hex}"
        deadline = time.monotonic() + self._wait
        while True:
            token = await asyncio.to_thread(lock.try_acquire, request_key)
            if token is not None:
                return token
            if time.monotonic() > deadline:
                raise ActionError(
                    f"team {connection} stayed busy (a sync or another change held its lock "
                    f"for over {self._wait:.0f} s); nothing was changed, try again"
                )
            await asyncio.sleep(self._poll)

    @asynccontextmanager
    async def hold(self, connection: str, connection_id: int | None) -> AsyncIterator[None]:
        """Wait for the team's lock, keep it renewed for the block, then release it."""
        lock = self._lock(connection, connection_id)
        token = await self._acquire(lock, connection)
        with lock.held(token):
            yield


def shared_team_lock(settings: Settings) -> RedisTeamLock:
    """This process's lock on the broker ``settings`` name (one per worker configuration)."""
    return _lock_for(worker_config_for(settings))


@cache
def _lock_for(config: WorkerConfig) -> RedisTeamLock:
    return RedisTeamLock.from_config(config)
