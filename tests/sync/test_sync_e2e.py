"""End to end: the real API client against the sandbox over loopback HTTP, on SQLite and PostgreSQL.

Covers a first sync, a quiet re-sync, every change type staged through the
sandbox's control API and through Apple-API writes with the admin key, faults
part-way through a sync, and a generated team with capped app lists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from asc_access.api import RetryPolicy
from asc_access.errors import SyncError
from asc_access.store.changes import list_changes
from asc_access.store.mirror import load_snapshot
from asc_access.store.runs import list_runs
from asc_access.store.snapshot import Snapshot
from asc_access.sync import SyncResult, pages_needed, sync_connection

FAST_RETRY = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
DOMAIN = "northwindlabs.example.com"


async def run_sync(store: Engine, running: Any, connection_id: int, make_client: Any) -> SyncResult:
    async with make_client(running, retry=FAST_RETRY) as client:
        return await sync_connection(store, client, connection_id)


def snapshot(store: Engine, connection_id: int) -> Snapshot:
    with store.connect() as conn:
        return load_snapshot(conn, connection_id)


def by_email(snap: Snapshot, email: str) -> Any:
    return next(u for u in snap.users.values() if u.username == email)


def events(result: SyncResult) -> list[tuple[str, str | None]]:
    return sorted((str(e.change_type), e.email) for e in result.changes)


async def test_first_sync_then_a_quiet_resync(
    store: Engine, connection_id: int, sandbox: Any, make_client: Callable[..., Any]
) -> None:
    first = await run_sync(store, sandbox, connection_id, make_client)
    assert first.baseline
    assert first.changes == []
    assert (first.users, first.invitations, first.apps) == (12, 2, 6)
    assert sandbox.stats()["requests"] == first.requests_used == first.lower_bound == 3
    snap = snapshot(store, connection_id)
    sofia = by_email(snap, f"sofia.rossi@{DOMAIN}")
    names = {snap.apps[a].name for a in sofia.app_ids}
    assert names == {"Northwind Weather", "Trailmix Hiking"}
    assert by_email(snap, f"ava.thompson@{DOMAIN}").roles == ("ACCOUNT_HOLDER", "ADMIN")
    expired = [i for i in snap.invitations.values() if i.expired]
    assert [i.email for i in expired] == [f"lucas.moreau@{DOMAIN}"]

    sandbox.reset_stats()
    again = await run_sync(store, sandbox, connection_id, make_client)
    assert not again.baseline
    assert again.changes == []
    assert again.rows_written == 0
    assert sandbox.stats()["requests"] == 3
    assert snapshot(store, connection_id) == snap
    with store.connect() as conn:
        assert list_changes(conn) == []


async def test_changes_staged_through_the_control_api(
    store: Engine, connection_id: int, sandbox: Any, make_client: Callable[..., Any]
) -> None:
    await run_sync(store, sandbox, connection_id, make_client)
    snap = snapshot(store, connection_id)
    ella = next(i for i in snap.invitations.values() if i.email.startswith("ella."))
    kenji = by_email(snap, f"kenji.watanabe@{DOMAIN}")
    chloe = by_email(snap, f"chloe.martin@{DOMAIN}")

    new_user_id = sandbox.accept_invitation(ella.invitation_id)
    sandbox.set_roles(kenji.user_id, ["DEVELOPER", "APP_MANAGER"])
    sandbox.set_roles(chloe.user_id, ["MARKETING"], all_apps_visible=True)
    second = await run_sync(store, sandbox, connection_id, make_client)
    assert events(second) == [
        ("invitation_accepted", f"ella.johansson@{DOMAIN}"),
        ("user_added", f"ella.johansson@{DOMAIN}"),
        ("user_flags_changed", f"chloe.martin@{DOMAIN}"),
        ("user_roles_changed", f"kenji.watanabe@{DOMAIN}"),
    ]
    accepted = next(e for e in second.changes if str(e.change_type) == "invitation_accepted")
    assert accepted.details == {"user_id": new_user_id}
    roles = next(e for e in second.changes if str(e.change_type) == "user_roles_changed")
    assert (roles.details["added"], roles.details["removed"]) == (["APP_MANAGER"], [])

    # an invitation sent, then expired by the sandbox: created, then expired (once)
    async with make_client(sandbox) as client:
        sent = await client.invitations.create(
            email="zoe.new@example.com", first_name="Zoe", last_name="New", roles=["DEVELOPER"]
        )
    third = await run_sync(store, sandbox, connection_id, make_client)
    assert events(third) == [("invitation_created", "zoe.new@example.com")]
    sandbox.expire_invitation(sent.id)
    fourth = await run_sync(store, sandbox, connection_id, make_client)
    assert events(fourth) == [("invitation_expired", "zoe.new@example.com")]
    assert (await run_sync(store, sandbox, connection_id, make_client)).changes == []

    # a different team behind the same key: everyone and every app replaced
    sandbox.reset("generated", users=5, apps=3, invitations=0, random_seed=3)
    fifth = await run_sync(store, sandbox, connection_id, make_client)
    kinds = {str(e.change_type) for e in fifth.changes}
    assert {"app_added", "app_removed", "user_added", "user_removed"} <= kinds
    assert "invitation_cancelled" in kinds
    assert sum(1 for e in fifth.changes if str(e.change_type) == "app_added") == 3
    assert sum(1 for e in fifth.changes if str(e.change_type) == "app_removed") == 6
    assert sum(1 for e in fifth.changes if str(e.change_type) == "user_removed") == 13
    final = snapshot(store, connection_id)
    assert (len(final.users), len(final.apps), len(final.invitations)) == (5, 3, 0)


async def test_changes_made_through_apple_api_writes(
    store: Engine, connection_id: int, sandbox: Any, make_client: Callable[..., Any]
) -> None:
    await run_sync(store, sandbox, connection_id, make_client)
    snap = snapshot(store, connection_id)
    sofia = by_email(snap, f"sofia.rossi@{DOMAIN}")
    kenji = by_email(snap, f"kenji.watanabe@{DOMAIN}")
    noah = by_email(snap, f"noah.williams@{DOMAIN}")
    ella = next(i for i in snap.invitations.values() if i.email.startswith("ella."))
    lumen = next(a.app_id for a in snap.apps.values() if a.name == "Lumen Reader")
    weather = next(a.app_id for a in snap.apps.values() if a.name == "Northwind Weather")

    async with make_client(sandbox) as client:
        await client.invitations.create(
            email="new.hire@example.com",
            first_name="New",
            last_name="Hire",
            roles=["DEVELOPER"],
            all_apps_visible=False,
            visible_app_ids=[lumen],
        )
        await client.invitations.delete(ella.invitation_id)
        await client.users.update(sofia.user_id, roles=["DEVELOPER", "MARKETING"])
        await client.users.add_visible_apps(kenji.user_id, [lumen])
        await client.users.update(kenji.user_id, provisioning_allowed=True)
        await client.users.remove_visible_apps(sofia.user_id, [weather])
        await client.users.delete(noah.user_id)

    result = await run_sync(store, sandbox, connection_id, make_client)
    assert events(result) == [
        ("invitation_cancelled", f"ella.johansson@{DOMAIN}"),
        ("invitation_created", "new.hire@example.com"),
        ("user_apps_changed", f"kenji.watanabe@{DOMAIN}"),
        ("user_apps_changed", f"sofia.rossi@{DOMAIN}"),
        ("user_flags_changed", f"kenji.watanabe@{DOMAIN}"),
        ("user_removed", f"noah.williams@{DOMAIN}"),
        ("user_roles_changed", f"sofia.rossi@{DOMAIN}"),
    ]
    details = {(str(e.change_type), e.email): e.details for e in result.changes}
    assert details[("user_apps_changed", f"kenji.watanabe@{DOMAIN}")] == {
        "granted": [lumen],
        "revoked": [],
    }
    assert details[("user_apps_changed", f"sofia.rossi@{DOMAIN}")] == {
        "granted": [],
        "revoked": [weather],
    }
    assert details[("user_flags_changed", f"kenji.watanabe@{DOMAIN}")] == {
        "provisioning_allowed": {"old": False, "new": True}
    }
    created = details[("invitation_created", "new.hire@example.com")]
    assert created["apps"] == [lumen]


FAULTS = [
    pytest.param({"status": 500}, "APP-105", "apple_unavailable", id="500"),
    pytest.param({"status": 503}, "APP-105", "apple_unavailable", id="503"),
    pytest.param({"status": 429}, "APP-104", "rate_limited", id="429"),
    pytest.param({"drop": True}, "APP-106", "network_unreachable", id="dropped"),
    pytest.param({"malformed": True}, "APP-107", "unexpected_response", id="malformed"),
]


@pytest.mark.parametrize(("fault", "code", "cause"), FAULTS)
async def test_a_fault_part_way_leaves_the_previous_picture(
    store: Engine,
    connection_id: int,
    sandbox_factory: Any,
    make_client: Callable[..., Any],
    fault: dict[str, Any],
    code: str,
    cause: str,
) -> None:
    running = sandbox_factory(users=450, apps=60, invitations=10, random_seed=11)
    await run_sync(store, running, connection_id, make_client)
    before = snapshot(store, connection_id)
    with store.connect() as conn:
        changes_before = list_changes(conn)

    # someone leaves: a sync that stopped early must not report everyone unseen as removed
    leaver = max(u for u, v in before.users.items() if "ACCOUNT_HOLDER" not in v.roles)
    async with make_client(running) as client:
        await client.users.delete(leaver)
    running.add_fault(path_prefix="/v1/users", after=1, **fault)  # page 2 of 3 fails
    with pytest.raises(SyncError) as caught:
        await run_sync(store, running, connection_id, make_client)
    assert (caught.value.code, caught.value.cause) == (code, cause)

    assert snapshot(store, connection_id) == before
    with store.connect() as conn:
        assert list_changes(conn) == changes_before
        failed = list_runs(conn)[0]
    assert (failed.status, failed.error_code, failed.error_cause) == ("failed", code, cause)
    assert failed.stats.requests_used >= 2

    running.clear_faults()
    recovered = await run_sync(store, running, connection_id, make_client)
    assert [(str(e.change_type), e.subject_id) for e in recovered.changes] == [
        ("user_removed", leaver)
    ]


async def test_capped_lists_cost_exactly_the_lower_bound_and_match_the_sandbox(
    store: Engine, connection_id: int, sandbox_factory: Any, make_client: Callable[..., Any]
) -> None:
    running = sandbox_factory(users=450, apps=130, invitations=210, random_seed=5)
    result = await run_sync(store, running, connection_id, make_client)
    stats = running.stats()
    by_route = stats["by_route"]
    follow_up_route = "GET /v1/users/{id}/relationships/visibleApps"
    capped = by_route.get(follow_up_route, 0)
    assert capped >= 2  # the generated team restricts a few members to more than 50 apps
    pages = pages_needed(450, 200) + pages_needed(130, 200) + pages_needed(210, 200)
    assert pages == 3 + 1 + 2
    assert result.follow_ups == capped + by_route.get("GET /v1/userInvitations/{id}/visibleApps", 0)
    assert (
        stats["requests"] == result.requests_used == result.lower_bound == pages + result.follow_ups
    )
    assert set(by_route) <= {
        "GET /v1/users",
        "GET /v1/apps",
        "GET /v1/userInvitations",
        follow_up_route,
        "GET /v1/userInvitations/{id}/visibleApps",
    }

    # the truth, read the slow way: every member, and every restricted member's app list
    snap = snapshot(store, connection_id)
    async with make_client(running) as client:
        members = await client.users.list()
        truth = {
            u.id: (
                tuple(sorted(u.roles)),
                u.all_apps_visible,
                frozenset()
                if u.all_apps_visible
                else frozenset(await client.users.visible_app_ids(u.id)),
            )
            for u in members
        }
    mirrored = {u.user_id: (u.roles, u.all_apps_visible, u.app_ids) for u in snap.users.values()}
    assert mirrored == truth
    assert max(len(apps) for _, _, apps in truth.values()) > 50


async def test_the_rate_budget_stops_the_sync_cleanly_before_it_is_burnt(
    store: Engine, connection_id: int, sandbox_factory: Any, make_client: Callable[..., Any]
) -> None:
    running = sandbox_factory(users=2000, apps=10, invitations=0, random_seed=2)
    running.set_rate_limit(60)  # the client keeps a reserve of 50: about ten requests to spend
    with pytest.raises(SyncError) as caught:
        await run_sync(store, running, connection_id, make_client)
    assert (caught.value.code, caught.value.cause) == ("APP-104", "rate_limited")
    stats = running.stats()
    assert "429" not in stats["by_status"]  # stopped by our pacing, not by Apple's refusal
    assert stats["requests"] <= 11
    with store.connect() as conn:
        run = list_runs(conn)[0]
    assert (run.status, run.error_code) == ("failed", "APP-104")
    assert run.stats.rate_remaining is not None
    assert run.stats.rate_remaining >= 49
    assert snapshot(store, connection_id).count() == 0

    running.set_rate_limit(3600)
    result = await run_sync(store, running, connection_id, make_client)
    assert result.users == 2000


async def test_a_sync_records_the_connections_health(
    store: Engine, connection_id: int, sandbox: Any, make_client: Callable[..., Any]
) -> None:
    from asc_access.store.connections import get_connection

    await run_sync(store, sandbox, connection_id, make_client)
    healthy = get_connection(store, "acme")
    assert healthy.healthy
    assert healthy.last_ok_at is not None
    before = snapshot(store, connection_id)

    async with make_client(sandbox, "developer", retry=FAST_RETRY) as client:
        with pytest.raises(SyncError) as caught:
            await sync_connection(store, client, connection_id)
    assert (caught.value.code, caught.value.cause) == ("APP-102", "key_role_insufficient")
    sick = get_connection(store, "acme")
    assert not sick.healthy
    assert (sick.health_code, sick.health_cause) == ("APP-102", "key_role_insufficient")
    assert sick.last_ok_at == healthy.last_ok_at
    assert snapshot(store, connection_id) == before
