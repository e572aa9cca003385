"""The helpers actions call so an applied change shows in the mirror at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from asc_access.ids import AppId, InvitationId, UserId
from asc_access.models import Invitation, User
from asc_access.store.changes import list_changes
from asc_access.store.mirror import (
    apply_invitation_created,
    apply_invitation_deleted,
    apply_user_removed,
    apply_user_updated,
    apply_user_visible_apps,
    load_snapshot,
)
from asc_access.sync import sync_connection

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


async def test_applied_changes_show_at_once_and_the_next_sync_agrees(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    await sync_connection(store, fake_source_factory(fake_team), connection_id, clock=lambda: NOW)
    cid = connection_id
    dev1 = User(
        UserId("u-dev1"),
        "dev1@example.com",
        first_name="Dev1",
        last_name="Tester",
        roles=("DEVELOPER", "MARKETING"),
        visible_app_ids=(AppId("1001"),),
        visible_apps_total=1,
    )
    invitation = Invitation(
        InvitationId("i-x"),
        "x@example.com",
        first_name="X",
        last_name="Y",
        roles=("DEVELOPER",),
        all_apps_visible=True,
        expiration_date=NOW + timedelta(days=3),
    )
    with store.begin() as conn:
        updated = apply_user_updated(conn, cid, dev1, audit_id=7, at=NOW)
        again = apply_user_updated(conn, cid, dev1, audit_id=8, at=NOW)
        removed = apply_user_removed(conn, cid, "u-admin", audit_id=7, at=NOW)
        missing = apply_user_removed(conn, cid, "u-admin", audit_id=7, at=NOW)
        created = apply_invitation_created(conn, cid, invitation, audit_id=7, at=NOW)
        cancelled = apply_invitation_deleted(conn, cid, "i-old", audit_id=7, at=NOW)
        apps = apply_user_visible_apps(conn, cid, "u-dev2", ["1003", "1004"], audit_id=7, at=NOW)
    assert sorted(str(e.change_type) for e in updated) == [
        "user_apps_changed",
        "user_roles_changed",
    ]
    assert again == []
    assert missing == []
    assert [str(e.change_type) for e in removed] == ["user_removed"]
    assert [str(e.change_type) for e in created] == ["invitation_created"]
    assert [str(e.change_type) for e in cancelled] == ["invitation_cancelled"]
    assert apps[0].details == {"granted": ["1004"], "revoked": []}
    with store.connect() as conn:
        snap = load_snapshot(conn, cid)
        logged = list_changes(conn)
    assert snap.users["u-dev1"].roles == ("DEVELOPER", "MARKETING")
    assert snap.users["u-dev1"].app_ids == {"1001"}
    assert "u-admin" not in snap.users
    assert "i-x" in snap.invitations
    assert "i-old" not in snap.invitations
    assert {c.audit_id for c in logged} == {7}
    assert all(c.run_id is None for c in logged)

    # Apple now shows the same: the next sync finds nothing new
    team = fake_team
    team.users["u-dev1"] = replace(team.users["u-dev1"], roles=("DEVELOPER", "MARKETING"))
    team.user_apps["u-dev1"] = ["1001"]
    team.user_apps["u-dev2"] = ["1003", "1004"]
    del team.users["u-admin"]
    del team.invitations["i-old"]
    team.invitations["i-x"] = invitation
    team.invitation_apps["i-x"] = []
    result = await sync_connection(store, fake_source_factory(team), cid, clock=lambda: NOW)
    assert result.changes == []


async def test_a_capped_user_keeps_the_mirrored_app_list(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    await sync_connection(store, fake_source_factory(fake_team), connection_id, clock=lambda: NOW)
    capped = User(
        UserId("u-dev1"),
        "dev1@example.com",
        first_name="Dev1",
        last_name="Tester",
        roles=("DEVELOPER",),
        visible_app_ids=(AppId("1001"),),
        visible_apps_total=2,  # the included list is partial: never trust it
    )
    with store.begin() as conn:
        assert apply_user_updated(conn, connection_id, capped, at=NOW) == []
        assert load_snapshot(conn, connection_id).users["u-dev1"].app_ids == {"1001", "1002"}
