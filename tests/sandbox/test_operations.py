"""Rate limits, fault injection, agreements, stats, reset and the control API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from asc_access.sandbox import create_app


def _remaining(response: Any) -> int:
    pairs = dict(p.split(":") for p in response.headers["x-rate-limit"].strip(";").split(";"))
    return int(pairs["user-hour-rem"])


async def test_hourly_quota_per_key_over_a_rolling_hour(in_process: Any) -> None:
    asc = in_process(rate_limit=3)
    seen = [_remaining(await asc.get("/v1/apps"))]
    asc.time.value += 1000
    seen += [_remaining(await asc.get("/v1/apps")) for _ in range(2)]
    assert seen == [2, 1, 0]
    refused = await asc.get("/v1/apps")
    assert refused.status_code == 429
    assert refused.headers["x-rate-limit"] == "user-hour-lim:3;user-hour-rem:0;"
    error = refused.json()["errors"][0]
    assert error["code"] == "RATE_LIMIT_EXCEEDED"
    assert error["title"] == "The request rate limit has been reached."
    assert (await asc.get("/v1/apps", key="developer")).status_code == 200  # per key
    asc.time.value += 2599  # 3599 s after the first request: still inside its hour
    assert (await asc.get("/v1/apps")).status_code == 429
    asc.time.value += 1  # the first request leaves the window, the other two stay
    response = await asc.get("/v1/apps")
    assert response.status_code == 200
    assert _remaining(response) == 0
    assert (await asc.get("/v1/apps")).status_code == 429
    asc.time.value += 1000
    assert _remaining(await asc.get("/v1/apps")) == 1


async def test_rate_limit_can_be_changed_through_control(asc: Any) -> None:
    assert (await asc.client.post("/_sandbox/rate-limit", json={"limit": 1})).status_code == 200
    assert (await asc.get("/v1/apps")).status_code == 200
    assert (await asc.get("/v1/apps")).status_code == 429


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "UNEXPECTED_ERROR"),
        (502, "BAD_GATEWAY"),
        (503, "SERVICE_UNAVAILABLE"),
        (429, "RATE_LIMIT_EXCEEDED"),
    ],
)
async def test_status_faults_for_a_count_after_skipping(asc: Any, status: int, code: str) -> None:
    added = await asc.client.post(
        "/_sandbox/faults", json={"status": status, "count": 2, "after": 1}
    )
    assert added.status_code == 201
    statuses = [(await asc.get("/v1/apps")).status_code for _ in range(5)]
    assert statuses == [200, status, status, 200, 200]
    asc.model.faults.clear()
    asc.model.faults.add({"status": status, "count": 1})
    body = (await asc.get("/v1/apps")).json()
    assert body["errors"][0]["code"] == code


async def test_429_fault_sends_retry_after_and_rate_header(asc: Any) -> None:
    asc.model.faults.add({"status": 429, "count": 1, "retry_after": 7})
    response = await asc.get("/v1/apps")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert "x-rate-limit" in response.headers


async def test_faults_by_path_prefix_and_method(asc: Any) -> None:
    asc.model.faults.add({"status": 503, "path_prefix": "/v1/users"})
    asc.model.faults.add({"status": 500, "method": "DELETE"})
    assert (await asc.get("/v1/apps")).status_code == 200
    assert (await asc.get("/v1/users")).status_code == 503
    assert (await asc.get("/v1/userInvitations")).status_code == 200
    pending = next(iter(asc.model.world.invitations))
    assert (await asc.send("DELETE", f"/v1/userInvitations/{pending}")).status_code == 500
    assert pending in asc.model.world.invitations
    assert (await asc.client.delete("/_sandbox/faults")).status_code == 200
    assert (await asc.get("/v1/users")).status_code == 200


async def test_fault_rate_is_a_fraction(in_process: Any) -> None:
    asc = in_process(random_seed=3)
    asc.model.faults.add({"status": 500, "rate": 0.25})
    statuses = [(await asc.get("/v1/apps")).status_code for _ in range(200)]
    failures = statuses.count(500)
    assert 20 <= failures <= 80
    assert statuses.count(200) == 200 - failures


async def test_malformed_fault_sends_a_body_that_is_not_json(asc: Any) -> None:
    asc.model.faults.add({"malformed": True, "count": 1})
    response = await asc.get("/v1/users")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()
    assert (await asc.get("/v1/users")).json()["data"]


async def test_drop_fault_in_process_raises_like_a_hang_up(asc: Any) -> None:
    asc.model.faults.add({"drop": True, "count": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        await asc.get("/v1/users")
    assert (await asc.get("/v1/users")).status_code == 200


async def test_latency_fault_and_base_latency(in_process: Any) -> None:
    asc = in_process(latency_ms=50)
    started = time.monotonic()
    await asc.get("/v1/apps")
    assert time.monotonic() - started >= 0.05
    asc.model.faults.add({"latency_ms": 200, "count": 1})
    started = time.monotonic()
    response = await asc.get("/v1/apps")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.25


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"status": 404},
        {"status": 500, "rate": 2},
        {"status": 500, "count": 0},
        {"drop": "yes"},
        {"colour": 1},
    ],
)
async def test_bad_fault_specs_are_refused(asc: Any, spec: dict[str, Any]) -> None:
    response = await asc.client.post("/_sandbox/faults", json=spec)
    assert response.status_code == 400
    assert response.json()["error"]


async def test_agreements_switch(asc: Any) -> None:
    assert (
        await asc.client.post("/_sandbox/agreements", json={"accepted": False})
    ).status_code == 200
    for url in ("/v1/apps", "/v1/users", f"/v1/users/{asc.user_id('kenji.watanabe')}"):
        response = await asc.get(url)
        assert response.status_code == 403
        error = response.json()["errors"][0]
        assert error["code"] == "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"
        assert error["links"] == {"see": "/business"}
    await asc.client.post("/_sandbox/agreements", json={"accepted": True})
    assert (await asc.get("/v1/apps")).status_code == 200


async def test_stats_by_route(asc: Any) -> None:
    user_id = asc.user_id("kenji.watanabe")
    await asc.get("/v1/users")
    await asc.get("/v1/users?limit=1")
    await asc.get(f"/v1/users/{user_id}")
    await asc.client.get("/v1/apps")  # no token: still counted
    stats = (await asc.client.get("/_sandbox/stats")).json()
    assert stats["requests"] == 4
    assert stats["by_route"] == {"GET /v1/users": 2, "GET /v1/users/{id}": 1, "GET /v1/apps": 1}
    assert stats["by_status"] == {"200": 3, "401": 1}
    await asc.client.post("/_sandbox/stats/reset")
    assert (await asc.client.get("/_sandbox/stats")).json()["requests"] == 0


async def test_reset_restores_the_seed_and_keeps_keys(asc: Any) -> None:
    kenji = asc.user_id("kenji.watanabe")
    await asc.send("DELETE", f"/v1/users/{kenji}")
    asc.model.faults.add({"status": 500})
    asc.model.agreements_accepted = False
    info = (await asc.client.post("/_sandbox/reset", json={"seed": "demo"})).json()
    assert info["users"] == 12
    assert info["agreements_accepted"] is True
    assert (await asc.get(f"/v1/users/{kenji}")).status_code == 200
    info = (
        await asc.client.post(
            "/_sandbox/reset", json={"seed": "generated", "users": 30, "apps": 8, "invitations": 4}
        )
    ).json()
    assert (info["users"], info["apps"], info["invitations"]) == (30, 8, 4)
    assert (await asc.get("/v1/users")).json()["meta"]["paging"]["total"] == 30


async def test_control_keys_roles_and_invitations(asc: Any) -> None:
    issued = (
        await asc.client.post("/_sandbox/keys", json={"key_type": "team", "role": "DEVELOPER"})
    ).json()
    assert issued["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert issued["issuer_id"] == asc.model.issuer_id
    kenji = asc.user_id("kenji.watanabe")
    individual = (
        await asc.client.post("/_sandbox/keys", json={"key_type": "individual", "user": kenji})
    ).json()
    assert individual["issuer_id"] is None
    assert individual["user"] == kenji
    listed = (await asc.client.get("/_sandbox/keys")).json()["keys"]
    assert all("private_key" not in k for k in listed)
    assert (await asc.client.post(f"/_sandbox/keys/{issued['key_id']}/revoke")).json()[
        "revoked"
    ] is True
    assert (await asc.client.post("/_sandbox/keys/NOPE/revoke")).status_code == 404
    bad = await asc.client.post("/_sandbox/keys", json={"key_type": "individual", "user": "nobody"})
    assert bad.status_code == 404
    roles = await asc.client.post(f"/_sandbox/users/{kenji}/roles", json={"roles": ["ADMIN"]})
    assert roles.json()["all_apps_visible"] is True
    pending = next(iter(asc.model.world.invitations))
    expired = await asc.client.post(f"/_sandbox/userInvitations/{pending}/expire")
    assert expired.status_code == 200
    assert (await asc.client.post(f"/_sandbox/userInvitations/{pending}/accept")).status_code == 409
    assert (await asc.client.get("/_sandbox/nothing")).status_code == 404


async def test_control_api_answers_loopback_only(asc: Any) -> None:
    remote = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(asc.model), client=("10.1.2.3", 5000)),
        base_url="http://sandbox.test",
    )
    async with remote:
        assert (await remote.get("/_sandbox/stats")).status_code == 403
        assert (await remote.get("/v1/apps", headers=asc.auth())).status_code == 200
