"""``store.bulk.insert_rows`` writes exactly what SQLAlchemy's own ``insert`` writes.

The fast path binds each value through its column type's processor itself, so these
tests compare it with ``conn.execute(table.insert(), rows)`` on both databases: JSON
roles, aware datetimes in other zones, booleans, text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from tests.sync.conftest import add_connection

from asc_access.store import schema
from asc_access.store.bulk import insert_rows


def _rows(connection_id: int) -> list[dict[str, object]]:
    zone = timezone(timedelta(hours=-7))
    return [
        {
            "connection_id": connection_id,
            "user_id": f"u{i}",
            "username": f"user{i}@example.com",
            "first_name": "Zoë" if i else "",
            "last_name": "O'Brien",
            "roles": ["DEVELOPER", "MARKETING"][: i % 3],
            "all_apps_visible": i % 2 == 0,
            "provisioning_allowed": i == 1,
            "first_seen_at": datetime(2026, 12, 2, 9, 30, i, 1234, tzinfo=zone),
        }
        for i in range(5)
    ]


def _stored(engine: Engine, connection_id: int) -> list[tuple[object, ...]]:
    u = schema.users.c
    query = (
        select(*(c for c in schema.users.c if c.name != "connection_id"))
        .where(u.connection_id == connection_id)
        .order_by(u.user_id)
    )
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def test_it_stores_what_sqlalchemys_insert_stores(store: Engine) -> None:
    fast, slow = add_connection(store, "fast"), add_connection(store, "slow")
    with store.begin() as conn:
        assert insert_rows(conn, schema.users, _rows(fast)) == 5
        conn.execute(schema.users.insert(), _rows(slow))
    written = _stored(store, fast)
    assert written == _stored(store, slow)
    assert written[0][-1] == datetime(2026, 12, 2, 16, 30, 0, 1234, tzinfo=UTC)
    assert written[2][4] == ["DEVELOPER", "MARKETING"]


def test_a_missing_defaulted_column_is_refused_before_anything_is_written(store: Engine) -> None:
    connection_id = add_connection(store)
    rows = [{k: v for k, v in row.items() if k != "first_name"} for row in _rows(connection_id)]
    with store.begin() as conn, pytest.raises(ValueError, match="first_name"):
        insert_rows(conn, schema.users, rows)
    assert _stored(store, connection_id) == []


def test_no_rows_is_no_statement(store: Engine) -> None:
    with store.begin() as conn:
        assert insert_rows(conn, schema.users, []) == 0


def test_repeated_values_are_converted_once_but_never_confused(store: Engine) -> None:
    """Each distinct value is converted once: equal-comparing values of other types stay apart."""
    fast, slow = add_connection(store, "fast"), add_connection(store, "slow")
    instant = datetime(2026, 12, 2, 16, 30, tzinfo=UTC)
    rows = _rows(0)
    for i, roles in enumerate([1, True, ["a"], ("a",), "a"]):
        rows[i]["roles"] = roles
        rows[i]["first_seen_at"] = instant.astimezone(timezone(timedelta(hours=i - 2)))
        rows[i]["all_apps_visible"] = [True, 1, False, 0, True][i]

    def _for(connection_id: int) -> list[dict[str, object]]:
        return [{**row, "connection_id": connection_id} for row in rows]

    with store.begin() as conn:
        assert insert_rows(conn, schema.users, _for(fast)) == 5
        conn.execute(schema.users.insert(), _for(slow))
    written = _stored(store, fast)
    assert written == _stored(store, slow)
    roles = [row[4] for row in written]
    assert [(type(r), repr(r)) for r in roles] == [  # == alone cannot tell: True == 1 == 1.0
        (int, "1"),
        (bool, "True"),
        (list, "['a']"),
        (list, "['a']"),
        (str, "'a'"),
    ]
    assert {row[-1] for row in written} == {instant}
    assert [row[5] for row in written] == [True, True, False, False, True]


def test_a_refused_row_is_sqlalchemys_error_and_nothing_is_kept(store: Engine) -> None:
    """PostgreSQL's COPY fails as ``execute`` would: SQLAlchemy's ``IntegrityError``."""
    connection_id = add_connection(store)
    with store.begin() as conn:
        insert_rows(conn, schema.users, _rows(connection_id))
    with pytest.raises(IntegrityError), store.begin() as conn:
        insert_rows(conn, schema.users, _rows(connection_id)[:2])
    assert len(_stored(store, connection_id)) == 5
