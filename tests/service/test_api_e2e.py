"""The REST API end to end against the sandbox: connect, sync, read, plan and confirm, audit."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from _support.sandbox import RunningSandbox

KENJI = "kenji.watanabe@northwindlabs.example.com"


def _multipart(sandbox: RunningSandbox, name: str, key: str, pem: bytes, filename: str) -> Any:
    k = sandbox.keys[key]
    data = {"name": name, "key_id": k.key_id, "api_url": sandbox.base_url}
    if k.issuer_id:
        data["issuer_id"] = k.issuer_id
    else:
        data["individual"] = "true"
    return {"data": data, "files": {"private_key": (filename, pem, "application/octet-stream")}}


async def _add_admin(client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox):
    k = sandbox.keys["admin"]
    r = await client.post(
        "/api/v1/connections",
        json={
            "name": "northwind",
            "key_id": k.key_id,
            "issuer_id": k.issuer_id,
            "api_url": sandbox.base_url,
            "private_key": k.private_key_pem,
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _wait_for_run(client: httpx.AsyncClient, admin: dict[str, str], url: str) -> dict:
    for _ in range(300):
        run = (await client.get(url, headers=admin)).json()
        if run["status"] != "running":
            return run
        await asyncio.sleep(0.05)
    raise AssertionError("the sync did not finish")


async def test_a_file_that_is_not_a_key_is_422_app_101(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    r = await client.post(
        "/api/v1/connections",
        **_multipart(sandbox, "broken", "admin", b"this is not a private key\n", "AuthKey.p8"),
        headers=admin,
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "APP-101"
    assert body["cause"] in {"private_key_unreadable", "private_key_wrong_type"}
    assert body["resolution"], "numbered fix steps"
    assert body["detail"]["doctor"]["ok"] is False
    assert "uploaded file AuthKey.p8" in str(body)
    assert (await client.get("/api/v1/connections", headers=admin)).json()["items"] == []


async def test_an_oversize_key_is_413(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    r = await client.post(
        "/api/v1/connections",
        **_multipart(sandbox, "big", "admin", b"A" * 11_000, "AuthKey_BIG.p8"),
        headers=admin,
    )
    assert r.status_code == 413
    assert r.json()["cause"] == "key_too_large"
    assert "250 bytes" in r.json()["message"]


async def test_missing_fields_and_wrong_media_type(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post("/api/v1/connections", json={"name": "x"}, headers=admin)
    assert r.status_code == 422
    assert "key_id" in r.json()["message"]
    r = await client.post(
        "/api/v1/connections",
        content=b"name=x",
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert r.status_code == 415
    r = await client.post(
        "/api/v1/connections",
        content=b"{nope",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["cause"] == "invalid_json"


async def test_a_developer_key_is_422_app_102(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    k = sandbox.keys["developer"]
    r = await client.post(
        "/api/v1/connections",
        **_multipart(
            sandbox, "dev", "developer", k.private_key_pem.encode(), f"AuthKey_{k.key_id}.p8"
        ),
        headers=admin,
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "APP-102"
    assert r.json()["cause"] == "key_role_insufficient"


async def test_connect_sync_read_plan_confirm_audit(
    any_store_client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    client = any_store_client  # on SQLite and on PostgreSQL
    added = await _add_admin(client, admin, sandbox)
    assert added["connection"]["healthy"] is True
    assert added["doctor"]["ok"] is True
    assert added["doctor"]["capabilities"]["manage_users"] is True
    assert "private_key" not in str(added["connection"])

    again = await client.post(
        "/api/v1/connections",
        json={"name": "northwind", "key_id": "X", "private_key": "x"},
        headers=admin,
    )
    assert again.status_code == 409

    r = await client.post("/api/v1/connections/northwind/sync", headers=admin)
    assert r.status_code == 202
    started = r.json()
    assert started["started"] is True
    assert started["run_id"] is not None
    run = await _wait_for_run(client, admin, started["run_url"])
    assert run["status"] == "succeeded", run
    assert run["counts"]["users"] == 12

    users = (await client.get("/api/v1/users?search=kenji", headers=admin)).json()
    assert users["total"] == 1
    kenji = users["items"][0]
    assert kenji["email"] == KENJI
    assert kenji["roles"] == ["DEVELOPER"]
    assert [a["bundle_id"] for a in kenji["apps"]] == ["com.northwindlabs.ledger"]

    everyone = (await client.get("/api/v1/people?limit=5", headers=admin)).json()
    assert everyone["total"] == 14  # 12 members and 2 invitations
    assert len(everyone["items"]) == 5
    assert everyone["next_offset"] == 5
    admins = (await client.get("/api/v1/users?role=ADMIN", headers=admin)).json()
    assert admins["total"] == 3
    ledger = (await client.get("/api/v1/users?app=com.northwindlabs.ledger", headers=admin)).json()
    assert KENJI in [p["email"] for p in ledger["items"]]
    invites = (await client.get("/api/v1/invitations?state=expired", headers=admin)).json()
    assert invites["total"] == 1
    apps = (await client.get("/api/v1/apps", headers=admin)).json()
    assert apps["total"] == 6
    exported = (await client.get("/api/v1/export", headers=admin)).json()
    assert len(exported) == 14
    assert set(exported[0]) == {
        "connection", "email", "first_name", "last_name", "status", "roles",
        "all_apps_visible", "provisioning_allowed", "apps", "synced_at",
    }  # fmt: skip
    csv_text = (await client.get("/api/v1/export?format=csv", headers=admin)).text
    assert csv_text.splitlines()[0].startswith("connection,email")
    review = (await client.get("/api/v1/review", headers=admin)).json()
    assert review["counts"]["privileged"] >= 3
    leavers = (await client.post("/api/v1/review", json={"emails": [KENJI]}, headers=admin)).json()
    assert leavers["counts"]["not_in_directory"] == 12  # everyone else but the expired invitee

    token = (await client.post("/api/v1/tokens", json={"name": "hr-bot"}, headers=admin)).json()
    bot = {"Authorization": f"Bearer {token['token']}"}
    plan = await client.post(
        "/api/v1/actions/plans",
        json={"action": "remove", "email": KENJI, "connection": "northwind"},
        headers=bot,
    )
    assert plan.status_code == 201, plan.text
    planned = plan.json()
    assert planned["executable"] is True
    assert planned["plan"]["changes"] == 1
    assert any("remove" in line for line in planned["lines"])
    # Only the token that made the plan can confirm it.
    other = await client.post(planned["confirm_url"], headers=admin)
    assert other.status_code == 404
    # Nothing has changed yet.
    assert (await client.get("/api/v1/users?search=kenji", headers=admin)).json()["total"] == 1

    done = await client.post(planned["confirm_url"], headers=bot)
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["status"] == "done"
    assert [s["outcome"] for s in result["steps"]] == ["done"]
    assert result["actor"] == "token:hr-bot"
    again = await client.post(planned["confirm_url"], headers=bot)
    assert again.status_code == 404, "a plan runs at most once"

    assert (await client.get("/api/v1/users?search=kenji", headers=admin)).json()["total"] == 0
    changes = (await client.get("/api/v1/changes?type=user_removed", headers=admin)).json()
    assert [c["email"] for c in changes["items"]] == [KENJI]
    audit = (await client.get("/api/v1/audit", headers=admin)).json()["items"]
    assert audit[0]["actor"] == "token:hr-bot"
    assert audit[0]["action"] == "remove"
    entry = (await client.get(f"/api/v1/audit/{audit[0]['id']}", headers=admin)).json()
    assert entry["steps"][0]["outcome"] == "done"

    doctor = (await client.post("/api/v1/connections/northwind/doctor", headers=admin)).json()
    assert doctor["doctor"]["ok"] is True
    assert doctor["connection"]["last_run"]["status"] == "succeeded"

    r = await client.delete("/api/v1/connections/northwind", headers=admin)
    assert r.status_code == 200
    assert (await client.get("/api/v1/connections/northwind", headers=admin)).status_code == 404


async def test_rotate_refuses_a_broken_key_and_keeps_the_old_one(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    await _add_admin(client, admin, sandbox)
    k = sandbox.keys["admin"]
    r = await client.put(
        "/api/v1/connections/northwind/key",
        json={"key_id": k.key_id, "issuer_id": k.issuer_id, "private_key": "garbage"},
        headers=admin,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "APP-101"
    still = (await client.get("/api/v1/connections/northwind", headers=admin)).json()
    assert still["healthy"] is True
    r = await client.put(
        "/api/v1/connections/northwind/key",
        json={"key_id": k.key_id, "issuer_id": k.issuer_id, "private_key": k.private_key_pem},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    r = await client.put("/api/v1/connections/nowhere/key", json={}, headers=admin)
    assert r.status_code == 404


async def test_a_failed_sync_is_recorded_with_its_code(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    await _add_admin(client, admin, sandbox)
    sandbox.revoke_key(sandbox.keys["admin"].key_id)
    started = (await client.post("/api/v1/connections/northwind/sync", headers=admin)).json()
    run = await _wait_for_run(client, admin, started["run_url"])
    assert run["status"] == "failed"
    assert run["code"] == "APP-101"
    assert run["explanation"]["resolution"], "a failed run carries its fix"
    runs = (await client.get("/api/v1/sync/runs?status=failed", headers=admin)).json()["items"]
    assert [r["id"] for r in runs] == [run["id"]]


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/changes", "/api/v1/review"])
async def test_unknown_connection_filters_are_404(
    client: httpx.AsyncClient, admin: dict[str, str], path: str
) -> None:
    r = await client.get(f"{path}?connection=nowhere", headers=admin)
    assert r.status_code == 404
    assert "nowhere" in r.json()["message"]
