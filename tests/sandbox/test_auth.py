"""Authentication and permissions like Apple's."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from _support.sandbox import make_token


def _foreign_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _rejected_tokens(asc: Any) -> dict[str, str | None]:
    now = asc.model.clock.now()
    admin = asc.key("admin")
    individual = asc.key("individual-admin")
    unknown = admin.__class__(**{**_fields(admin), "key_id": "ZZZZZZZZZZ"})
    forged = admin.__class__(**{**_fields(admin), "private_key_pem": _foreign_pem()})
    return {
        "bad signature": make_token(forged, now=now),
        "unknown kid": make_token(unknown, now=now),
        "revoked key": make_token(asc.key("revoked"), now=now),
        "lifetime over 20 minutes": make_token(admin, now=now, lifetime=20 * 60 + 1),
        "future iat": make_token(admin, now=now, iat_offset=300),
        "expired": make_token(admin, now=now - 1200, lifetime=600),
        "wrong aud": make_token(admin, now=now, aud="appstoreconnect-v2"),
        "team token without iss": make_token(admin, now=now, iss=None),
        "team token with another issuer": make_token(
            admin, now=now, iss="57246542-96fe-1a63-e053-0824d011072a"
        ),
        "individual token with iss": make_token(individual, now=now, iss=asc.model.issuer_id),
        "individual token without sub": make_token(individual, now=now, sub=None),
        "no exp": make_token(admin, now=now, exp=None),
        "HS256": jwt.encode(
            {"iss": asc.model.issuer_id, "aud": "appstoreconnect-v1", "exp": int(now) + 600},
            "secret-secret-secret-secret-secret",
            algorithm="HS256",
            headers={"kid": admin.key_id},
        ),
        "not a JWT": "not-a-token",
        "no token": None,
    }


def _fields(key: Any) -> dict[str, Any]:
    return {name: getattr(key, name) for name in key.__slots__}


async def test_every_rejection_answers_the_same_401(asc: Any) -> None:
    bodies = {}
    for reason, token in _rejected_tokens(asc).items():
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        response = await asc.client.get("/v1/users", headers=headers)
        assert response.status_code == 401, reason
        assert "x-rate-limit" not in response.headers, reason
        assert response.headers["date"]
        bodies[reason] = response.content
    assert len(set(bodies.values())) == 1, "401 bodies must not reveal why"
    error = next(iter(bodies.values()))
    assert b'"code":"NOT_AUTHORIZED"' in error
    assert b"Authentication credentials are missing or invalid." in error


async def test_valid_tokens_of_every_key_pass(asc: Any) -> None:
    for name in ("admin", "developer", "individual-admin", "individual-developer"):
        response = await asc.get("/v1/apps", key=name)
        assert response.status_code == 200, name
        assert response.headers["x-rate-limit"].startswith("user-hour-lim:3600;")


async def test_boundaries_of_lifetime_and_iat(asc: Any) -> None:
    now = asc.model.clock.now()
    admin = asc.key("admin")
    ok = {
        "exactly 20 minutes": make_token(admin, now=now, lifetime=20 * 60),
        "iat 30 s ahead (small tolerance)": make_token(admin, now=now, iat_offset=30, lifetime=60),
        "iat back-dated a minute": make_token(admin, now=now, iat_offset=-60, lifetime=660),
        "no iat, short exp": make_token(admin, now=now, iat=None, lifetime=300),
    }
    for reason, token in ok.items():
        response = await asc.client.get("/v1/apps", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, reason
    token = make_token(admin, now=now, iat=None, lifetime=30 * 60)
    response = await asc.client.get("/v1/apps", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_scope_claim_limits_the_token(asc: Any) -> None:
    token = asc.token("admin", scope=["GET /v1/apps"])
    headers = {"Authorization": f"Bearer {token}"}
    assert (await asc.client.get("/v1/apps?limit=5", headers=headers)).status_code == 200
    assert (await asc.client.get("/v1/users", headers=headers)).status_code == 401
    token = asc.token("admin", scope=["GET /v1/apps?filter[sku]=NW-LEDGER"])
    headers = {"Authorization": f"Bearer {token}"}
    ok = await asc.client.get("/v1/apps?filter[sku]=NW-LEDGER&limit=5", headers=headers)
    assert ok.status_code == 200
    assert (await asc.client.get("/v1/apps", headers=headers)).status_code == 401


async def test_developer_team_key_reads_apps_but_not_people(asc: Any) -> None:
    assert (await asc.get("/v1/apps", key="developer")).status_code == 200
    for url in ("/v1/users", "/v1/userInvitations", f"/v1/users/{asc.user_id('kenji.watanabe')}"):
        response = await asc.get(url, key="developer")
        assert response.status_code == 403, url
        assert response.json()["errors"][0]["code"] == "FORBIDDEN_ERROR"
    response = await asc.send(
        "DELETE", f"/v1/users/{asc.user_id('kenji.watanabe')}", key="developer"
    )
    assert response.status_code == 403
    assert asc.user_id("kenji.watanabe")


@pytest.mark.parametrize("role", ["APP_MANAGER", "FINANCE", "MARKETING"])
async def test_other_team_roles_cannot_manage_users(asc: Any, role: str) -> None:
    key_id = asc.issue("team", role=role)
    assert (await asc.get("/v1/users", key=key_id)).status_code == 403
    assert (await asc.get("/v1/apps", key=key_id)).status_code == 200


async def test_individual_keys_act_as_their_user(asc: Any) -> None:
    assert (await asc.get("/v1/users", key="individual-admin")).status_code == 200
    assert (await asc.get("/v1/users", key="individual-developer")).status_code == 403
    everything = (await asc.get("/v1/apps", key="individual-admin")).json()
    assert everything["meta"]["paging"]["total"] == 6
    mine = (await asc.get("/v1/apps", key="individual-developer")).json()
    sofia = asc.model.world.users[asc.user_id("sofia.rossi")]
    assert sorted(a["id"] for a in mine["data"]) == sorted(sofia.visible_app_ids)
    assert mine["meta"]["paging"]["total"] == 2
    hidden = next(a for a in asc.model.world.apps if a not in sofia.visible_app_ids)
    assert (await asc.get(f"/v1/apps/{hidden}", key="individual-developer")).status_code == 404
    shown = sofia.visible_app_ids[0]
    assert (await asc.get(f"/v1/apps/{shown}", key="individual-developer")).status_code == 200


async def test_individual_key_power_follows_role_changes(asc: Any) -> None:
    priya = asc.user_id("priya.raman")
    assert (await asc.get("/v1/users", key="individual-admin")).status_code == 200
    kenji = asc.model.world.users[asc.user_id("kenji.watanabe")]
    asc.model.world.set_roles_out_of_band(priya, ["DEVELOPER"], all_apps_visible=False)
    asc.model.world.change_visible_apps(priya, kenji.visible_app_ids, "replace")
    assert (await asc.get("/v1/users", key="individual-admin")).status_code == 403
    apps = (await asc.get("/v1/apps", key="individual-admin")).json()
    assert [a["id"] for a in apps["data"]] == kenji.visible_app_ids
    sofia = asc.user_id("sofia.rossi")
    asc.model.world.set_roles_out_of_band(sofia, ["ADMIN"])
    assert (await asc.get("/v1/users", key="individual-developer")).status_code == 200
    apps = (await asc.get("/v1/apps", key="individual-developer")).json()
    assert apps["meta"]["paging"]["total"] == 6


async def test_individual_key_dies_with_its_user(asc: Any) -> None:
    kenji = asc.user_id("kenji.watanabe")
    key_id = asc.issue("individual", user=kenji)
    assert (await asc.get("/v1/apps", key=key_id)).status_code == 200
    assert (await asc.send("DELETE", f"/v1/users/{kenji}")).status_code == 204
    assert (await asc.get("/v1/apps", key=key_id)).status_code == 401


async def test_key_revoked_after_working(asc: Any) -> None:
    key_id = asc.issue("team", role="ADMIN")
    assert (await asc.get("/v1/users", key=key_id)).status_code == 200
    asc.model.keys.revoke(key_id)
    assert (await asc.get("/v1/users", key=key_id)).status_code == 401
