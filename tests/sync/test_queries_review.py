"""Reading the mirror back: filters, the export shape, the review, directory files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from asc_access.errors import NotFoundLocallyError, UsageError
from asc_access.store.queries import (
    export_rows,
    list_apps,
    list_invitations,
    list_members,
    resolve_connections,
)
from asc_access.store.review import build_review, load_directory
from asc_access.sync import sync_connection

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def filled(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> Engine:
    fake_team.add_user("u-fin", "fin@example.com", ("FINANCE",))
    fake_team.add_user("u-none", "nobody@example.com", ("DEVELOPER",), [])
    fake_team.add_invitation("i-gone", "expired@example.com", NOW - timedelta(days=1))
    await sync_connection(store, fake_source_factory(fake_team), connection_id, clock=lambda: NOW)
    return store


async def test_member_filters(filled: Engine) -> None:
    with filled.connect() as conn:
        everyone = list_members(conn)
        admins = list_members(conn, roles=["admin"])
        by_app = list_members(conn, app="com.example.a1001")
        by_name = list_members(conn, app="App 1003")
        restricted = list_members(conn, all_apps=False)
        email = list_members(conn, email="DEV")
        with pytest.raises(NotFoundLocallyError):
            list_members(conn, app="com.nowhere")
    assert [p.email for p in everyone] == sorted(p.email for p in everyone)
    assert {p.email for p in admins} == {"admin@example.com", "holder@example.com"}
    # restricted to the app, or seeing every app
    assert {p.email for p in by_app} == {
        "admin@example.com",
        "holder@example.com",
        "fin@example.com",
        "dev1@example.com",
    }
    assert "dev2@example.com" in {p.email for p in by_name}
    assert {p.email for p in restricted} == {
        "dev1@example.com",
        "dev2@example.com",
        "nobody@example.com",
    }
    assert {p.email for p in email} == {"dev1@example.com", "dev2@example.com"}
    dev1 = next(p for p in everyone if p.email == "dev1@example.com")
    assert [a.bundle_id for a in dev1.apps] == ["com.example.a1001", "com.example.a1002"]
    assert dev1.synced_at == NOW


async def test_invitations_and_apps(filled: Engine) -> None:
    with filled.connect() as conn:
        pending = list_invitations(conn, state="pending", now=NOW)
        expired = list_invitations(conn, state="expired", now=NOW)
        apps = list_apps(conn)
    assert {p.email for p in pending} == {"newbie@example.com", "late@example.com"}
    assert [p.email for p in expired] == ["expired@example.com"]
    assert [a.name for a in apps] == [f"App {n}" for n in range(1001, 1006)]
    assert {a.id: a.restricted_members for a in apps}["1001"] == 1


async def test_export_shape_is_the_designs(filled: Engine) -> None:
    with filled.connect() as conn:
        rows = [r.export_dict() for r in export_rows(conn)]
    keys = {
        "connection",
        "email",
        "first_name",
        "last_name",
        "status",
        "roles",
        "all_apps_visible",
        "provisioning_allowed",
        "apps",
        "synced_at",
    }
    assert all(set(r) == keys for r in rows)
    assert {r["status"] for r in rows} == {"member", "invited"}
    dev1 = next(r for r in rows if r["email"] == "dev1@example.com")
    assert dev1["apps"] == [
        {"id": "1001", "bundle_id": "com.example.a1001", "name": "App 1001"},
        {"id": "1002", "bundle_id": "com.example.a1002", "name": "App 1002"},
    ]
    admin = next(r for r in rows if r["email"] == "admin@example.com")
    assert admin["apps"] == []
    assert admin["all_apps_visible"] is True
    assert admin["connection"] == "acme"
    assert admin["synced_at"] == NOW.isoformat()
    json.dumps(rows)


async def test_review_sections(filled: Engine, tmp_path: Path) -> None:
    directory = tmp_path / "staff.csv"
    directory.write_text(
        "Name,Email\nHolder,holder@example.com\nAdmin,ADMIN@example.com\nDev,dev1@example.com\n"
    )
    with filled.connect() as conn:
        people = export_rows(conn)
    review = build_review(people, now=NOW + timedelta(days=8), directory=load_directory(directory))
    s = {name: {(f.person.email, f.kind) for f in items} for name, items in review.sections.items()}
    assert s["privileged"] == {
        ("holder@example.com", "account_holder"),
        ("admin@example.com", "admin"),
    }
    assert s["all_apps"] == {("fin@example.com", "all_apps")}
    assert ("expired@example.com", "expired") in s["invitations"]
    assert ("newbie@example.com", "stale") in s["invitations"]
    assert s["no_apps"] == {("nobody@example.com", "no_apps")}
    assert {e for e, _ in s["not_in_directory"]} == {
        "dev2@example.com",
        "fin@example.com",
        "nobody@example.com",
        "newbie@example.com",
        "late@example.com",
    }  # the expired invitation grants nothing: listed under invitations only
    doc = review.as_dict()
    assert doc["counts"]["privileged"] == 2
    assert doc["directory_size"] == 3
    json.dumps(doc)


def test_directory_formats(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("a@example.com\nB@Example.com\n")
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(["x@example.com", {"Email": "Y@example.com"}, {"name": "n"}]))
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"people": [{"email": "z@example.com"}]}))
    assert load_directory(plain) == {"a@example.com", "b@example.com"}
    assert load_directory(listed) == {"x@example.com", "y@example.com"}
    assert load_directory(wrapped) == {"z@example.com"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", "name\nbob\n", "no e-mail addresses"),
        ("bad.json", "[not json", "not valid JSON"),
        ("scalar.json", "42", "expected a JSON list"),
    ],
)
def test_bad_directory_files_are_usage_errors(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        load_directory(path)
    with pytest.raises(UsageError, match="cannot read"):
        load_directory(tmp_path / "missing.csv")


def test_unknown_connection_names_are_refused(store: Engine, connection_id: int) -> None:
    with store.connect() as conn:
        assert resolve_connections(conn) == {connection_id: "acme"}
        assert resolve_connections(conn, ["acme"]) == {connection_id: "acme"}
        with pytest.raises(NotFoundLocallyError, match="known: acme"):
            resolve_connections(conn, ["nope"])
