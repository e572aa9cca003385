"""The previous picture, read while the pages are in flight and checked under the lock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from asc_access.store.mirror import (
    apply_user_removed,
    load_snapshot,
    lock_connection,
    write_snapshot,
)
from asc_access.store.prior import PriorRead, fingerprint, load_prior
from asc_access.store.snapshot import MirrorApp, MirrorInvitation, MirrorUser, Snapshot
from asc_access.sync import engine as engine_module
from asc_access.sync import sync_connection

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def _picture() -> Snapshot:
    """Awkward values on purpose: separators in names, no expiry date, empty app lists."""
    return Snapshot(
        users={
            "u1": MirrorUser("u1", "a;b@example.com", "Ann:1", "", ("ADMIN",), True, True),
            "u2": MirrorUser(
                "u2",
                "c@example.com",
                "",
                "Lee",
                ("DEVELOPER", "SALES"),
                app_ids=frozenset({"1", "2"}),
            ),
            "u3": MirrorUser("u3", "d@example.com", app_ids=frozenset()),
        },
        invitations={
            "i1": MirrorInvitation(
                "i1",
                "e@example.com",
                "E",
                "F",
                ("SALES",),
                expiration_date=NOW,
                app_ids=frozenset({"2"}),
            ),
            "i2": MirrorInvitation("i2", "g@example.com", expired=True),
        },
        apps={"1": MirrorApp("1", "One", "com.one", "S1", "en-US"), "2": MirrorApp("2")},
    )


def _stored(engine: Engine, connection_id: int, picture: Snapshot) -> None:
    with engine.begin() as conn:
        write_snapshot(conn, connection_id, Snapshot(), picture, now=NOW)


def test_load_prior_reads_what_load_snapshot_reads(store: Engine, connection_id: int) -> None:
    _stored(store, connection_id, _picture())
    with store.connect() as conn:
        assert load_prior(conn, connection_id) == load_snapshot(conn, connection_id)
        assert load_prior(conn, connection_id) == _picture()


def test_the_fingerprint_tells_apart_values_that_only_move_between_fields(
    store: Engine, connection_id: int
) -> None:
    picture = _picture()
    _stored(store, connection_id, picture)
    with store.connect() as conn:
        before = fingerprint(conn, connection_id)
        assert fingerprint(conn, connection_id) == before
    moved = Snapshot(
        users={
            **picture.users,
            "u2": MirrorUser(
                "u2",
                "c@example.com",
                "L",
                "ee",
                ("DEVELOPER", "SALES"),
                app_ids=frozenset({"1", "2"}),
            ),
        },
        invitations=picture.invitations,
        apps=picture.apps,
    )
    with store.begin() as conn:
        write_snapshot(conn, connection_id, picture, moved, now=NOW)
    with store.connect() as conn:
        assert fingerprint(conn, connection_id) != before


def test_an_unchanged_mirror_hands_over_the_prefetched_picture(
    store: Engine, connection_id: int
) -> None:
    _stored(store, connection_id, _picture())
    prior = PriorRead(store, connection_id)
    with store.begin() as conn:
        lock_connection(conn, connection_id)
        assert prior.take(conn) == _picture()
    assert prior.prefetched


def test_a_change_after_the_prefetch_is_read_again_under_the_lock(
    store: Engine, connection_id: int
) -> None:
    picture = _picture()
    _stored(store, connection_id, picture)
    prior = PriorRead(store, connection_id)
    prior.wait()
    renamed = Snapshot(users={"u3": MirrorUser("u3", "d@example.com", "Dee")})
    with store.begin() as conn:  # no change event for a name: only the rows tell
        write_snapshot(
            conn, connection_id, Snapshot(users={"u3": picture.users["u3"]}), renamed, now=NOW
        )
    with store.begin() as conn:
        lock_connection(conn, connection_id)
        taken = prior.take(conn)
        assert taken == load_snapshot(conn, connection_id)
    assert taken.users["u3"].first_name == "Dee"
    assert not prior.prefetched


async def test_a_sync_compares_with_the_mirror_as_it_is_when_it_writes(
    store: Engine,
    connection_id: int,
    fake_team: Any,
    fake_source_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A member is removed from the mirror (an action) after the prefetch read them: the
    # sync, which still sees them at Apple, must compare with the mirror without them.
    await sync_connection(store, fake_source_factory(fake_team), connection_id)
    made: list[PriorRead] = []

    class Watched(PriorRead):
        def __init__(self, engine: Engine, connection_id: int) -> None:
            super().__init__(engine, connection_id)
            made.append(self)

    monkeypatch.setattr(engine_module, "PriorRead", Watched)
    source = fake_source_factory(fake_team)
    plain = source.users.pages

    async def removed_meanwhile(**kwargs: Any) -> Any:
        async for page in plain(**kwargs):
            made[0].wait()
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
