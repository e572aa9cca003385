"""Parameter errors: Apple's 400 PARAMETER_ERROR.* documents naming the parameter."""

from __future__ import annotations

from typing import Any

import pytest

INVALID = "PARAMETER_ERROR.INVALID"
ILLEGAL = "PARAMETER_ERROR.ILLEGAL"


@pytest.mark.parametrize(
    ("url", "code", "parameter"),
    [
        ("/v1/users?filter[emaill]=x", INVALID, "filter[emaill]"),
        ("/v1/users?filter[roles]=WIZARD", INVALID, "filter[roles]"),
        ("/v1/users?filter[username]=", INVALID, "filter[username]"),
        ("/v1/users?sort=email", INVALID, "sort"),
        ("/v1/users?sort=--username", INVALID, "sort"),
        ("/v1/users?fields[users]=email", INVALID, "fields[users]"),
        ("/v1/users?fields[apps]=colour", INVALID, "fields[apps]"),
        ("/v1/users?fields[builds]=version", INVALID, "fields[builds]"),
        ("/v1/users?include=apps", INVALID, "include"),
        ("/v1/users?limit=abc", INVALID, "limit"),
        ("/v1/users?limit=201", INVALID, "limit"),
        ("/v1/users?limit[visibleApps]=51", INVALID, "limit[visibleApps]"),
        ("/v1/users?limit[apps]=5", INVALID, "limit[apps]"),
        ("/v1/users?cursor=!!!", INVALID, "cursor"),
        ("/v1/users?offset=50", ILLEGAL, "offset"),
        ("/v1/userInvitations?filter[username]=x", INVALID, "filter[username]"),
        ("/v1/userInvitations?sort=username", INVALID, "sort"),
        (
            "/v1/userInvitations?fields[userInvitations]=username",
            INVALID,
            "fields[userInvitations]",
        ),
        ("/v1/apps?filter[platform]=IOS", INVALID, "filter[platform]"),
        ("/v1/apps?sort=id", INVALID, "sort"),
        ("/v1/apps?limit=1000", INVALID, "limit"),
        ("/v1/apps?include=builds", ILLEGAL, "include"),
        (
            "/v1/apps?filter[appStoreVersions.platform]=IOS",
            ILLEGAL,
            "filter[appStoreVersions.platform]",
        ),
        ("/v1/users/ID?limit=5", ILLEGAL, "limit"),
        ("/v1/users/ID?filter[roles]=ADMIN", ILLEGAL, "filter[roles]"),
        ("/v1/users/ID?sort=username", ILLEGAL, "sort"),
        ("/v1/users/ID/visibleApps?include=visibleApps", ILLEGAL, "include"),
        ("/v1/users/ID/relationships/visibleApps?fields[apps]=name", ILLEGAL, "fields[apps]"),
        ("/v1/apps/APP?limit=5", ILLEGAL, "limit"),
    ],
)
async def test_parameter_errors(asc: Any, url: str, code: str, parameter: str) -> None:
    url = url.replace("ID", asc.user_id("sofia.rossi")).replace(
        "APP", next(iter(asc.model.world.apps))
    )
    response = await asc.get(url)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == code
    assert error["source"] == {"parameter": parameter}
    assert error["status"] == "400"
    assert error["title"]
    assert error["detail"]


async def test_apples_own_example_detail(asc: Any) -> None:
    error = (await asc.get("/v1/users?filter[emaill]=x")).json()["errors"][0]
    assert error["title"] == "A parameter has an invalid value"
    assert error["detail"] == "'emaill' is not a valid filter type"


async def test_write_with_query_parameters_is_illegal(asc: Any) -> None:
    user_id = asc.user_id("kenji.watanabe")
    response = await asc.send("DELETE", f"/v1/users/{user_id}?include=visibleApps")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == ILLEGAL
    assert user_id in asc.model.world.users


async def test_valid_parameters_pass(asc: Any) -> None:
    user_id = asc.user_id("sofia.rossi")
    for url in (
        (
            "/v1/users?filter[roles]=ADMIN,DEVELOPER&sort=-lastName&limit=200&include=visibleApps"
            "&limit[visibleApps]=50&fields[users]=username,visibleApps&fields[apps]=name"
        ),
        f"/v1/users/{user_id}?include=visibleApps&limit[visibleApps]=1&fields[users]=roles",
        f"/v1/users/{user_id}/visibleApps?limit=1&fields[apps]=bundleId",
        f"/v1/users/{user_id}/relationships/visibleApps?limit=1",
        "/v1/userInvitations?filter[email]=a@b.c&sort=email&include=visibleApps",
        "/v1/apps?filter[bundleId]=com.northwindlabs.weather&sort=-bundleId&fields[apps]=name",
    ):
        response = await asc.get(url)
        assert response.status_code == 200, (url, response.text)
