"""``PersonRow.app_refs``: how reviews, remediation and SCIM name a person's apps."""

from __future__ import annotations

from datetime import UTC, datetime

from asc_access.store.person_rows import AppRef, PersonRow

APPS = (AppRef("2", "com.b", "B"), AppRef("1", "", "Unnamed"), AppRef("3", "com.a", "A"))


def person(roles: tuple[str, ...], *, all_apps: bool = False) -> PersonRow:
    return PersonRow(
        connection="acme",
        connection_id=1,
        status="member",
        id="u1",
        email="a@example.com",
        first_name="A",
        last_name="B",
        roles=roles,
        all_apps_visible=all_apps,
        provisioning_allowed=False,
        apps=APPS,
        first_seen_at=datetime(2026, 1, 1, tzinfo=UTC),
        synced_at=None,
    )


def test_apps_by_bundle_id_else_id_sorted() -> None:
    assert person(("DEVELOPER",)).app_refs == ["1", "com.a", "com.b"]


def test_empty_for_a_person_who_sees_every_app() -> None:
    assert person(("DEVELOPER",), all_apps=True).app_refs == []
    assert person(("ADMIN",)).app_refs == []  # a role that always sees every app
