"""Only SCIM tokens open /scim/v2, each for its own connection; discovery; Apple failures."""

from __future__ import annotations

import time

import httpx

from _support.sandbox import RunningSandbox
from scim.conftest import ADMIN_TOKEN, ASC, DOMAIN, ERROR, Bridge, cli, cli_json, connect, scim_json

KENJI = f"kenji.watanabe@{DOMAIN}"


def _users(bridge: Bridge, token: str) -> httpx.Response:
    return httpx.get(f"{bridge.base_url}/Users", headers={"Authorization": f"Bearer {token}"})


def test_only_scim_tokens_open_scim_and_they_open_nothing_else(bridge: Bridge) -> None:
    missing = httpx.get(f"{bridge.base_url}/Users")
    assert scim_json(missing, 401)["schemas"] == [ERROR]
    assert "Bearer" in missing.headers["www-authenticate"]
    assert _users(bridge, ADMIN_TOKEN).status_code == 401, "the admin token does not open SCIM"
    plain = cli_json("tokens", "create", "reporting")["token"]
    assert _users(bridge, plain).status_code == 401, "an ordinary API token does not"
    assert _users(bridge, bridge.token).status_code == 200
    service = bridge.base_url.removesuffix("/scim/v2")
    api = httpx.get(
        f"{service}/api/v1/connections", headers={"Authorization": f"Bearer {bridge.token}"}
    )
    assert api.status_code == 401, "a SCIM token does not open the REST API"
    assert api.json()["cause"] == "token_scim"
    assert (
        httpx.get(
            f"{service}/api/v1/connections", headers={"Authorization": f"Bearer {plain}"}
        ).status_code
        == 200
    )
    listed = {t["name"]: t for t in cli_json("tokens", "list")["tokens"]}
    assert listed["okta"]["scim_connection_id"] is not None
    assert listed["okta"]["scim_connection"] == "northwind"
    assert listed["reporting"]["scim_connection_id"] is None
    cli_json("tokens", "revoke", "okta")
    assert _users(bridge, bridge.token).status_code == 401, "revoked at once"


def test_a_scim_token_sees_only_its_own_connection(bridge: Bridge, sandbox_factory: object) -> None:
    other: RunningSandbox = sandbox_factory(users=5, apps=2, invitations=1)  # type: ignore[operator]
    connect(other, name="other")
    token = cli_json("tokens", "create", "entra-other", "--scim", "other")["token"]
    headers = {"Authorization": f"Bearer {token}"}
    mine = httpx.get(
        f"{bridge.base_url}/Users", params={"filter": f'userName eq "{KENJI}"'}, headers=headers
    )
    assert scim_json(mine, 200)["totalResults"] == 0
    everyone = scim_json(httpx.get(f"{bridge.base_url}/Users", headers=headers), 200)
    assert everyone["totalResults"] == 6
    kenji = scim_json(bridge.scim.get("/Users", params={"filter": f'userName eq "{KENJI}"'}), 200)[
        "Resources"
    ][0]
    assert httpx.get(f"{bridge.base_url}/Users/{kenji['id']}", headers=headers).status_code == 404


def test_tokens_create_scim_needs_a_known_connection(bridge: Bridge) -> None:
    result = cli("tokens", "create", "stray", "--scim", "nowhere", "--json")
    assert result.exit_code != 0
    assert "nowhere" in result.stdout


def test_discovery_documents(bridge: Bridge) -> None:
    config = scim_json(bridge.scim.get("/ServiceProviderConfig"), 200)
    assert config["patch"]["supported"] is True
    assert config["filter"] == {"supported": True, "maxResults": 200}
    assert config["bulk"]["supported"] is False
    types = scim_json(bridge.scim.get("/ResourceTypes"), 200)
    user_type = next(t for t in types["Resources"] if t["id"] == "User")
    assert {e["schema"] for e in user_type["schemaExtensions"]} >= {ASC}
    schema = scim_json(bridge.scim.get(f"/Schemas/{ASC}"), 200)
    names = {a["name"] for a in schema["attributes"]}
    assert names == {"roles", "allAppsVisible", "visibleApps", "provisioningAllowed"}


def test_paging_and_attribute_selection(bridge: Bridge) -> None:
    first = scim_json(bridge.scim.get("/Users", params={"startIndex": 1, "count": 3}), 200)
    second = scim_json(bridge.scim.get("/Users", params={"startIndex": 4, "count": 3}), 200)
    assert first["itemsPerPage"] == 3
    assert first["totalResults"] == second["totalResults"]
    ids = {r["id"] for r in first["Resources"]} | {r["id"] for r in second["Resources"]}
    assert len(ids) == 6
    slim = scim_json(bridge.scim.get("/Users", params={"attributes": "userName", "count": 2}), 200)
    assert set(slim["Resources"][0]) <= {"schemas", "id", "userName", "meta"}
    lean = scim_json(bridge.scim.get("/Users", params={"excludedAttributes": ASC, "count": 2}), 200)
    assert ASC not in lean["Resources"][0]
    starts = scim_json(
        bridge.scim.get(
            "/Users", params={"filter": 'userName sw "kenji" or emails.value co "ella."'}
        ),
        200,
    )
    assert starts["totalResults"] == 2
    total = first["totalResults"]
    kenji = scim_json(
        bridge.scim.get("/Users", params={"filter": f'emails.value eq "{KENJI}"'}), 200
    )["Resources"][0]
    others = scim_json(
        bridge.scim.get("/Users", params={"filter": f'userName ne "{KENJI}"', "count": 1}), 200
    )
    assert others["totalResults"] == total - 1
    by_id = scim_json(bridge.scim.get("/Users", params={"filter": f'id eq "{kenji["id"]}"'}), 200)
    assert [r["userName"] for r in by_id["Resources"]] == [KENJI]
    present = scim_json(bridge.scim.get("/Users", params={"filter": "externalId pr"}), 200)
    assert present["totalResults"] == 0
    admins = scim_json(
        bridge.scim.get("/Users", params={"filter": f'{ASC}:roles eq "ADMIN" and active eq true'}),
        200,
    )
    assert admins["totalResults"] >= 1


def test_apple_failures_ask_the_idp_to_retry(bridge: Bridge) -> None:
    kenji = scim_json(bridge.scim.get("/Users", params={"filter": f'userName eq "{KENJI}"'}), 200)[
        "Resources"
    ][0]
    off = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    }
    bridge.sandbox.add_fault(status=503, path_prefix="/v1/users")
    down = bridge.scim.patch(f"/Users/{kenji['id']}", json=off)
    assert scim_json(down, 503)["schemas"] == [ERROR]
    assert int(down.headers["retry-after"]) >= 1
    bridge.sandbox.clear_faults()
    assert bridge.apple_user(KENJI) is not None, "nothing was changed"
    bridge.sandbox.set_rate_limit(1)
    spent = bridge.scim.patch(f"/Users/{kenji['id']}", json=off)
    assert scim_json(spent, 429)["status"] == "429"
    assert int(spent.headers["retry-after"]) >= 1
    bridge.sandbox.set_rate_limit(3600)
    bridge.sandbox.reset_stats()
    assert bridge.apple_user(KENJI) is not None


def test_before_the_first_sync_scim_starts_one_and_asks_to_retry(
    fresh_team: RunningSandbox, bridge: Bridge
) -> None:
    fresh = fresh_team
    k = fresh.keys["admin"]
    cli_json(
        "connect", "fresh", "--key-id", k.key_id, "--issuer-id", str(k.issuer_id),
        "--private-key-file", str(k.private_key_file), "--api-url", fresh.base_url,
    )  # fmt: skip
    token = cli_json("tokens", "create", "fresh-idp", "--scim", "fresh")["token"]
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.get(f"{bridge.base_url}/Users", headers=headers)
    assert scim_json(first, 503)["schemas"] == [ERROR]
    assert first.headers["retry-after"] == "10"
    for _ in range(200):
        later = httpx.get(f"{bridge.base_url}/Users", headers=headers)
        if later.status_code == 200:
            break
        time.sleep(0.05)
    assert scim_json(later, 200)["totalResults"] == 4


def test_scim_operations_are_counted_in_metrics(bridge: Bridge) -> None:
    service = bridge.base_url.removesuffix("/scim/v2")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def listed() -> float:
        text = httpx.get(f"{service}/metrics", headers=admin).text
        for line in text.splitlines():
            if line.startswith("asc_access_scim_operations_total") and (
                'operation="list"' in line and 'outcome="ok"' in line
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = listed()
    scim_json(bridge.scim.get("/Users", params={"count": 1}), 200)
    assert listed() == before + 1
