"""Reading a team through the real client, over real HTTP, from the sandbox's demo team."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asc_access.errors import ResourceNotFoundError, UnexpectedResponseError
from asc_access.models import Role

DOMAIN = "northwindlabs.example.com"


async def test_users_page_by_page_with_included_apps(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox)
    pages = [p async for p in client.users.pages(limit=5, include_visible_apps=True)]
    assert [len(p.items) for p in pages] == [5, 5, 2]
    assert all(p.total == 12 for p in pages)
    users = [u for p in pages for u in p.items]
    assert len({u.id for u in users}) == 12
    sofia = next(u for u in users if u.username == f"sofia.rossi@{DOMAIN}")
    assert sofia.roles == ("DEVELOPER",)
    assert not sofia.all_apps_visible
    assert sofia.visible_app_ids is not None
    assert len(sofia.visible_app_ids) == 2
    included = {app_id: app for p in pages for app_id, app in p.included_apps.items()}
    assert {included[i].bundle_id for i in sofia.visible_app_ids} == {
        "com.northwindlabs.weather",
        "com.northwindlabs.trailmix",
    }
    assert client.request_count == 3
    assert sandbox.stats()["requests"] == 3


async def test_a_capped_visible_apps_list_is_flagged_and_read_in_full(
    sandbox: Any, connect: Any
) -> None:
    client = connect(sandbox)
    omar = await client.users.list(username=f"omar.haddad@{DOMAIN}", include_visible_apps=True)
    assert len(omar) == 1
    assert not omar[0].visible_apps_capped
    capped = await client.users.get(omar[0].id, include_visible_apps=True, visible_apps_limit=1)
    assert capped.visible_app_ids is not None
    assert len(capped.visible_app_ids) == 1
    assert capped.visible_apps_total == 3
    assert capped.visible_apps_capped
    ids = await client.users.visible_app_ids(omar[0].id)
    apps = await client.users.visible_apps(omar[0].id)
    assert sorted(ids) == sorted(a.id for a in apps)
    assert {a.name for a in apps} == {"Lumen Reader", "Tidepool", "Northwind Studio"}


async def test_filters_and_sorting(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox)
    admins = await client.users.list(roles=[Role.ADMIN], sort="lastName")
    assert [u.last_name for u in admins] == ["Okafor", "Raman", "Thompson"]
    devs_and_sales = await client.users.list(roles=["DEVELOPER", "SALES"], sort="-username")
    assert [u.username for u in devs_and_sales] == sorted(
        (u.username for u in devs_and_sales), reverse=True
    )
    assert len(devs_and_sales) == 5
    apps = await client.apps.list(sort="-name")
    assert [a.name for a in apps] == sorted((a.name for a in apps), reverse=True)
    weather = await client.apps.list(bundle_ids=["com.northwindlabs.weather"])
    assert [a.sku for a in weather] == ["NW-WEATHER"]
    seeing_weather = await client.users.list(visible_app_ids=[weather[0].id])
    assert {u.first_name for u in seeing_weather} >= {"Sofia", "Noah"}
    assert await client.apps.get(weather[0].id) == weather[0]


async def test_invitations(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox)
    invitations = await client.invitations.list(include_visible_apps=True, sort="email")
    assert [i.first_name for i in invitations] == ["Ella", "Lucas"]
    ella = invitations[0]
    assert ella.expiration_date is not None
    assert ella.expiration_date.tzinfo is not None
    assert not ella.is_expired(datetime.now(UTC))
    assert ella.visible_app_ids is not None
    assert [a.name for a in await client.invitations.visible_apps(ella.id)] == ["Tidepool"]
    assert (await client.invitations.get(ella.id)).email == ella.email


async def test_independent_reads_run_concurrently(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox, max_concurrency=3)
    users, apps, invitations = await asyncio.gather(
        client.users.list(limit=4), client.apps.list(limit=2), client.invitations.list(limit=1)
    )
    assert (len(users), len(apps), len(invitations)) == (12, 6, 2)
    assert client.request_count == 3 + 3 + 2 == sandbox.stats()["requests"]


async def test_facts_of_every_response(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox)
    await client.apps.list()
    first = client.rate_limit
    assert first is not None
    assert first.limit == 3600
    await client.apps.list()
    assert client.rate_limit is not None
    assert client.rate_limit.remaining == (first.remaining or 0) - 1
    info = client.last_response
    assert info is not None
    assert (info.method, info.path, info.status) == ("GET", "/v1/apps", 200)
    assert info.request_id
    assert client.server_date is not None
    assert abs(client.server_date - datetime.now(UTC)) < timedelta(seconds=30)


async def test_server_date_follows_apples_clock(sandbox: Any, connect: Any) -> None:
    sandbox.set_clock_offset(45)
    client = connect(sandbox)
    await client.apps.list(limit=1)
    assert client.server_date is not None
    skew = (client.server_date - datetime.now(UTC)).total_seconds()
    assert 30 < skew < 60


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.users.get("00000000-0000-0000-0000-000000000000"),
        lambda c: c.apps.get("9999999999"),
        lambda c: c.invitations.get("no-such-invitation"),
    ],
)
async def test_unknown_ids(sandbox: Any, connect: Any, call: Any) -> None:
    client = connect(sandbox)
    with pytest.raises(ResourceNotFoundError) as caught:
        await call(client)
    assert caught.value.apple_code == "NOT_FOUND"
    assert caught.value.request_id


async def test_an_unknown_path_is_not_a_missing_resource(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox, base_url=sandbox.base_url + "/not-apple")
    with pytest.raises(UnexpectedResponseError) as caught:
        await client.apps.list()
    assert caught.value.apple_code == "PATH_ERROR"
    assert caught.value.code == "APP-107"
