"""One sync: a connection resolved once, one way to run it, one place that picks where.

- ``asc_access.syncs.sync_connection`` takes a :class:`ConnectionRef` resolved by
  the caller and never reads the connection's row again (the client's key comes
  from the ref too);
- ``asc_access.syncs.request_syncs`` queues for the workers with a broker and runs
  here without one;
- the one due rule (``store.schedule``): interval above 0, a key, an interval
  since the last start.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from tests.workers._helpers import add_connection, connect_sandbox_key

from asc_access import syncs
from asc_access.config import Settings
from asc_access.queue import dispatch
from asc_access.runtime import open_store
from asc_access.store import runs, schema
from asc_access.store.refs import ConnectionRef, resolve_refs
from asc_access.store.schedule import due_syncs

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_READS_CONNECTIONS = re.compile(r"^SELECT\b.*\bFROM connections\b", re.IGNORECASE)
_ROTATION = "SELECT connections.previous_key_id, connections.rotation_move FROM connections"
_HEALTH = "UPDATE connections SET healthy="


def test_a_resolved_connection_is_never_read_again(sandbox: Any, tmp_path: Path) -> None:
    settings = Settings.from_env({"ASC_ACCESS_HOME": str(tmp_path / "home")})
    engine = open_store(settings)
    connect_sandbox_key(engine, settings, "acme", sandbox, sandbox.keys["admin"])
    (ref,) = resolve_refs(engine, ["acme"])
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    result = asyncio.run(syncs.sync_connection(engine, settings, ref, policies=False))
    assert result.connection == "acme"
    assert result.users > 0
    opened = next(i for i, s in enumerate(seen) if s.startswith("INSERT INTO sync_runs"))
    assert [s for s in seen[:opened] if _READS_CONNECTIONS.search(s)] == []
    later = [
        (before, s)
        for before, s in zip(seen[opened:], seen[opened + 1 :], strict=False)
        if _READS_CONNECTIONS.search(s)
    ]
    # Afterwards only the rotation check (its own columns, under the snapshot's lock) and
    # the health write's read-back touch the row: nothing resolves the connection again.
    assert [
        s for before, s in later if not (s.startswith(_ROTATION) or before.startswith(_HEALTH))
    ] == []


def test_with_a_broker_the_workers_take_the_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env(
        {"ASC_ACCESS_HOME": str(tmp_path), "ASC_ACCESS_BROKER_URL": "redis://127.0.0.1:1/0"}
    )
    ref = ConnectionRef(7, "acme", "KEYID12345", None, "team", "http://127.0.0.1:9", 3600)
    sent: list[tuple[Any, ...]] = []

    def enqueue(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        sent.append((args, kwargs))
        return [{"connection": "acme", "status": "queued"}]

    async def here(_: ConnectionRef) -> str:
        raise AssertionError("with a broker nothing runs in this process")

    monkeypatch.setattr(dispatch, "enqueue_sync", enqueue)
    done = asyncio.run(syncs.request_syncs(object(), settings, [ref], here, wait=False))  # type: ignore[arg-type]
    assert done.by_workers
    assert done.queued == [{"connection": "acme", "status": "queued"}]
    assert sent[0][0][1] == [ref]


def test_without_a_broker_they_run_here(tmp_path: Path) -> None:
    settings = Settings.from_env({"ASC_ACCESS_HOME": str(tmp_path)})
    refs = [
        ConnectionRef(n, f"c{n}", "KEYID12345", None, "team", "http://127.0.0.1:9", 0)
        for n in (1, 2)
    ]

    async def here(ref: ConnectionRef) -> str:
        return ref.name

    done = asyncio.run(syncs.request_syncs(object(), settings, refs, here))  # type: ignore[arg-type]
    assert not done.by_workers
    assert done.ran == ["c1", "c2"]


def test_one_due_rule_for_both_schedulers(tmp_path: Path) -> None:
    engine = open_store(Settings.from_env({"ASC_ACCESS_HOME": str(tmp_path)}))
    keyed = add_connection(engine, "keyed", interval=600)
    add_connection(engine, "off", interval=0)
    add_connection(engine, "no-key", interval=600)
    with engine.begin() as conn:
        conn.execute(
            schema.connections.update()
            .where(schema.connections.c.name == "no-key")
            .values(encrypted_private_key=None)
        )
    started = NOW - timedelta(seconds=600)
    runs.start_run(engine, keyed, started_at=started, request_key="k1")
    due = due_syncs(engine, NOW)
    assert [d.connection for d in due] == ["keyed"]  # no key, or scheduling off: never due
    assert due[0].request_key == f"schedule:{keyed}:{int(started.timestamp()) + 600}"
    assert due_syncs(engine, NOW - timedelta(seconds=1)) == []
