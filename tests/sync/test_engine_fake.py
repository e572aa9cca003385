"""The sync engine against an in-memory source: baseline, re-sync, every change, failures.

End-to-end behaviour over real HTTP is in ``test_sync_e2e.py``; these tests pin
the engine's own rules with a source that cannot surprise them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from asc_access.errors import RateLimitedError, ServerError, SyncError
from asc_access.store import schema
from asc_access.store.changes import list_changes
from asc_access.store.mirror import load_snapshot
from asc_access.store.runs import get_run, list_runs
from asc_access.sync import sync_connection

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def clock_at(when: datetime) -> Any:
    return lambda: when


def count_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (
                schema.users,
                schema.user_apps,
                schema.invitations,
                schema.invitation_apps,
                schema.apps,
                schema.changes,
            )
        }


def types_of(result: Any) -> list[str]:
    return sorted(str(e.change_type) for e in result.changes)


async def test_first_sync_is_a_baseline_and_mirrors_everything(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    source = fake_source_factory(fake_team)
    result = await sync_connection(store, source, connection_id, clock=clock_at(NOW))
    assert result.baseline is True
    assert result.changes == []
    assert (result.users, result.invitations, result.apps) == (4, 2, 5)
    assert result.requests_used == 3 == result.lower_bound
    with store.connect() as conn:
        snap = load_snapshot(conn, connection_id)
        run = get_run(conn, result.run_id)
    assert snap.users["u-dev1"].app_ids == {"1001", "1002"}
    assert snap.users["u-admin"].all_apps_visible
    assert snap.users["u-admin"].app_ids == set()
    assert snap.users["u-dev2"].roles == ("DEVELOPER", "MARKETING")
    assert snap.invitations["i-new"].app_ids == {"1001"}
    assert run is not None
    assert run.status == "succeeded"
    assert run.stats.baseline is True
    assert run.stats.requests_used == 3
    assert run.stats.lower_bound == 3
    assert run.stats.rate_remaining == 3597
    assert run.stats.rate_limit == 3600
    assert run.stats.progress is not None
    assert run.stats.progress["users"] == {"done": 4, "total": 4, "pages": 1}
    assert count_rows(store)["changes"] == 0


async def test_resync_with_nothing_new_writes_only_the_run_row(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    await sync_connection(store, fake_source_factory(fake_team), connection_id, clock=clock_at(NOW))
    before = count_rows(store)
    result = await sync_connection(
        store, fake_source_factory(fake_team), connection_id, clock=clock_at(NOW)
    )
    assert result.baseline is False
    assert result.changes == []
    assert result.rows_written == 0
    assert count_rows(store) == before
    with store.connect() as conn:
        assert [r.status for r in list_runs(conn)] == ["succeeded", "succeeded"]


async def test_every_change_type_between_two_syncs(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    team = fake_team
    team.add_invitation("i-soon", "soon@example.com", NOW + timedelta(hours=1))
    await sync_connection(store, fake_source_factory(team), connection_id, clock=clock_at(NOW))

    # newbie accepts: invitation gone, a member of that e-mail appears
    del team.invitations["i-new"], team.invitation_apps["i-new"]
    team.add_user("u-newbie", "Newbie@Example.com", ("DEVELOPER",), ["1001"])
    # late's invitation is cancelled
    del team.invitations["i-old"], team.invitation_apps["i-old"]
    # a fresh invitation
    team.add_invitation("i-fresh", "fresh@example.com", NOW + timedelta(days=3))
    # dev1: roles changed, one app granted one revoked
    team.add_user("u-dev1", "dev1@example.com", ("APP_MANAGER", "DEVELOPER"), ["1002", "1004"])
    # dev2 gets all apps and provisioning
    team.add_user("u-dev2", "dev2@example.com", ("DEVELOPER", "MARKETING"), None, provisioning=True)
    # the admin leaves
    del team.users["u-admin"]
    # an app appears and one disappears
    team.add_app("1006", "Brand New")
    del team.apps["1005"]

    later = NOW + timedelta(hours=2)  # i-soon has now expired
    result = await sync_connection(
        store, fake_source_factory(team), connection_id, clock=clock_at(later)
    )
    assert types_of(result) == sorted(
        [
            "app_added",
            "app_removed",
            "invitation_accepted",
            "invitation_cancelled",
            "invitation_created",
            "invitation_expired",
            "user_added",
            "user_apps_changed",
            "user_flags_changed",
            "user_removed",
            "user_roles_changed",
        ]
    )
    by_type = {str(e.change_type): e for e in result.changes}
    assert by_type["invitation_accepted"].details == {"user_id": "u-newbie"}
    assert by_type["invitation_accepted"].subject_id == "i-new"
    assert by_type["user_added"].details["invitation_id"] == "i-new"
    assert by_type["user_added"].email == "newbie@example.com"
    assert by_type["invitation_cancelled"].subject_id == "i-old"
    assert by_type["invitation_expired"].subject_id == "i-soon"
    assert by_type["invitation_created"].subject_id == "i-fresh"
    assert by_type["user_roles_changed"].details["added"] == ["APP_MANAGER"]
    assert by_type["user_roles_changed"].details["removed"] == []
    assert by_type["user_apps_changed"].details == {"granted": ["1004"], "revoked": ["1001"]}
    assert by_type["user_flags_changed"].details == {
        "all_apps_visible": {"old": False, "new": True},
        "provisioning_allowed": {"old": False, "new": True},
    }
    assert by_type["user_removed"].subject_id == "u-admin"
    assert by_type["app_added"].details["name"] == "Brand New"
    assert by_type["app_removed"].subject_id == "1005"

    with store.connect() as conn:
        stored = list_changes(conn, connection_ids=[connection_id])
    assert sorted(c.change_type for c in stored) == types_of(result)
    assert {c.run_id for c in stored} == {result.run_id}
    assert all(c.at == later for c in stored)

    # expired is emitted once: the next sync (still expired) says nothing
    again = await sync_connection(
        store, fake_source_factory(team), connection_id, clock=clock_at(later + timedelta(days=1))
    )
    assert again.changes == []


async def test_capped_lists_are_read_in_full_with_the_fewest_requests(
    store: Engine, connection_id: int, empty_team: Any, fake_source_factory: Any
) -> None:
    team = empty_team
    for n in range(260):
        team.add_app(str(5000 + n))
    app_ids = sorted(team.apps)
    for n in range(450):  # 3 pages of members
        apps = None if n % 10 == 0 else app_ids[: n % 7]
        team.add_user(f"u-{n:04d}", f"p{n}@example.com", ("DEVELOPER",), apps)
    team.add_user("u-cap60", "cap60@example.com", ("DEVELOPER",), app_ids[:60])
    team.add_user("u-cap250", "cap250@example.com", ("DEVELOPER",), app_ids[:250])
    team.add_user("u-exact50", "exact50@example.com", ("DEVELOPER",), app_ids[:50])
    team.add_invitation("i-cap", "inv@example.com", NOW + timedelta(days=2), apps=app_ids[:75])
    source = fake_source_factory(team)
    result = await sync_connection(store, source, connection_id, clock=clock_at(NOW))

    # 3 user pages + 2 app pages + 1 invitation page + follow-ups: 1 + 2 + 1
    assert source.routes["GET /v1/users/{id}/relationships/visibleApps"] == 3
    assert source.routes["GET /v1/userInvitations/{id}/visibleApps"] == 1
    assert result.follow_ups == 4
    assert result.lower_bound == 3 + 2 + 1 + 4
    assert result.requests_used == source.request_count == result.lower_bound
    with store.connect() as conn:
        snap = load_snapshot(conn, connection_id)
    assert snap.users["u-cap250"].app_ids == set(app_ids[:250])
    assert snap.users["u-cap60"].app_ids == set(app_ids[:60])
    assert snap.users["u-exact50"].app_ids == set(app_ids[:50])
    assert snap.invitations["i-cap"].app_ids == set(app_ids[:75])


@pytest.mark.parametrize("fail_after", [0, 1, 2])
async def test_a_failure_anywhere_leaves_the_picture_and_log_untouched(
    store: Engine,
    connection_id: int,
    fake_team: Any,
    fake_source_factory: Any,
    fail_after: int,
) -> None:
    await sync_connection(store, fake_source_factory(fake_team), connection_id, clock=clock_at(NOW))
    with store.connect() as conn:
        before = load_snapshot(conn, connection_id)
    rows_before = count_rows(store)

    del fake_team.users["u-admin"]  # would be a removal if the sync completed
    fake_team.add_app("1099")
    source = fake_source_factory(fake_team)
    source.fail_after = fail_after
    source.fail_with = ServerError("Apple failed", status=503, method="GET", path="/v1/apps")
    with pytest.raises(SyncError) as caught:
        await sync_connection(store, source, connection_id, clock=clock_at(NOW))
    assert caught.value.code == "APP-105"
    assert caught.value.cause == "apple_unavailable"
    assert isinstance(caught.value.__cause__, ServerError)

    with store.connect() as conn:
        assert load_snapshot(conn, connection_id) == before
        failed = list_runs(conn)[0]
    assert count_rows(store) == rows_before
    assert failed.status == "failed"
    assert (failed.error_code, failed.error_cause) == ("APP-105", "apple_unavailable")
    assert failed.stats.requests_used == fail_after
    assert failed.finished_at is not None

    result = await sync_connection(store, fake_source_factory(fake_team), connection_id)
    assert types_of(result) == ["app_added", "user_removed"]


async def test_rate_budget_stop_is_recorded_as_app_104(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    source = fake_source_factory(fake_team)
    source.fail_after = 1
    source.fail_with = RateLimitedError("budget reserve reached", cause="rate_limited")
    with pytest.raises(SyncError) as caught:
        await sync_connection(store, source, connection_id)
    assert caught.value.code == "APP-104"
    with store.connect() as conn:
        run = list_runs(conn)[0]
    assert (run.status, run.error_code, run.error_cause) == ("failed", "APP-104", "rate_limited")


async def test_an_unknown_error_is_recorded_without_a_code(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    source = fake_source_factory(fake_team)
    source.fail_after = 2
    source.fail_with = KeyError("surprise")
    with pytest.raises(SyncError) as caught:
        await sync_connection(store, source, connection_id)
    assert caught.value.code is None
    with store.connect() as conn:
        run = list_runs(conn)[0]
    assert run.status == "failed"
    assert run.error_code is None
    assert run.error_message is not None
    assert "KeyError" in run.error_message
    assert count_rows(store)["users"] == 0


async def test_cancellation_records_the_run_failed_and_is_reraised(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    source = fake_source_factory(fake_team)
    started = asyncio.Event()
    original = source.users.visible_app_ids

    async def slow_pages(**kwargs: Any) -> Any:
        started.set()
        await asyncio.sleep(30)
        yield  # pragma: no cover

    source.users.pages = slow_pages
    del original
    task = asyncio.create_task(sync_connection(store, source, connection_id))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with store.connect() as conn:
        run = list_runs(conn)[0]
    assert run.status == "failed"
    assert run.error_message is not None
    assert "interrupted" in run.error_message
    assert count_rows(store)["apps"] == 0


async def test_request_key_replays_a_finished_run(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    first = await sync_connection(
        store, fake_source_factory(fake_team), connection_id, request_key="task-1"
    )
    source = fake_source_factory(fake_team)
    again = await sync_connection(store, source, connection_id, request_key="task-1")
    assert again.replayed
    assert again.run_id == first.run_id
    assert source.request_count == 0


async def test_progress_is_reported_per_stream_and_written_to_the_run(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    seen: list[tuple[str, int, int | None]] = []

    class Listener:
        def update(self, stream: str, done: int, total: int | None) -> None:
            seen.append((stream, done, total))

    ticks = iter(range(1000))
    result = await sync_connection(
        store,
        fake_source_factory(fake_team),
        connection_id,
        progress=Listener(),
        monotonic=lambda: float(next(ticks)),
        progress_interval=0.5,
    )
    assert ("users", 4, 4) in seen
    assert ("apps", 5, 5) in seen
    assert ("invitations", 2, 2) in seen
    with store.connect() as conn:
        run = get_run(conn, result.run_id)
    assert run is not None
    assert run.stats.progress is not None
    assert run.stats.progress["apps"]["done"] == 5


async def test_unknown_connection_is_a_usage_error(
    store: Engine, fake_team: Any, fake_source_factory: Any
) -> None:
    from asc_access.errors import NotFoundLocallyError

    with pytest.raises(NotFoundLocallyError):
        await sync_connection(store, fake_source_factory(fake_team), 999)


def _refuse_user(engine: Engine, email: str) -> None:
    """A trigger that makes the database refuse one member's row, mid-write."""
    from sqlalchemy import text

    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON users "
                    f"WHEN NEW.username = '{email}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.username = '{email}' THEN RAISE EXCEPTION 'refused'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON users "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )


async def test_a_store_failure_while_writing_changes_nothing(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    await sync_connection(store, fake_source_factory(fake_team), connection_id, clock=clock_at(NOW))
    with store.connect() as conn:
        before = load_snapshot(conn, connection_id)
    rows_before = count_rows(store)
    del fake_team.users["u-admin"]
    fake_team.add_app("1077")
    fake_team.add_user("u-boom", "boom@example.com", ("DEVELOPER",), ["1001"])
    _refuse_user(store, "boom@example.com")
    with pytest.raises(SyncError) as caught:
        await sync_connection(store, fake_source_factory(fake_team), connection_id)
    assert caught.value.code is None
    assert "store failed" in caught.value.message
    with store.connect() as conn:
        assert load_snapshot(conn, connection_id) == before
        run = list_runs(conn)[0]
    assert count_rows(store) == rows_before
    assert run.status == "failed"
    assert run.error_message is not None
    assert "store failed" in run.error_message


async def test_items_seen_twice_while_paging_are_kept_once(
    store: Engine, connection_id: int, fake_team: Any, fake_source_factory: Any
) -> None:
    source = fake_source_factory(fake_team)
    plain = source.users.pages

    async def overlapping(**kwargs: Any) -> Any:
        async for page in plain(**kwargs):
            yield page
            yield type(page)(page.items[:2], page.total)  # the cursor moved: two seen again

    source.users.pages = overlapping
    result = await sync_connection(store, source, connection_id)
    assert result.users == 4
    with store.connect() as conn:
        assert len(load_snapshot(conn, connection_id).users) == 4
