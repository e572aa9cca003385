"""The stored picture read while Apple's pages are in flight, used only while still current.

``sync.preload`` reads the mirror back during the read; under the lock the engine uses
that copy only if ``mirror_state.generation`` has not moved since. Every mirror write
moves it, so a write that lands in between (an action reflected, another sync) is
never compared against a stale picture.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, update
from tests.sync.conftest import mirror_reads

from asc_access.store import schema
from asc_access.store.mirror import (
    apply_user_removed,
    load_snapshot,
    mirror_generation,
    mirror_state,
    write_snapshot,
)
from asc_access.store.snapshot import MirrorApp, Snapshot
from asc_access.sync import sync_connection

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


async def test_a_mirror_write_during_the_read_is_not_compared_against_a_stale_copy(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    source = fake_source_factory(fake_team)
    await sync_connection(store, source, connection_id, clock=_clock)  # the baseline
    with store.begin() as conn:  # no digest: the picture is read back during the read
        conn.execute(update(schema.mirror_state).values(digest=None))
    read_pages = source.users.pages

    async def pages_after_an_action(**options: Any) -> AsyncIterator[Any]:
        for _ in range(200):  # the preload has read the picture by now
            await asyncio.sleep(0)
        with store.begin() as conn:  # an action's reflect removes dev1 from the mirror
            apply_user_removed(conn, connection_id, "u-dev1", at=NOW)
        async for page in read_pages(**options):
            yield page

    source.users.pages = pages_after_an_action
    result = await sync_connection(store, source, connection_id, clock=_clock)
    # Apple still lists dev1: compared with the picture as stored now, they are back.
    assert [str(e.change_type) for e in result.changes] == ["user_added"]
    with store.connect() as conn:
        assert "u-dev1" in load_snapshot(conn, connection_id).users


async def test_without_a_stored_digest_the_mirror_is_read_once_while_the_pages_are_in_flight(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    source = fake_source_factory(fake_team)
    await sync_connection(store, source, connection_id, clock=_clock)
    with store.begin() as conn:  # as after an upgrade: a picture with no digest yet
        conn.execute(update(schema.mirror_state).values(digest=None))
    reads = mirror_reads(store)
    result = await sync_connection(store, source, connection_id, clock=_clock)
    assert result.changes == []
    assert len(reads) == 1  # the preload; the commit used its copy
    with store.connect() as conn:
        assert mirror_state(conn, connection_id)[1] == load_snapshot(conn, connection_id).digest()


def test_the_generation_moves_only_when_a_row_is_written(store: Engine, connection_id: int) -> None:
    with store.begin() as conn:
        assert mirror_generation(conn, connection_id) == 0
        assert write_snapshot(conn, connection_id, Snapshot(), Snapshot(), now=NOW) == 0
        assert mirror_generation(conn, connection_id) == 0
    with store.begin() as conn:
        current = load_snapshot(conn, connection_id)
        current.apps["1"] = MirrorApp(app_id="1", name="One", bundle_id="com.example.one")
        write_snapshot(conn, connection_id, Snapshot(), current, now=NOW)
        write_snapshot(conn, connection_id, current, Snapshot(), now=NOW)
        assert mirror_generation(conn, connection_id) == 2
