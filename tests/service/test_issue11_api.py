"""Issue 11 over the service's HTTP API, against the sandbox: a mistyped leaver is an error,
the same key is not saved twice unless forced, and refused attempts are audited."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from _support.sandbox import RunningSandbox

SOFIA = "sofia.rossi@northwindlabs.example.com"
AVA = "ava.thompson@northwindlabs.example.com"


async def _add(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    sandbox: RunningSandbox,
    name: str = "northwind",
    **extra: Any,
) -> httpx.Response:
    k = sandbox.keys["admin"]
    return await client.post(
        "/api/v1/connections",
        json={
            "name": name,
            "key_id": k.key_id,
            "issuer_id": k.issuer_id,
            "api_url": sandbox.base_url,
            "private_key": k.private_key_pem,
            **extra,
        },
        headers=admin,
    )


async def _synced(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    assert (await _add(client, admin, sandbox)).status_code == 201
    started = (await client.post("/api/v1/connections/northwind/sync", headers=admin)).json()
    for _ in range(300):
        run = (await client.get(started["run_url"], headers=admin)).json()
        if run["status"] != "running":
            assert run["status"] == "succeeded", run
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the sync did not finish")


async def test_offboarding_a_mistyped_address_is_a_400_with_suggestions(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    await _synced(client, admin, sandbox)
    r = await client.post(
        "/api/v1/actions/plans",
        json={"action": "offboard", "email": "sofia.rosi@northwindlabs.example.com"},
        headers=admin,
    )
    assert r.status_code == 400, r.text
    assert SOFIA in r.text
    assert "no mirrored team has ever had that address" in r.text
    known = await client.post(
        "/api/v1/actions/plans", json={"action": "offboard", "email": SOFIA}, headers=admin
    )
    assert known.status_code == 201, known.text


async def test_a_refused_plan_is_audited_with_who_asked_and_why(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    await _synced(client, admin, sandbox)
    r = await client.post(
        "/api/v1/actions/plans",
        json={"action": "remove", "email": AVA, "connection": "northwind"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    planned = r.json()
    assert planned["executable"] is False
    assert planned["audit_id"] is not None
    entry = (await client.get(f"/api/v1/audit/{planned['audit_id']}", headers=admin)).json()
    assert entry["status"] == "refused"
    assert entry["actor"].startswith("token:")
    assert "Account Holder" in entry["reason"]
    confirm = await client.post(planned["confirm_url"], headers=admin)
    assert confirm.status_code == 409
    items = (await client.get("/api/v1/audit", headers=admin)).json()["items"]
    assert [i["status"] for i in items] == ["refused"]  # the attempt, once


async def test_the_same_key_under_a_second_name_is_409_unless_forced(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    assert (await _add(client, admin, sandbox)).status_code == 201
    again = await _add(client, admin, sandbox, name="northwind-2")
    assert again.status_code == 409, again.text
    assert "already saved as connection 'northwind'" in again.text
    forced = await _add(client, admin, sandbox, name="northwind-2", force=True)
    assert forced.status_code == 201, forced.text
    assert "already saved" in forced.json()["warnings"][0]


async def test_an_already_satisfied_plan_is_audited_at_once(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    await _synced(client, admin, sandbox)
    body = {"action": "cancel-invitation", "email": SOFIA, "connection": "northwind"}
    r = await client.post("/api/v1/actions/plans", json=body, headers=admin)
    assert r.status_code == 201, r.text
    planned = r.json()
    assert planned["plan"]["changes"] == 0
    entry = (await client.get(f"/api/v1/audit/{planned['audit_id']}", headers=admin)).json()
    assert entry["status"] == "already"
    assert entry["actor"].startswith("token:")
    assert [s["outcome"] for s in entry["steps"]] == ["already"]


async def test_the_console_audits_a_refused_plan_it_cannot_confirm(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    from _support.service import ADMIN_TOKEN, csrf_of

    await _synced(client, admin, sandbox)
    page = await client.get("/login")
    signed = await client.post(
        "/login", data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page), "next": "/actions"}
    )
    assert signed.status_code == 303
    csrf = csrf_of(await client.get("/actions"))
    form = {"csrf_token": csrf, "action": "remove", "email": AVA, "connection": "northwind"}
    plan = await client.post("/actions/plan", data=form)
    assert plan.status_code == 200, plan.text
    assert "This plan cannot run" in plan.text
    items = (await client.get("/api/v1/audit", headers=admin)).json()["items"]
    assert [(i["action"], i["status"], i["target"]) for i in items] == [("remove", "refused", AVA)]


async def test_people_filters_refuse_an_unknown_role_and_take_app_names(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    await _synced(client, admin, sandbox)
    bogus = await client.get("/api/v1/users?role=BOGUS", headers=admin)
    assert bogus.status_code == 400, bogus.text
    assert "unknown role BOGUS" in bogus.text
    assert (await client.get("/api/v1/users?role=developer", headers=admin)).json()["total"] > 0
    by_name = (await client.get("/api/v1/users?app=POCKET LEDGER", headers=admin)).json()
    by_bundle = (
        await client.get("/api/v1/users?app=com.northwindlabs.ledger", headers=admin)
    ).json()
    assert by_name["total"] == by_bundle["total"] > 0
