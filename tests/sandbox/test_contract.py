"""Every kind of document the sandbox emits fits Apple's component schemas."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError


async def test_user_documents(asc: Any, contract: Any) -> None:
    seen = set()
    for url in (
        "/v1/users",
        "/v1/users?include=visibleApps&limit[visibleApps]=1&limit=3",
        "/v1/users?fields[users]=username,roles&fields[apps]=name&include=visibleApps",
        "/v1/users?fields[users]=visibleApps&include=visibleApps&fields[apps]=name,bundleId",
    ):
        response = await asc.get(url)
        assert response.status_code == 200
        seen.add(contract.check_response(response, "GET", "/v1/users"))
    user_id = asc.user_id("sofia.rossi")
    response = await asc.get(f"/v1/users/{user_id}?include=visibleApps")
    assert response.status_code == 200
    assert response.json()["included"]
    seen.add(contract.check_response(response, "GET", "/v1/users/{id}"))
    patch = {"data": {"type": "users", "id": user_id, "attributes": {"provisioningAllowed": False}}}
    contract.validate(patch, "UserUpdateRequest")
    response = await asc.send("PATCH", f"/v1/users/{user_id}", patch)
    assert response.status_code == 200
    seen.add(contract.check_response(response, "PATCH", "/v1/users/{id}"))
    response = await asc.get(f"/v1/users/{user_id}/visibleApps")
    seen.add(contract.check_response(response, "GET", "/v1/users/{id}/visibleApps"))
    response = await asc.get(f"/v1/users/{user_id}/visibleApps?fields[apps]=name,sku")
    contract.check_response(response, "GET", "/v1/users/{id}/visibleApps")
    response = await asc.get(f"/v1/users/{user_id}/relationships/visibleApps")
    seen.add(contract.check_response(response, "GET", "/v1/users/{id}/relationships/visibleApps"))
    assert seen == {
        "UsersResponse",
        "UserResponse",
        "AppsWithoutIncludesResponse",
        "UserVisibleAppsLinkagesResponse",
    }


async def test_linkage_writes_answer_no_content(asc: Any, contract: Any) -> None:
    user_id = asc.user_id("kenji.watanabe")
    app_ids = list(asc.model.world.apps)
    body = {"data": [{"type": "apps", "id": app_ids[0]}]}
    contract.validate(body, "UserVisibleAppsLinkagesRequest")
    template = "/v1/users/{id}/relationships/visibleApps"
    for method in ("POST", "PATCH", "DELETE"):
        response = await asc.send(method, f"/v1/users/{user_id}/relationships/visibleApps", body)
        assert response.status_code == 204
        assert contract.check_response(response, method, template) == "(no content)"


async def test_invitation_documents(asc: Any, contract: Any) -> None:
    response = await asc.get("/v1/userInvitations?include=visibleApps")
    assert contract.check_response(response, "GET", "/v1/userInvitations") == (
        "UserInvitationsResponse"
    )
    app_id = next(iter(asc.model.world.apps))
    body = {
        "data": {
            "type": "userInvitations",
            "attributes": {
                "email": "new.person@example.com",
                "firstName": "New",
                "lastName": "Person",
                "roles": ["DEVELOPER"],
                "allAppsVisible": False,
                "provisioningAllowed": True,
            },
            "relationships": {"visibleApps": {"data": [{"type": "apps", "id": app_id}]}},
        }
    }
    contract.validate(body, "UserInvitationCreateRequest")
    response = await asc.send("POST", "/v1/userInvitations", body)
    assert response.status_code == 201
    assert contract.check_response(response, "POST", "/v1/userInvitations") == (
        "UserInvitationResponse"
    )
    invitation_id = response.json()["data"]["id"]
    response = await asc.get(f"/v1/userInvitations/{invitation_id}?include=visibleApps")
    assert contract.check_response(response, "GET", "/v1/userInvitations/{id}") == (
        "UserInvitationResponse"
    )
    response = await asc.get(f"/v1/userInvitations/{invitation_id}/visibleApps")
    assert contract.check_response(response, "GET", "/v1/userInvitations/{id}/visibleApps") == (
        "AppsWithoutIncludesResponse"
    )
    # Outside the subset but in Apple's full spec; same shape as the users' linkages.
    response = await asc.get(f"/v1/userInvitations/{invitation_id}/relationships/visibleApps")
    assert response.json()["data"] == [{"type": "apps", "id": app_id}]
    contract.validate(response.json(), "UserVisibleAppsLinkagesResponse")
    response = await asc.send("DELETE", f"/v1/userInvitations/{invitation_id}")
    assert contract.check_response(response, "DELETE", "/v1/userInvitations/{id}") == (
        "(no content)"
    )


async def test_app_documents(asc: Any, contract: Any) -> None:
    for url in ("/v1/apps", "/v1/apps?fields[apps]=name,bundleId,sku,primaryLocale&sort=-name"):
        response = await asc.get(url, key="developer")
        assert contract.check_response(response, "GET", "/v1/apps") == "AppsResponse"
    app_id = next(iter(asc.model.world.apps))
    for url in (f"/v1/apps/{app_id}", f"/v1/apps/{app_id}?fields[apps]=name,appInfos"):
        response = await asc.get(url)
        assert contract.check_response(response, "GET", "/v1/apps/{id}") == "AppResponse"


async def _error_cases(asc: Any) -> list[tuple[Any, str, str, str]]:
    """(response, method, template, expected code) for every error the sandbox emits."""
    user_id = asc.user_id("kenji.watanabe")
    holder = asc.user_id("ava.thompson")
    admin = asc.user_id("priya.raman")
    existing = asc.model.world.users[user_id].username
    cases: list[tuple[Any, str, str, str]] = []

    async def add(response: Any, method: str, template: str, code: str) -> None:
        cases.append((response, method, template, code))

    await add(await asc.client.get("/v1/users"), "GET", "/v1/users", "NOT_AUTHORIZED")
    await add(await asc.get("/v1/users", "developer"), "GET", "/v1/users", "FORBIDDEN_ERROR")
    await add(await asc.get("/v1/users?limit=500"), "GET", "/v1/users", "PARAMETER_ERROR.INVALID")
    await add(await asc.get("/v1/users?bogus=1"), "GET", "/v1/users", "PARAMETER_ERROR.ILLEGAL")
    await add(await asc.get("/v1/users/nope"), "GET", "/v1/users/{id}", "NOT_FOUND")
    await add(await asc.get("/v1/nothing"), "GET", "/v1/users", "PATH_ERROR")
    await add(await asc.send("PUT", "/v1/users"), "GET", "/v1/users", "METHOD_NOT_ALLOWED")
    patch_url = f"/v1/users/{user_id}"
    await add(
        await asc.client.patch(
            patch_url,
            content=b"{not json",
            headers={**asc.auth(), "content-type": "application/json"},
        ),
        "PATCH",
        "/v1/users/{id}",
        "ENTITY_INVALID",
    )
    await add(
        await asc.send("PATCH", patch_url, {"date": {}}),
        "PATCH",
        "/v1/users/{id}",
        "ENTITY_UNPROCESSABLE",
    )
    await add(
        await asc.send(
            "PATCH",
            f"/v1/users/{holder}",
            {"data": {"type": "users", "id": holder, "attributes": {"roles": ["DEVELOPER"]}}},
        ),
        "PATCH",
        "/v1/users/{id}",
        "ENTITY_ERROR.ATTRIBUTE.INVALID.UNMODIFIABLE",
    )
    await add(
        await asc.send(
            "PATCH",
            f"/v1/users/{admin}",
            {"data": {"type": "users", "id": admin, "attributes": {"allAppsVisible": False}}},
        ),
        "PATCH",
        "/v1/users/{id}",
        "ENTITY_ERROR.ATTRIBUTE.INVALID",
    )
    invite = {
        "data": {
            "type": "userInvitations",
            "attributes": {
                "email": existing,
                "firstName": "K",
                "lastName": "W",
                "roles": ["DEVELOPER"],
            },
        }
    }
    await add(
        await asc.send("POST", "/v1/userInvitations", invite),
        "POST",
        "/v1/userInvitations",
        "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
    )
    await add(
        await asc.send("DELETE", f"/v1/users/{holder}"),
        "DELETE",
        "/v1/users/{id}",
        "STATE_ERROR.ENTITY_STATE_INVALID",
    )
    await add(
        await asc.send(
            "POST",
            f"/v1/users/{user_id}/relationships/visibleApps",
            {"data": [{"type": "apps", "id": "0000000000"}]},
        ),
        "POST",
        "/v1/users/{id}/relationships/visibleApps",
        "ENTITY_ERROR.RELATIONSHIP.INVALID",
    )
    await add(
        await asc.client.post(
            "/v1/userInvitations",
            content=b"a=b",
            headers={**asc.auth(), "content-type": "text/plain"},
        ),
        "POST",
        "/v1/userInvitations",
        "ENTITY_INVALID",
    )
    asc.model.faults.add({"status": 500, "count": 1})
    await add(await asc.get("/v1/apps"), "GET", "/v1/apps", "UNEXPECTED_ERROR")
    asc.model.faults.add({"status": 503, "count": 1})
    await add(await asc.get("/v1/apps"), "GET", "/v1/apps", "SERVICE_UNAVAILABLE")
    asc.model.faults.add({"status": 429, "count": 1})
    await add(await asc.get("/v1/apps"), "GET", "/v1/apps", "RATE_LIMIT_EXCEEDED")
    asc.model.agreements_accepted = False
    await add(
        await asc.get("/v1/apps"),
        "GET",
        "/v1/apps",
        "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
    )
    return cases


async def test_every_error_is_an_error_response(asc: Any, contract: Any) -> None:
    cases = await _error_cases(asc)
    for response, method, template, code in cases:
        contract.check_response(response, method, template)
        body = response.json()
        assert body["errors"][0]["code"] == code, (code, body)
        assert body["errors"][0]["status"] == str(response.status_code)
    assert len({(r.status_code, code) for r, _, _, code in cases}) == len(cases)


def test_closed_schemas_catch_undocumented_fields(contract: Any) -> None:
    """The checker itself must be able to fail."""
    good = {
        "data": {"type": "apps", "id": "1", "attributes": {"name": "x"}},
        "links": {"self": "u"},
    }
    contract.validate(good, "AppResponse")
    bad = {
        "data": {"type": "apps", "id": "1", "attributes": {"colour": "x"}},
        "links": {"self": "u"},
    }
    with pytest.raises(ValidationError):
        contract.validate(bad, "AppResponse")
    with pytest.raises(ValidationError):
        contract.validate(
            {"errors": [{"status": "400", "code": "X", "title": "t"}]}, "ErrorResponse"
        )
