"""Work done while the team is read: after the next page has left, and never on a stale mirror."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from asc_access.store.mirror import apply_user_removed, load_snapshot
from asc_access.sync import sync_connection
from asc_access.sync.progress import ProgressTracker
from asc_access.sync.streams import TeamReader


class _Log:
    def __init__(self) -> None:
        self.events: list[str] = []

    def update(self, stream: str, done: int, total: int | None) -> None:
        if stream == "users":
            self.events.append(f"handled {done}")


async def test_the_next_request_leaves_before_a_page_is_handled(
    fake_team: Any, fake_source_factory: Any
) -> None:
    # Like the real pager: page n+1's request is made (a task) before page n is handed
    # over, and leaves only when the loop gets a few turns (httpx needs about four).
    log = _Log()
    source = fake_source_factory(fake_team)
    plain = source.users.pages

    async def request(n: int) -> None:
        for _ in range(4):
            await asyncio.sleep(0)
        log.events.append(f"sent {n}")

    async def chained(**kwargs: Any) -> Any:
        pending: list[asyncio.Task[None]] = []
        n = 1
        async for page in plain(**{**kwargs, "limit": 1}):
            n += 1
            pending.append(asyncio.ensure_future(request(n)))
            yield page
        await asyncio.gather(*pending)

    source.users.pages = chained
    tracker = ProgressTracker(log, monotonic=lambda: 0.0)
    reader = TeamReader(source, tracker, clock=lambda: datetime(2030, 1, 1, tzinfo=UTC))
    await reader.read()
    handled = [e for e in log.events if e.startswith("handled")]
    assert len(handled) == 5  # 4 members, one a page, and the stream's end
    for k in range(1, 5):
        assert log.events.index(f"sent {k + 1}") < log.events.index(f"handled {k}")


async def test_a_sync_compares_with_the_mirror_as_it_is_when_it_writes(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    # A member is removed from the mirror (an action) while the sync reads the team: the
    # sync, which still sees them at Apple, compares with the mirror without them (a
    # picture of the mirror taken earlier, e.g. to save time, must not be used as it is).
    await sync_connection(store, fake_source_factory(fake_team), connection_id)
    source = fake_source_factory(fake_team)
    plain = source.users.pages

    async def removed_meanwhile(**kwargs: Any) -> Any:
        async for page in plain(**kwargs):
            with store.begin() as conn:
                apply_user_removed(conn, connection_id, "u-dev1")
            yield page

    source.users.pages = removed_meanwhile
    result = await sync_connection(store, source, connection_id)
    assert [(str(e.change_type), e.subject_id) for e in result.changes] == [
        ("user_added", "u-dev1")
    ]
    with store.connect() as conn:
        assert load_snapshot(conn, connection_id).users["u-dev1"].app_ids == {"1001", "1002"}
