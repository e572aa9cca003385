"""Paging, sorting, filters, sparse fields and include caps."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

SORTS = {
    "/v1/users": ["username", "-username", "lastName", "-lastName", "lastName,-username"],
    "/v1/userInvitations": ["email", "-email", "lastName", "-lastName"],
    "/v1/apps": ["name", "-name", "bundleId", "-bundleId", "sku", "-sku"],
}


def _ids(pages: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for page in pages for item in page["data"]]


@pytest.mark.parametrize("path", sorted(SORTS))
async def test_follow_next_to_the_end_under_every_sort(asc_big: Any, path: str) -> None:
    world = asc_big.model.world
    expected = {
        "/v1/users": set(world.users),
        "/v1/userInvitations": set(world.invitations),
        "/v1/apps": set(world.apps),
    }[path]
    for sort in [None, *SORTS[path]]:
        url = f"{path}?limit=37" + (f"&sort={sort}" if sort else "")
        pages = await asc_big.all_pages(url)
        ids = _ids(pages)
        assert len(ids) == len(set(ids)), f"duplicates under sort={sort}"
        assert set(ids) == expected, f"gaps under sort={sort}"
        assert all(p["meta"]["paging"]["total"] == len(expected) for p in pages)
        assert all(p["meta"]["paging"]["limit"] == 37 for p in pages)
        assert len(pages) == -(-len(expected) // 37)
        assert "next" not in pages[-1]["links"]
        again = _ids(await asc_big.all_pages(url))
        assert again == ids, f"order not stable under sort={sort}"


async def test_sort_orders(asc_big: Any) -> None:
    pages = await asc_big.all_pages("/v1/users?sort=-username&limit=200&fields[users]=username")
    names = [u["attributes"]["username"] for p in pages for u in p["data"]]
    assert names == sorted(names, key=str.casefold, reverse=True)
    pages = await asc_big.all_pages("/v1/users?sort=lastName,-username&limit=200")
    rows = [
        (u["attributes"]["lastName"], u["attributes"]["username"]) for p in pages for u in p["data"]
    ]
    for (last_a, user_a), (last_b, user_b) in itertools.pairwise(rows):
        assert last_a.casefold() <= last_b.casefold()
        if last_a == last_b:
            assert user_a.casefold() >= user_b.casefold()
    pages = await asc_big.all_pages("/v1/apps?sort=sku&limit=200&fields[apps]=sku")
    skus = [a["attributes"]["sku"] for p in pages for a in p["data"]]
    assert skus == sorted(skus)


async def test_links_are_absolute_and_next_has_an_opaque_cursor(asc_big: Any) -> None:
    response = await asc_big.get("/v1/users?filter[roles]=DEVELOPER&limit=10")
    document = response.json()
    assert document["links"]["self"] == (
        "http://sandbox.test/v1/users?filter[roles]=DEVELOPER&limit=10"
    )
    following = urlsplit(document["links"]["next"])
    assert following.scheme == "http"
    assert following.netloc == "sandbox.test"
    query = parse_qs(following.query)
    assert query["limit"] == ["10"]
    assert query["filter[roles]"] == ["DEVELOPER"]
    assert query["cursor"][0].isascii()
    assert "offset" not in following.query
    for user in document["data"]:
        assert user["links"]["self"] == f"http://sandbox.test/v1/users/{user['id']}"


async def test_default_and_maximum_page_sizes(asc_big: Any) -> None:
    document = (await asc_big.get("/v1/users")).json()
    assert len(document["data"]) == 50
    assert document["meta"]["paging"] == {"total": 1200, "limit": 50}
    document = (await asc_big.get("/v1/users?limit=200")).json()
    assert len(document["data"]) == 200
    for bad in ("201", "0", "-1", "ten"):
        response = await asc_big.get(f"/v1/users?limit={bad}")
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["code"] == "PARAMETER_ERROR.INVALID"
        assert error["source"] == {"parameter": "limit"}


async def test_include_caps_and_true_totals(asc_big: Any) -> None:
    world = asc_big.model.world
    wide = [u for u in world.users.values() if len(u.visible_app_ids) > 50]
    assert len(wide) >= 2
    user = wide[0]
    document = (
        await asc_big.get(f"/v1/users/{user.id}?include=visibleApps&limit[visibleApps]=50")
    ).json()
    relationship = document["data"]["relationships"]["visibleApps"]
    assert len(relationship["data"]) == 50
    assert relationship["meta"]["paging"] == {"total": len(user.visible_app_ids), "limit": 50}
    assert {a["id"] for a in document["included"]} == {d["id"] for d in relationship["data"]}
    response = await asc_big.get(f"/v1/users/{user.id}?include=visibleApps&limit[visibleApps]=51")
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "limit[visibleApps]"}
    linkages = await asc_big.all_pages(f"/v1/users/{user.id}/relationships/visibleApps?limit=200")
    assert _ids(linkages) == user.visible_app_ids
    related = await asc_big.all_pages(f"/v1/users/{user.id}/visibleApps?limit=20")
    assert _ids(related) == user.visible_app_ids
    assert related[0]["meta"]["paging"]["total"] == len(user.visible_app_ids)


async def test_include_on_lists_deduplicates_included_apps(asc_big: Any) -> None:
    document = (
        await asc_big.get("/v1/users?include=visibleApps&limit=200&limit[visibleApps]=50")
    ).json()
    included = [a["id"] for a in document["included"]]
    assert len(included) == len(set(included))
    referenced = {
        d["id"] for u in document["data"] for d in u["relationships"]["visibleApps"]["data"]
    }
    assert referenced == set(included)
    for user in document["data"]:
        record = asc_big.model.world.users[user["id"]]
        relationship = user["relationships"]["visibleApps"]
        assert relationship["meta"]["paging"]["total"] == len(record.visible_app_ids)
        assert len(relationship["data"]) == min(50, len(record.visible_app_ids))
    plain = (await asc_big.get("/v1/users?limit=5")).json()
    assert "included" not in plain
    assert "data" not in plain["data"][0]["relationships"]["visibleApps"]


async def test_user_filters(asc_big: Any) -> None:
    world = asc_big.model.world
    pages = await asc_big.all_pages("/v1/users?filter[roles]=ADMIN,FINANCE&limit=200")
    expected = {u.id for u in world.users.values() if {"ADMIN", "FINANCE"} & set(u.roles)}
    assert set(_ids(pages)) == expected
    someone = next(iter(world.users.values()))
    document = (await asc_big.get(f"/v1/users?filter[username]={someone.username.upper()}")).json()
    assert _ids([document]) == [someone.id]
    app_id = next(iter(world.apps))
    pages = await asc_big.all_pages(f"/v1/users?filter[visibleApps]={app_id}&limit=200")
    assert set(_ids(pages)) == {u.id for u in world.users.values() if app_id in u.visible_app_ids}
    assert _ids([(await asc_big.get("/v1/users?filter[username]=nobody@x.com")).json()]) == []


async def test_invitation_filters(asc_big: Any) -> None:
    world = asc_big.model.world
    invitation = next(iter(world.invitations.values()))
    document = (await asc_big.get(f"/v1/userInvitations?filter[email]={invitation.email}")).json()
    assert _ids([document]) == [invitation.id]
    pages = await asc_big.all_pages("/v1/userInvitations?filter[roles]=DEVELOPER&limit=200")
    expected = {i.id for i in world.invitations.values() if "DEVELOPER" in i.roles}
    assert set(_ids(pages)) == expected
    restricted = next(i for i in world.invitations.values() if i.visible_app_ids)
    app_id = restricted.visible_app_ids[0]
    pages = await asc_big.all_pages(f"/v1/userInvitations?filter[visibleApps]={app_id}")
    assert restricted.id in _ids(pages)


async def test_app_filters(asc_big: Any) -> None:
    world = asc_big.model.world
    apps = list(world.apps.values())[:3]
    ids = ",".join(a.id for a in apps)
    assert set(_ids([(await asc_big.get(f"/v1/apps?filter[id]={ids}")).json()])) == {
        a.id for a in apps
    }
    for name, value in (("bundleId", apps[0].bundle_id), ("sku", apps[0].sku)):
        document = (await asc_big.get(f"/v1/apps?filter[{name}]={value}")).json()
        assert _ids([document]) == [apps[0].id]
    document = (await asc_big.get("/v1/apps", params={"filter[name]": apps[0].name})).json()
    assert apps[0].id in _ids([document])


async def test_sparse_fields(asc: Any) -> None:
    document = (await asc.get("/v1/users?fields[users]=username,roles")).json()
    for user in document["data"]:
        assert set(user["attributes"]) == {"username", "roles"}
        assert "relationships" not in user
    document = (
        await asc.get(
            "/v1/users?fields[users]=username,visibleApps&include=visibleApps&fields[apps]=name"
        )
    ).json()
    assert all(set(a["attributes"]) == {"name"} for a in document["included"])
    assert all("relationships" not in a for a in document["included"])
    assert all("visibleApps" in u["relationships"] for u in document["data"])
    document = (await asc.get("/v1/apps?fields[apps]=name,bundleId,sku,primaryLocale")).json()
    for app in document["data"]:
        assert set(app["attributes"]) == {"name", "bundleId", "sku", "primaryLocale"}
        assert "relationships" not in app
    full = (await asc.get("/v1/apps?limit=1")).json()["data"][0]
    assert len(full["relationships"]) > 30
    document = (await asc.get("/v1/userInvitations?fields[userInvitations]=email")).json()
    assert all(set(i["attributes"]) == {"email"} for i in document["data"])
