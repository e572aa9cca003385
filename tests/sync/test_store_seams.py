"""The store's seams: its handle and error translation, UTC columns, rows to records, counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from tests.sync.conftest import add_connection

from asc_access.errors import StoreConflictError, StoreError, StoreValueError
from asc_access.store import schema
from asc_access.store.changes import (
    ChangeEvent,
    ChangeType,
    count_changes,
    insert_changes,
    list_changes,
)
from asc_access.store.handle import reading, transaction, translate
from asc_access.store.people import PeopleFilter, people_page
from asc_access.store.rows import json_view, record, values_of
from asc_access.store.timeutil import UtcDateTime

T0 = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def test_translate_groups_driver_errors_by_what_to_do_next() -> None:
    conflict = translate(IntegrityError("INSERT ...", {"name": "acme"}, ValueError("unique")))
    assert isinstance(conflict, StoreConflictError)
    value = translate(DataError("SELECT 1", {}, ValueError("NUL")))
    assert isinstance(value, StoreValueError)
    other = translate(OperationalError("SELECT 1", {}, ValueError("locked")))
    assert type(other) is StoreError
    assert other.context == {"error": "OperationalError"}
    assert "SELECT" not in str(other)  # the statement (and its values) stay out
    assert translate(ValueError("not the database")) is None


def test_a_unique_key_taken_twice_is_a_conflict(store: Engine, connection_id: int) -> None:
    del connection_id
    with pytest.raises(StoreConflictError) as info:
        add_connection_via_transaction(store, "acme")
    assert isinstance(info.value.__cause__, Exception)
    with reading(store) as conn:  # the failed unit of work left nothing behind
        names = conn.execute(select(schema.connections.c.name)).scalars().all()
    assert names == ["acme"]


def add_connection_via_transaction(engine: Engine, name: str) -> None:
    now = datetime.now(UTC)
    with transaction(engine) as conn:
        conn.execute(
            schema.connections.insert().values(
                name=name,
                key_id="2X9R4HXF34",
                key_type="team",
                api_url="http://127.0.0.1:1",
                sync_interval_seconds=3600,
                healthy=True,
                created_at=now,
                updated_at=now,
            )
        )


def test_timestamps_come_back_aware_utc(store: Engine) -> None:
    two_hours_east = timezone(timedelta(hours=2))
    connection_id = add_connection(store, "utc")
    c = schema.connections.c
    with transaction(store) as conn:
        conn.execute(
            schema.connections.update()
            .where(c.id == connection_id)
            .values(
                health_checked_at=datetime(2030, 5, 1, 14, 0, tzinfo=two_hours_east),
                last_ok_at=T0.replace(tzinfo=None),  # naive: taken to be UTC
            )
        )
    with reading(store) as conn:
        row = conn.execute(select(c.health_checked_at, c.last_ok_at).where(c.id == connection_id))
        checked, ok = row.one()
    assert checked == T0
    assert checked.tzinfo is UTC
    assert ok == T0
    assert ok.tzinfo is UTC
    assert UtcDateTime().process_result_value(None, None) is None


@dataclass(frozen=True)
class _Thing:
    id: int
    label: str
    extra: str = "default"


def test_record_maps_fields_by_name_and_takes_explicit_values() -> None:
    class Row:
        _mapping: dict[str, Any] = {"id": 7, "name": "seven", "unused": 1}  # noqa: RUF012

    assert record(_Thing, Row(), label=Row._mapping["name"]) == _Thing(7, "seven")
    assert record(_Thing, {"id": 8, "label": "eight", "extra": "x"}) == _Thing(8, "eight", "x")
    with pytest.raises(TypeError):
        record(_Thing, {"id": 9})


def test_values_of_is_the_way_back_of_record() -> None:
    thing = _Thing(3, "three", "x")
    assert values_of(thing) == {"id": 3, "label": "three", "extra": "x"}
    assert values_of(thing, label="THREE")["label"] == "THREE"
    assert record(_Thing, values_of(thing)) == thing


@dataclass(frozen=True)
class _Shown:
    id: int
    at: datetime | None
    tags: tuple[str, ...]
    hidden: str = "secret"

    @property
    def label(self) -> str:
        return f"#{self.id}"


def test_json_view_shows_fields_in_order_iso_times_and_lists() -> None:
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    shown = _Shown(1, at, ("a", "b"))
    assert json_view(shown, skip={"hidden"}) == {
        "id": 1,
        "at": "2026-01-02T03:04:00+00:00",
        "tags": ["a", "b"],
    }
    assert list(json_view(shown, "label", "when=at", "id", id=9)) == ["label", "when", "id"]
    assert json_view(_Shown(2, None, ()), "when=at", "label", "id", id=9) == {
        "when": None,
        "label": "#2",
        "id": 9,
    }


def test_one_change_query_counts_filters_and_pages_newest_first(
    store: Engine, connection_id: int
) -> None:
    events = [
        ChangeEvent(ChangeType.USER_ADDED, f"u{n}", email=f"Person{n}@Example.com")
        for n in range(5)
    ]
    with transaction(store) as conn:
        for n, event in enumerate(events):
            insert_changes(conn, connection_id, [event], at=T0 + timedelta(minutes=n))
    with reading(store) as conn:
        assert count_changes(conn, connection_ids=[connection_id]) == 5
        assert count_changes(conn, email="person3@") == 1
        newest = list_changes(conn, newest_first=True, limit=2, offset=1)
        oldest = list_changes(conn)
        found = list_changes(conn, email="PERSON4")
    assert [c.subject_id for c in newest] == ["u3", "u2"]
    assert [c.subject_id for c in oldest] == ["u0", "u1", "u2", "u3", "u4"]
    assert [c.subject_id for c in found] == ["u4"]
    assert found[0].at == T0 + timedelta(minutes=4)


def test_people_page_filters_by_email_and_any_of_several_roles(
    store: Engine, connection_id: int
) -> None:
    now = T0
    with transaction(store) as conn:
        for user_id, email, roles in [
            ("u1", "ann@example.com", ["DEVELOPER"]),
            ("u2", "bob@example.com", ["MARKETING"]),
            ("u3", "cat@example.org", ["ADMIN"]),
        ]:
            conn.execute(
                schema.users.insert().values(
                    connection_id=connection_id,
                    user_id=user_id,
                    username=email,
                    first_name=user_id,
                    last_name="",
                    roles=roles,
                    all_apps_visible=False,
                    provisioning_allowed=False,
                    first_seen_at=now,
                )
            )
    with reading(store) as conn:
        by_email = people_page(conn, PeopleFilter(email="EXAMPLE.COM"), limit=None)
        by_roles = people_page(conn, PeopleFilter(roles=("developer", "admin")), limit=None)
        paged = people_page(conn, PeopleFilter(), limit=1, offset=1)
    assert [p.email for p in by_email.items] == ["ann@example.com", "bob@example.com"]
    assert [p.email for p in by_roles.items] == ["ann@example.com", "cat@example.org"]
    assert (paged.total, [p.email for p in paged.items]) == (3, ["bob@example.com"])
    assert by_email.items[0].first_seen_at.tzinfo is UTC


def test_a_value_postgresql_refuses_is_a_store_value_error(
    store: Engine, connection_id: int
) -> None:
    del connection_id
    flt = PeopleFilter(search="a\x00b")
    if store.dialect.name == "sqlite":  # SQLite stores and compares a NUL character
        with reading(store) as conn:
            assert people_page(conn, flt).total == 0
        return
    with pytest.raises(StoreValueError), reading(store) as conn:
        people_page(conn, flt)


def test_mirror_row_is_the_persons_own_row_without_key_and_app_list() -> None:
    from asc_access.store.snapshot import MirrorApp, MirrorInvitation, MirrorUser, mirror_row

    user = MirrorUser(user_id="u1", username="a@x.com", roles=("ADMIN",), app_ids=frozenset({"9"}))
    assert mirror_row(user) == {
        "first_name": "",
        "last_name": "",
        "roles": ["ADMIN"],
        "all_apps_visible": False,
        "provisioning_allowed": False,
        "username": "a@x.com",
    }
    invite = MirrorInvitation(invitation_id="i1", email="b@x.com", expired=True)
    assert set(mirror_row(invite)) == set(schema.invitations.c.keys()) - {
        "connection_id",
        "invitation_id",
        "first_seen_at",
    }
    assert mirror_row(MirrorApp("a1", "App", "com.x")) == {
        "name": "App",
        "bundle_id": "com.x",
        "sku": "",
        "primary_locale": "",
    }
    assert not user.row_differs(MirrorUser(user_id="u1", username="a@x.com", roles=("ADMIN",)))
    assert invite.row_differs(MirrorInvitation(invitation_id="i1", email="b@x.com"))


def test_stored_violation_json_keeps_id_first_and_leaves_out_the_key() -> None:
    from asc_access.store.violations import Violation

    violation = Violation(
        policy="p",
        kind="k",
        key="p|acme|a",
        connection="acme",
        email=None,
        detail="d",
        id=7,
        first_seen=T0,
        last_seen=T0,
    )
    assert list(violation.as_dict()) == [
        "id",
        "policy",
        "kind",
        "connection",
        "email",
        "detail",
        "first_seen",
        "last_seen",
        "resolved_at",
    ]


def test_run_stats_values_leave_progress_out_until_known() -> None:
    from asc_access.store.runs import RunStats

    assert "progress" not in RunStats().values()
    assert RunStats(users_count=3, progress={"users": 1}).values()["progress"] == {"users": 1}
    assert set(RunStats(progress={}).values()) <= set(schema.sync_runs.c.keys())
