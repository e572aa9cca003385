"""Apple's rules: invitations, duplicates, expiry, restrictable roles, the Account Holder,
and the errors for unknown ids, paths, methods and bad bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest


def invitation(
    email: str, roles: list[str], apps: list[str] | None = None, **attrs: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "userInvitations",
        "attributes": {
            "email": email,
            "firstName": "Test",
            "lastName": "Person",
            "roles": roles,
            **attrs,
        },
    }
    if apps is not None:
        data["relationships"] = {"visibleApps": {"data": [{"type": "apps", "id": a} for a in apps]}}
    return {"data": data}


def user_patch(user_id: str, apps: list[str] | None = None, **attrs: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "users", "id": user_id, "attributes": attrs}
    if apps is not None:
        data["relationships"] = {"visibleApps": {"data": [{"type": "apps", "id": a} for a in apps]}}
    return {"data": data}


def error_of(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["errors"][0]
    return error


def _apps(asc: Any) -> list[str]:
    return list(asc.model.world.apps)


async def test_invite_then_accept_makes_a_user_with_a_new_id(asc: Any) -> None:
    apps = _apps(asc)[:2]
    response = await asc.send(
        "POST",
        "/v1/userInvitations",
        invitation("Zoe.New@Example.com", ["DEVELOPER"], apps, allAppsVisible=False),
    )
    assert response.status_code == 201
    created = response.json()["data"]
    assert response.headers["location"] == f"http://sandbox.test/v1/userInvitations/{created['id']}"
    expires = datetime.strptime(created["attributes"]["expirationDate"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert expires == datetime.fromtimestamp(asc.time.value, tz=UTC) + timedelta(days=3)
    accepted = await asc.client.post(f"/_sandbox/userInvitations/{created['id']}/accept")
    assert accepted.status_code == 200
    user_id = accepted.json()["user_id"]
    assert user_id != created["id"]
    assert (await asc.get(f"/v1/userInvitations/{created['id']}")).status_code == 404
    user = (await asc.get(f"/v1/users/{user_id}?include=visibleApps")).json()["data"]
    assert user["attributes"]["username"] == "Zoe.New@Example.com"
    assert user["attributes"]["roles"] == ["DEVELOPER"]
    assert user["attributes"]["allAppsVisible"] is False
    assert sorted(d["id"] for d in user["relationships"]["visibleApps"]["data"]) == sorted(apps)


async def test_one_member_or_pending_invitation_per_email(asc: Any) -> None:
    member = asc.model.world.users[asc.user_id("kenji.watanabe")].username
    pending = next(
        i for i in asc.model.world.invitations.values() if not asc.model.world.is_expired(i)
    )
    for email in (member.upper(), pending.email):
        response = await asc.send("POST", "/v1/userInvitations", invitation(email, ["DEVELOPER"]))
        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"
        assert error["source"] == {"pointer": "/data/attributes/email"}
    assert len(asc.model.world.invitations) == 2


async def test_invitations_expire_after_three_days_and_can_be_sent_again(asc: Any) -> None:
    response = await asc.send(
        "POST", "/v1/userInvitations", invitation("late@example.com", ["MARKETING"])
    )
    invitation_id = response.json()["data"]["id"]
    asc.time.value += 3 * 24 * 3600 - 1
    assert (
        await asc.client.post(f"/_sandbox/userInvitations/{invitation_id}/accept")
    ).status_code == 200
    response = await asc.send(
        "POST", "/v1/userInvitations", invitation("later@example.com", ["MARKETING"])
    )
    later = response.json()["data"]["id"]
    asc.time.value += 3 * 24 * 3600
    refused = await asc.client.post(f"/_sandbox/userInvitations/{later}/accept")
    assert refused.status_code == 409
    listed = (await asc.get("/v1/userInvitations?filter[email]=later@example.com")).json()
    assert [i["id"] for i in listed["data"]] == [later]
    again = await asc.send(
        "POST", "/v1/userInvitations", invitation("later@example.com", ["MARKETING"])
    )
    assert again.status_code == 201
    listed = (await asc.get("/v1/userInvitations?filter[email]=later@example.com")).json()
    assert [i["id"] for i in listed["data"]] == [again.json()["data"]["id"]]


async def test_demo_has_one_pending_and_one_expired_invitation(asc: Any) -> None:
    document = (await asc.get("/v1/userInvitations")).json()
    now = datetime.fromtimestamp(asc.time.value, tz=UTC)
    dates = sorted(
        datetime.strptime(i["attributes"]["expirationDate"], "%Y-%m-%dT%H:%M:%S.%f%z")
        for i in document["data"]
    )
    assert len(dates) == 2
    assert dates[0] < now < dates[1]


async def test_clock_offset_moves_expiry_and_date_header(asc: Any) -> None:
    response = await asc.client.post("/_sandbox/clock", json={"offset_seconds": 4 * 24 * 3600})
    assert response.status_code == 200
    pending = next(iter(asc.model.world.invitations))
    assert (await asc.client.post(f"/_sandbox/userInvitations/{pending}/accept")).status_code == 409
    response = await asc.get("/v1/apps")  # tokens minted from the sandbox's own clock still work
    served = parsedate_to_datetime(response.headers["date"]).timestamp()
    assert abs(served - asc.model.clock.now()) < 2
    assert served - asc.time.value > 4 * 24 * 3600 - 2
    stale = asc.token("admin", now=asc.time.value)  # minted by a client whose clock is behind
    response = await asc.client.get("/v1/apps", headers={"Authorization": f"Bearer {stale}"})
    assert response.status_code == 401


@pytest.mark.parametrize("roles", [["ADMIN"], ["FINANCE"], ["SALES", "ACCESS_TO_REPORTS"]])
async def test_app_access_cannot_be_limited_for_all_apps_roles(asc: Any, roles: list[str]) -> None:
    body = invitation("limited@example.com", roles, allAppsVisible=False)
    response = await asc.send("POST", "/v1/userInvitations", body)
    assert response.status_code == 409
    assert error_of(response)["source"] == {"pointer": "/data/attributes/allAppsVisible"}
    admin = asc.user_id("marcus.okafor")
    response = await asc.send(
        "PATCH", f"/v1/users/{admin}", user_patch(admin, allAppsVisible=False)
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID"


async def test_restricting_and_widening_a_member(asc: Any) -> None:
    hannah = asc.user_id("hannah.becker")
    apps = _apps(asc)[:3]
    response = await asc.send(
        "PATCH", f"/v1/users/{hannah}", user_patch(hannah, apps, allAppsVisible=False)
    )
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["allAppsVisible"] is False
    linkages = (await asc.get(f"/v1/users/{hannah}/relationships/visibleApps")).json()
    assert [d["id"] for d in linkages["data"]] == apps
    response = await asc.send("PATCH", f"/v1/users/{hannah}", user_patch(hannah, roles=["ADMIN"]))
    assert response.json()["data"]["attributes"]["allAppsVisible"] is True
    assert (await asc.get(f"/v1/users/{hannah}/relationships/visibleApps")).json()["data"] == []


async def test_linkage_add_replace_remove(asc: Any) -> None:
    kenji = asc.user_id("kenji.watanabe")
    url = f"/v1/users/{kenji}/relationships/visibleApps"
    before = asc.model.world.users[kenji].visible_app_ids
    apps = _apps(asc)

    def body(ids: list[str]) -> dict[str, Any]:
        return {"data": [{"type": "apps", "id": i} for i in ids]}

    assert (await asc.send("POST", url, body(apps[4:6]))).status_code == 204
    assert set(asc.model.world.users[kenji].visible_app_ids) == set(before) | set(apps[4:6])
    assert (await asc.send("DELETE", url, body(apps[4:5]))).status_code == 204
    assert set(asc.model.world.users[kenji].visible_app_ids) == set(before) | {apps[5]}
    assert (await asc.send("PATCH", url, body([apps[0]]))).status_code == 204
    assert asc.model.world.users[kenji].visible_app_ids == [apps[0]]
    everyone = asc.user_id("hannah.becker")
    response = await asc.send(
        "POST", f"/v1/users/{everyone}/relationships/visibleApps", body(apps[:1])
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "ENTITY_ERROR.RELATIONSHIP.INVALID"


async def test_account_holder_cannot_be_removed_or_changed(asc: Any) -> None:
    holder = asc.user_id("ava.thompson")
    response = await asc.send("DELETE", f"/v1/users/{holder}")
    assert response.status_code == 409
    assert error_of(response)["code"] == "STATE_ERROR.ENTITY_STATE_INVALID"
    for patch in (
        user_patch(holder, roles=["ADMIN"]),
        user_patch(holder, provisioningAllowed=False),
    ):
        response = await asc.send("PATCH", f"/v1/users/{holder}", patch)
        assert response.status_code == 409
        assert error_of(response)["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID.UNMODIFIABLE"
        assert error_of(response)["source"]["pointer"].startswith("/data/attributes/")
    response = await asc.send(
        "POST",
        f"/v1/users/{holder}/relationships/visibleApps",
        {"data": [{"type": "apps", "id": _apps(asc)[0]}]},
    )
    assert response.status_code == 409
    assert asc.model.world.users[holder].roles == ["ACCOUNT_HOLDER", "ADMIN"]
    body = invitation("second.holder@example.com", ["ACCOUNT_HOLDER"])
    assert (await asc.send("POST", "/v1/userInvitations", body)).status_code == 409


async def test_delete_user_and_cancel_invitation(asc: Any) -> None:
    kenji = asc.user_id("kenji.watanabe")
    assert (await asc.send("DELETE", f"/v1/users/{kenji}")).status_code == 204
    response = await asc.get(f"/v1/users/{kenji}")
    assert response.status_code == 404
    assert error_of(response)["detail"] == f"There is no resource of type 'users' with id '{kenji}'"
    assert (await asc.send("DELETE", f"/v1/users/{kenji}")).status_code == 404
    pending = next(iter(asc.model.world.invitations))
    assert (await asc.send("DELETE", f"/v1/userInvitations/{pending}")).status_code == 204
    assert (await asc.send("DELETE", f"/v1/userInvitations/{pending}")).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/v1/users/nope",
        "/v1/users/nope/visibleApps",
        "/v1/users/nope/relationships/visibleApps",
        "/v1/userInvitations/nope",
        "/v1/userInvitations/nope/visibleApps",
        "/v1/apps/nope",
    ],
)
async def test_unknown_ids_are_not_found(asc: Any, url: str) -> None:
    response = await asc.get(url)
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"
    assert error_of(response)["title"] == "The specified resource does not exist"


async def test_unknown_paths_and_methods(asc: Any) -> None:
    for url in ("/v1/user", "/v2/users", "/v1/users/x/y", "/"):
        response = await asc.get(url)
        assert response.status_code == 404, url
        assert error_of(response)["code"] == "PATH_ERROR"
    for method, url in (
        ("POST", "/v1/users"),
        ("PUT", "/v1/apps"),
        ("PATCH", "/v1/userInvitations/x"),
    ):
        response = await asc.send(method, url, {})
        assert response.status_code == 405
        assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"


async def test_bad_bodies(asc: Any) -> None:
    kenji = asc.user_id("kenji.watanabe")
    url = f"/v1/users/{kenji}"
    raw = await asc.client.patch(
        url, content=b"{", headers={**asc.auth(), "content-type": "application/json"}
    )
    assert (raw.status_code, error_of(raw)["code"]) == (400, "ENTITY_INVALID")
    wrong_media = await asc.client.patch(
        url, content=b"{}", headers={**asc.auth(), "content-type": "text/plain"}
    )
    assert wrong_media.status_code == 415
    cases = [
        ({"dta": {}}, 422, "ENTITY_UNPROCESSABLE"),
        ({"data": {"type": "user", "id": kenji}}, 422, "ENTITY_UNPROCESSABLE"),
        ({"data": {"type": "users", "id": kenji, "attribute": {}}}, 422, "ENTITY_UNPROCESSABLE"),
        (user_patch(kenji, roles="DEVELOPER"), 422, "ENTITY_UNPROCESSABLE"),
        (user_patch(kenji, allAppsVisible="yes"), 422, "ENTITY_UNPROCESSABLE"),
        (user_patch(kenji, roles=["WIZARD"]), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID"),
        (user_patch(kenji, roles=[]), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID"),
        (user_patch(kenji, username="x@y.z"), 409, "ENTITY_ERROR.ATTRIBUTE.UNKNOWN"),
        (user_patch("someone-else", roles=["DEVELOPER"]), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID"),
        (user_patch(kenji, ["0000000001"]), 409, "ENTITY_ERROR.RELATIONSHIP.INVALID"),
    ]
    for body, status, code in cases:
        response = await asc.send("PATCH", url, body)
        assert (response.status_code, error_of(response)["code"]) == (status, code), body
    assert asc.model.world.users[kenji].roles == ["DEVELOPER"]
    invites = [
        (invitation("not-an-email", ["DEVELOPER"]), 409, "/data/attributes/email"),
        (
            {"data": {"type": "userInvitations", "attributes": {"email": "a@b.co"}}},
            409,
            "/data/attributes/firstName",
        ),
        (
            invitation("a@b.co", ["DEVELOPER"], ["0000000001"], allAppsVisible=False),
            409,
            "/data/relationships/visibleApps",
        ),
        (
            invitation("a@b.co", ["DEVELOPER"], _apps(asc)[:1], allAppsVisible=True),
            409,
            "/data/relationships/visibleApps",
        ),
        ({"data": {"type": "userInvitations", "id": "x", "attributes": {}}}, 422, "/data/id"),
    ]
    for body, status, pointer in invites:
        response = await asc.send("POST", "/v1/userInvitations", body)
        assert response.status_code == status, body
        assert error_of(response)["source"] == {"pointer": pointer}
    bad_linkage = {"data": [{"type": "users", "id": kenji}]}
    response = await asc.send("POST", f"{url}/relationships/visibleApps", bad_linkage)
    assert (response.status_code, error_of(response)["code"]) == (422, "ENTITY_UNPROCESSABLE")


async def test_unacceptable_accept_header(asc: Any) -> None:
    response = await asc.client.get("/v1/apps", headers={**asc.auth(), "accept": "text/html"})
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("text/plain")
