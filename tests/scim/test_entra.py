"""Microsoft Entra ID's provisioning sequence over real HTTP, read back from the sandbox team."""

from __future__ import annotations

from typing import Any

from scim.conftest import ASC, CORE, DOMAIN, PATCH, Bridge, cli_json, scim_json

NEW = "mei.lin@example.org"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _entra_user(email: str) -> dict[str, Any]:
    return {
        "schemas": [CORE, ENTERPRISE, ASC],
        "externalId": "8c1f7e2a-entra",
        "userName": email,
        "active": True,
        "displayName": "Mei Lin",
        "emails": [{"primary": True, "type": "work", "value": email}],
        "name": {"formatted": "Mei Lin", "familyName": "Lin", "givenName": "Mei"},
        "title": "Engineer",
        ENTERPRISE: {"department": "Mobile", "employeeNumber": "4711"},
        ASC: {"roles": ["DEVELOPER"], "allAppsVisible": "True"},
    }


def _patch(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(ops)}


def test_entra_creates_patches_soft_deletes_then_deletes(bridge: Bridge) -> None:
    none = scim_json(
        bridge.scim.get("/Users", params={"filter": 'externalId eq "8c1f7e2a-entra"'}), 200
    )
    assert none["totalResults"] == 0
    created = scim_json(bridge.scim.post("/Users", json=_entra_user(NEW)), 201)
    user_id = created["id"]
    assert created[ENTERPRISE] == {"department": "Mobile", "employeeNumber": "4711"}
    invitation = bridge.apple_invitation(NEW)
    assert invitation is not None
    assert invitation["attributes"]["allAppsVisible"] is True, '"True" read as a boolean'
    found = scim_json(
        bridge.scim.get("/Users", params={"filter": 'externalId eq "8c1f7e2a-entra"'}), 200
    )
    assert [r["id"] for r in found["Resources"]] == [user_id]

    renamed = _patch(
        {"op": "Replace", "path": "title", "value": "Lead"},
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": NEW},
        {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Apps"},
    )
    patched = scim_json(bridge.scim.patch(f"/Users/{user_id}", json=renamed), 200)
    assert patched["title"] == "Lead"
    assert patched[ENTERPRISE]["department"] == "Apps"

    soft = scim_json(
        bridge.scim.patch(
            f"/Users/{user_id}", json=_patch({"op": "Replace", "path": "active", "value": "False"})
        ),
        200,
    )
    assert soft["active"] is False
    assert bridge.apple_invitation(NEW) is None
    scim_json(bridge.scim.delete(f"/Users/{user_id}"), 204)
    assert bridge.scim.get(f"/Users/{user_id}").status_code == 404


def test_entra_group_push_maps_members_to_roles(bridge: Bridge) -> None:
    cli_json(
        "scim", "map-group", "northwind", "ASC App Managers", "--role", "APP_MANAGER",
        "--app", "com.northwindlabs.ledger",
    )  # fmt: skip
    kenji_email = f"kenji.watanabe@{DOMAIN}"
    kenji = scim_json(
        bridge.scim.get("/Users", params={"filter": f'userName eq "{kenji_email}"'}), 200
    )["Resources"][0]
    group = scim_json(
        bridge.scim.post(
            "/Groups",
            json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "ASC App Managers",
                "externalId": "grp-1",
                "members": [],
            },
        ),
        201,
    )
    listed = scim_json(bridge.scim.get("/Groups", params={"excludedAttributes": "members"}), 200)
    assert listed["Resources"][0]["displayName"] == "ASC App Managers"
    assert "members" not in listed["Resources"][0]
    by_name = scim_json(
        bridge.scim.get("/Groups", params={"filter": 'displayName eq "ASC App Managers"'}), 200
    )
    assert by_name["totalResults"] == 1

    add = _patch({"op": "Add", "path": "members", "value": [{"value": kenji["id"]}]})
    scim_json(bridge.scim.patch(f"/Groups/{group['id']}", json=add), 200)
    apple = bridge.apple_user(kenji_email)
    assert apple is not None
    assert sorted(apple["attributes"]["roles"]) == ["APP_MANAGER", "DEVELOPER"], "a union"
    user = scim_json(bridge.scim.get(f"/Users/{kenji['id']}"), 200)
    assert user["groups"][0]["value"] == group["id"]

    remove = _patch({"op": "Remove", "path": "members", "value": [{"value": kenji["id"]}]})
    scim_json(bridge.scim.patch(f"/Groups/{group['id']}", json=remove), 200)
    apple = bridge.apple_user(kenji_email)
    assert apple is not None
    assert apple["attributes"]["roles"] == ["DEVELOPER"], "leaving the group takes its role"
    mappings = cli_json("scim", "groups", "northwind")
    assert mappings["groups"] == [{"display_name": "ASC App Managers", "members": 0}]


def test_entra_hard_delete_of_members_keeps_the_last_admin(bridge: Bridge) -> None:
    def find(email: str) -> dict[str, Any]:
        return scim_json(
            bridge.scim.get("/Users", params={"filter": f'userName eq "{email}"'}), 200
        )["Resources"][0]

    marcus, priya = f"marcus.okafor@{DOMAIN}", f"priya.raman@{DOMAIN}"
    scim_json(bridge.scim.delete(f"/Users/{find(marcus)['id']}"), 204)
    assert bridge.apple_user(marcus) is None, "the member was removed"
    last = find(priya)
    refused = scim_json(bridge.scim.delete(f"/Users/{last['id']}"), 400)
    assert refused["scimType"] == "mutability"
    assert "nothing was changed" in refused["detail"]
    still = bridge.apple_user(priya)
    assert still is not None
    assert still["attributes"]["roles"] == ["ADMIN"]
    assert scim_json(bridge.scim.get(f"/Users/{last['id']}"), 200)["active"] is True
