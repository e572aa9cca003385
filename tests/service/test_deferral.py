"""The service's sync manager waits out a deferral (budget admission) instead of failing."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from asc_access.service.syncing import SyncManager
from asc_access.sync.admission import SyncDeferred


async def test_a_deferred_sync_is_shown_then_runs_by_itself() -> None:
    calls: list[str] = []

    async def runner(name: str, request_key: str) -> object:
        calls.append(request_key)
        if len(calls) == 1:
            raise SyncDeferred(name, cost=3, wait_seconds=0.3, now=time.time())
        return None

    manager = SyncManager(runner, clock=lambda: datetime.now(UTC))
    assert manager.start("acme", "key-1")
    await asyncio.sleep(0.1)
    deferral = manager.deferred["acme"]
    assert "deferred until" in str(deferral)
    assert manager.running("acme")  # still pending: a second trigger joins it
    assert "acme" not in manager.early_failures
    await manager.wait("acme")
    assert calls == ["key-1", "key-1"]
    assert manager.deferred == {}
    assert manager.early_failures == {}
