"""A re-sync that finds the stored picture unchanged does not read it back.

The store keeps ``Snapshot.digest()`` of the picture (``mirror_state.digest``), noted
by the sync that wrote or compared all of it; every other mirror write clears it. A
sync whose new picture has that digest has nothing to compare or write.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.sync.conftest import mirror_reads

from asc_access.store.mirror import apply_user_removed, load_snapshot, mirror_state
from asc_access.store.snapshot import MirrorApp, MirrorInvitation, MirrorUser, Snapshot
from asc_access.sync import sync_connection

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


def _picture() -> Snapshot:
    user = MirrorUser(
        user_id="u1", username="a@x.com", roles=("DEVELOPER",), app_ids=frozenset({"1", "2"})
    )
    invite = MirrorInvitation(
        invitation_id="i1", email="b@x.com", expiration_date=NOW, app_ids=frozenset({"1"})
    )
    app = MirrorApp("1", "One", "com.x.one")
    return Snapshot(users={"u1": user}, invitations={"i1": invite}, apps={"1": app})


def test_equal_pictures_have_equal_digests_whatever_the_order() -> None:
    one, other = _picture(), _picture()
    other.apps = {"2": MirrorApp("2", "Two", "com.x.two"), **other.apps}
    one.apps["2"] = MirrorApp("2", "Two", "com.x.two")
    assert one == other
    assert one.digest() == other.digest()
    assert Snapshot().digest() == Snapshot().digest() != one.digest()


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.users.update(u1=replace(s.users["u1"], roles=("ADMIN",))),
        lambda s: s.users.update(u1=replace(s.users["u1"], app_ids=frozenset({"1"}))),
        lambda s: s.users.update(u1=replace(s.users["u1"], all_apps_visible=True)),
        lambda s: s.users.update(u1=replace(s.users["u1"], first_name="A")),
        lambda s: s.invitations.update(i1=replace(s.invitations["i1"], expired=True)),
        lambda s: s.invitations.update(
            i1=replace(s.invitations["i1"], expiration_date=NOW + timedelta(microseconds=1))
        ),
        lambda s: s.apps.update({"1": replace(s.apps["1"], name="Uno")}),
        lambda s: s.apps.pop("1"),
        lambda s: s.invitations.update(i2=replace(s.invitations["i1"], invitation_id="i2")),
    ],
)
def test_any_change_changes_the_digest(change: Any) -> None:
    before, after = _picture(), _picture()
    change(after)
    assert before != after
    assert before.digest() != after.digest()


def test_one_instant_in_another_zone_is_only_ever_a_false_difference() -> None:
    zone = timezone(timedelta(hours=2))
    moved = _picture()
    invite = moved.invitations["i1"]
    moved.invitations["i1"] = replace(invite, expiration_date=NOW.astimezone(zone))
    assert moved == _picture()  # equal, written differently: compared the slow way
    assert moved.digest() != _picture().digest()


def _stored_with_its_digest(store: Engine, connection_id: int) -> Snapshot:
    """The stored picture, after checking the store notes its digest."""
    with store.connect() as conn:
        stored = load_snapshot(conn, connection_id)
        assert mirror_state(conn, connection_id)[1] == stored.digest()
    return stored


async def test_an_unchanged_team_is_not_read_back_from_the_store(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    source = fake_source_factory(fake_team)
    first = await sync_connection(store, source, connection_id, clock=_clock)
    with store.connect() as conn:
        generation, digest = mirror_state(conn, connection_id)
        assert digest == load_snapshot(conn, connection_id).digest()
    reads = mirror_reads(store)
    again = await sync_connection(store, source, connection_id, clock=_clock)
    assert reads == []  # neither the preload nor the commit read the picture back
    assert (again.changes, again.rows_written) == ([], 0)
    assert (again.users, again.apps) == (first.users, first.apps)
    with store.connect() as conn:
        assert mirror_state(conn, connection_id) == (generation, digest)


async def test_a_write_in_between_clears_the_digest_and_the_change_is_seen(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    source = fake_source_factory(fake_team)
    await sync_connection(store, source, connection_id, clock=_clock)
    with store.begin() as conn:  # an action reflected: dev1 removed from the mirror only
        apply_user_removed(conn, connection_id, "u-dev1", at=NOW)
        assert mirror_state(conn, connection_id)[1] is None
    result = await sync_connection(store, source, connection_id, clock=_clock)
    # Apple still lists dev1: compared with the picture as stored, they are back.
    assert [str(e.change_type) for e in result.changes] == ["user_added"]
    assert "u-dev1" in _stored_with_its_digest(store, connection_id).users


async def test_a_changed_team_is_compared_and_written_as_before(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    source = fake_source_factory(fake_team)
    await sync_connection(store, source, connection_id, clock=_clock)
    fake_team.add_user("u-new", "new@example.com", ("DEVELOPER",), ["1001"])
    result = await sync_connection(store, source, connection_id, clock=_clock)
    assert [str(e.change_type) for e in result.changes] == ["user_added"]
    assert "u-new" in _stored_with_its_digest(store, connection_id).users
