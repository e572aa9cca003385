"""The audit log store on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from asc_access.errors import NotFoundLocallyError
from asc_access.store import audit

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def start(engine: Engine, connections: list[str], at: datetime = T0) -> int:
    return audit.start_entry(
        engine,
        actor="alice",
        action="offboard",
        target="leaver@example.com",
        connections=connections,
        plan={"action": "offboard", "steps": [{"index": 0}]},
        steps=[{"index": 0, "state": "pending", "outcome": None}],
        at=at,
    )


def test_entry_lifecycle(any_store: Engine) -> None:
    entry_id = start(any_store, ["north", "south"])
    entry = audit.get_entry(any_store, entry_id)
    assert (entry.status, entry.finished_at, entry.actor) == ("running", None, "alice")
    assert entry.at == T0
    audit.update_steps(any_store, entry_id, [{"index": 0, "state": "running", "outcome": None}])
    assert audit.get_entry(any_store, entry_id).steps[0]["state"] == "running"
    done = [{"index": 0, "state": "finished", "outcome": "done", "request_ids": ["R-1"]}]
    audit.finish_entry(any_store, entry_id, status="done", steps=done, at=T0 + timedelta(seconds=3))
    entry = audit.get_entry(any_store, entry_id)
    assert entry.status == "done"
    assert entry.steps == tuple(done)
    assert entry.finished_at == T0 + timedelta(seconds=3)
    document = entry.as_dict()
    assert document["connections"] == ["north", "south"]
    assert document["plan"]["action"] == "offboard"
    assert document["finished_at"] == "2026-03-01T12:00:03+00:00"


def test_list_newest_first_with_filters(any_store: Engine) -> None:
    ids = [start(any_store, [name], T0 + timedelta(minutes=n)) for n, name in enumerate("abcab")]
    assert [e.id for e in audit.list_entries(any_store)] == ids[::-1]
    assert [e.id for e in audit.list_entries(any_store, limit=2)] == ids[:2:-1]
    assert [e.id for e in audit.list_entries(any_store, connection="a")] == [ids[3], ids[0]]
    assert [e.id for e in audit.list_entries(any_store, connection="a", limit=1)] == [ids[3]]
    since = T0 + timedelta(minutes=3)
    assert [e.id for e in audit.list_entries(any_store, since=since)] == [ids[4], ids[3]]


def test_bad_status_and_unknown_entry(any_store: Engine) -> None:
    entry_id = start(any_store, ["a"])
    with pytest.raises(ValueError, match="unknown audit status"):
        audit.finish_entry(any_store, entry_id, status="great", steps=[])
    with pytest.raises(NotFoundLocallyError):
        audit.get_entry(any_store, entry_id + 100)
