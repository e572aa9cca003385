"""When Apple omits ``meta.paging.total`` on included app lists, the sync stays correct.

The sandbox's ``included-totals`` switch drops the total. A list of fewer than 50
included apps is then still known complete; only a list of exactly 50 (the
include cap) is ambiguous and costs one follow-up read, nothing else does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine
from tests.sync.conftest import add_connection
from tests.sync.test_sync_e2e import run_sync

from asc_access.store.mirror import load_snapshot

CAP = 50


def _give_exactly_full_lists(running: Any, *, members: int) -> None:
    """Restrict ``members`` restricted members to exactly 50 apps (through Apple's API)."""
    with httpx.Client(base_url=running.base_url, headers=running.headers()) as client:
        apps = [a["id"] for a in client.get("/v1/apps?limit=200").json()["data"]][:CAP]
        users = client.get("/v1/users?limit=200&include=visibleApps").json()["data"]
        chosen = [u["id"] for u in users if not u["attributes"]["allAppsVisible"]][:members]
        for user_id in chosen:
            body = {"data": [{"type": "apps", "id": a} for a in apps]}
            client.patch(
                f"/v1/users/{user_id}/relationships/visibleApps", json=body
            ).raise_for_status()


def test_the_switch_drops_the_total_and_only_the_total(sandbox: Any) -> None:
    url = f"{sandbox.base_url}/v1/users?include=visibleApps&limit=200"
    with httpx.Client(headers=sandbox.headers()) as client:
        before = client.get(url).json()
        sandbox._call("POST", "included-totals", {"omit": True})
        after = client.get(url).json()
        sandbox._call("POST", "included-totals", {"omit": False})
        again = client.get(url).json()
    restricted = [
        i for i, u in enumerate(before["data"]) if "data" in u["relationships"]["visibleApps"]
    ]
    assert restricted
    for i in restricted:
        had = before["data"][i]["relationships"]["visibleApps"]
        has = after["data"][i]["relationships"]["visibleApps"]
        assert "total" in had["meta"]["paging"]
        assert "total" not in has["meta"]["paging"]
        assert has["data"] == had["data"]
        assert again["data"][i]["relationships"]["visibleApps"] == had
    assert after["meta"]["paging"]["total"] == before["meta"]["paging"]["total"]


async def test_without_totals_the_mirror_is_the_same_and_only_full_lists_cost_more(
    store: Engine, sandbox_factory: Any, make_client: Callable[..., Any]
) -> None:
    running = sandbox_factory(users=450, apps=130, invitations=210, random_seed=5)
    _give_exactly_full_lists(running, members=2)
    with_totals = add_connection(store, "with-totals")
    without = add_connection(store, "without-totals")

    running.reset_stats()
    told = await run_sync(store, running, with_totals, make_client)
    told_requests = running.stats()["requests"]

    running._call("POST", "included-totals", {"omit": True})
    running.reset_stats()
    guessed = await run_sync(store, running, without, make_client)
    guessed_requests = running.stats()["requests"]

    with store.connect() as conn:
        a, b = load_snapshot(conn, with_totals), load_snapshot(conn, without)
    assert {u.user_id: (u.roles, u.app_ids) for u in a.users.values()} == {
        u.user_id: (u.roles, u.app_ids) for u in b.users.values()
    }
    assert {i.invitation_id: i.app_ids for i in a.invitations.values()} == {
        i.invitation_id: i.app_ids for i in b.invitations.values()
    }
    # The only extra reads: people whose included list was exactly full (50 of exactly 50).
    exactly_full = sum(
        1 for u in a.users.values() if not u.all_apps_visible and len(u.app_ids) == CAP
    ) + sum(1 for i in a.invitations.values() if not i.all_apps_visible and len(i.app_ids) == CAP)
    assert exactly_full >= 2
    assert guessed_requests == told_requests + exactly_full
    assert guessed.requests_used == guessed_requests
    assert told.requests_used == told_requests == told.lower_bound
