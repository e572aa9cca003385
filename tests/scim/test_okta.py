"""Okta's provisioning sequence over real HTTP, its effect read back from the sandbox team."""

from __future__ import annotations

from typing import Any

from scim.conftest import ASC, CORE, DOMAIN, ERROR, PATCH, Bridge, cli_json, scim_json

NEW = "noor.haddad@example.org"
CUSTOM = "urn:okta:northwind:1.0:User"


def _okta_user(email: str, roles: list[str], apps: list[str]) -> dict[str, Any]:
    return {
        "schemas": [CORE, ASC, CUSTOM],
        "userName": email,
        "name": {"givenName": "Noor", "familyName": "Haddad"},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": "Noor Haddad",
        "locale": "en-US",
        "externalId": "00u1abcd",
        "groups": [],
        "password": None,
        "active": True,
        ASC: {"roles": roles, "allAppsVisible": False, "visibleApps": apps},
        CUSTOM: {"costCenter": "R&D-42"},
    }


def _lookup(bridge: Bridge, email: str) -> dict[str, Any]:
    return scim_json(
        bridge.scim.get(
            "/Users", params={"filter": f'userName eq "{email}"', "startIndex": 1, "count": 100}
        ),
        200,
    )


def test_okta_creates_reads_replaces_and_deactivates_an_invitation(bridge: Bridge) -> None:
    assert _lookup(bridge, NEW)["totalResults"] == 0
    created = scim_json(
        bridge.scim.post(
            "/Users", json=_okta_user(NEW, ["DEVELOPER"], ["com.northwindlabs.ledger"])
        ),
        201,
    )
    user_id = created["id"]
    assert created["meta"]["location"] == f"{bridge.base_url}/Users/{user_id}"
    invitation = bridge.apple_invitation(NEW)
    assert invitation is not None, "the invitation was created on the team"
    assert invitation["attributes"]["roles"] == ["DEVELOPER"]
    assert created[ASC]["visibleApps"] == ["com.northwindlabs.ledger"]
    assert created[CUSTOM] == {"costCenter": "R&D-42"}, "attributes Apple cannot hold are kept"
    assert created["externalId"] == "00u1abcd"

    assert _lookup(bridge, NEW.upper())["Resources"][0]["id"] == user_id, "case-insensitive"
    fetched = scim_json(bridge.scim.get(f"/Users/{user_id}"), 200)
    assert fetched["locale"] == "en-US"
    assert fetched[CUSTOM] == {"costCenter": "R&D-42"}

    again = scim_json(
        bridge.scim.post(
            "/Users", json=_okta_user(NEW, ["DEVELOPER"], ["com.northwindlabs.ledger"])
        ),
        409,
    )
    assert again["schemas"] == [ERROR]
    assert again["scimType"] == "uniqueness"

    replaced = scim_json(
        bridge.scim.put(
            f"/Users/{user_id}",
            json={**_okta_user(NEW, ["APP_MANAGER"], ["com.northwindlabs.ledger"]), "id": user_id},
        ),
        200,
    )
    assert replaced["id"] == user_id
    assert replaced[ASC]["roles"] == ["APP_MANAGER"]
    invitation = bridge.apple_invitation(NEW)
    assert invitation is not None
    assert invitation["attributes"]["roles"] == ["APP_MANAGER"], "re-sent with the new role"

    deactivated = scim_json(
        bridge.scim.patch(
            f"/Users/{user_id}",
            json={
                "schemas": [PATCH],
                "Operations": [{"op": "replace", "value": {"active": False}}],
            },
        ),
        200,
    )
    assert deactivated["active"] is False
    assert bridge.apple_invitation(NEW) is None, "the invitation was cancelled"
    assert scim_json(bridge.scim.get(f"/Users/{user_id}"), 200)["active"] is False

    reactivated = scim_json(
        bridge.scim.patch(
            f"/Users/{user_id}",
            json={"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": True}}]},
        ),
        200,
    )
    assert reactivated["active"] is True
    assert reactivated["id"] == user_id
    invitation = bridge.apple_invitation(NEW)
    assert invitation is not None, "active: true invites them again"
    assert invitation["attributes"]["roles"] == ["APP_MANAGER"]

    audit = cli_json("audit")
    entries = audit["entries"] if isinstance(audit, dict) else audit
    assert any(e["actor"] == "token:okta" for e in entries), "writes audited under the token"


def test_okta_deactivates_a_member_and_the_account_holder_is_refused(bridge: Bridge) -> None:
    kenji = f"kenji.watanabe@{DOMAIN}"
    found = _lookup(bridge, kenji)["Resources"][0]
    assert found[ASC]["roles"] == ["DEVELOPER"]
    off = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}
    scim_json(bridge.scim.patch(f"/Users/{found['id']}", json=off), 200)
    assert bridge.apple_user(kenji) is None, "the member was removed from the team"

    holder_email = f"ava.thompson@{DOMAIN}"
    holder = _lookup(bridge, holder_email)["Resources"][0]
    assert "ACCOUNT_HOLDER" in holder[ASC]["roles"]
    refused = scim_json(bridge.scim.patch(f"/Users/{holder['id']}", json=off), 400)
    assert refused["scimType"] == "mutability"
    assert "Account Holder" in refused["detail"]
    still = bridge.apple_user(holder_email)
    assert still is not None, "nothing changed"
    assert "ACCOUNT_HOLDER" in still["attributes"]["roles"]
    assert scim_json(bridge.scim.get(f"/Users/{holder['id']}"), 200)["active"] is True


def test_malformed_bodies_and_changes_apple_cannot_make(bridge: Bridge) -> None:
    r = bridge.scim.post(
        "/Users", content=b'{"userName": ', headers={"Content-Type": "application/scim+json"}
    )
    body = scim_json(r, 400)
    assert body["schemas"] == [ERROR]
    assert body["scimType"] == "invalidSyntax"
    assert body["status"] == "400"
    kenji = _lookup(bridge, f"kenji.watanabe@{DOMAIN}")["Resources"][0]
    change_mail = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "path": "userName", "value": "kenji@elsewhere.example"}],
    }
    refused = scim_json(bridge.scim.patch(f"/Users/{kenji['id']}", json=change_mail), 400)
    assert refused["scimType"] == "mutability"
    bad_filter = scim_json(bridge.scim.get("/Users", params={"filter": "userName eq"}), 400)
    assert bad_filter["scimType"] == "invalidFilter"
    unknown_role = _okta_user("zed@example.org", ["WIZARD"], [])
    assert scim_json(bridge.scim.post("/Users", json=unknown_role), 400)["scimType"] == (
        "invalidValue"
    )
    assert bridge.apple_invitation("zed@example.org") is None


def test_the_id_stays_when_the_invitation_is_accepted(bridge: Bridge) -> None:
    email = "omar.rahman@example.org"
    created = scim_json(
        bridge.scim.post(
            "/Users", json=_okta_user(email, ["DEVELOPER"], ["com.northwindlabs.ledger"])
        ),
        201,
    )
    invitation = bridge.apple_invitation(email)
    assert invitation is not None
    bridge.sandbox.accept_invitation(invitation["id"])
    cli_json("sync", "northwind")
    assert bridge.apple_user(email) is not None, "now a member"
    after = _lookup(bridge, email)
    assert after["totalResults"] == 1
    assert after["Resources"][0]["id"] == created["id"]
    member = scim_json(bridge.scim.get(f"/Users/{created['id']}"), 200)
    assert member["active"] is True
    off = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}
    scim_json(bridge.scim.patch(f"/Users/{created['id']}", json=off), 200)
    assert bridge.apple_user(email) is None, "the member it became is removed"
