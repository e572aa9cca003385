"""The last-Admin rule under concurrency: two confirms at the same moment over the API.

Two plans each remove one of the team's last two Admins (besides the Account
Holder). Each plan alone is allowed. Confirmed together, exactly one may succeed:
the other must be refused by the last-Admin rule, re-checked under the team's
lock against a fresh read. Every read from the sandbox is slowed, so without
the lock both steps read "another Admin is left" before either deletes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from _support.sandbox import RunningSandbox

PRIYA = "priya.raman@northwindlabs.example.com"
MARCUS = "marcus.okafor@northwindlabs.example.com"


async def _connect(client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox):
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


async def _plan_remove(client: httpx.AsyncClient, admin: dict[str, str], email: str) -> str:
    r = await client.post(
        "/api/v1/actions/plans",
        json={"action": "remove", "email": email, "connection": "northwind"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    planned = r.json()
    assert planned["executable"] is True, planned  # alone, each removal is allowed
    return str(planned["confirm_url"])


def _admins(sandbox: RunningSandbox) -> set[str]:
    users = httpx.get(
        f"{sandbox.base_url}/v1/users?filter[roles]=ADMIN&limit=200",
        headers=sandbox.headers("admin"),
    ).json()["data"]
    return {u["attributes"]["username"] for u in users}


async def test_two_concurrent_confirms_leave_one_admin(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    await _connect(client, admin, sandbox)
    confirm_priya = await _plan_remove(client, admin, PRIYA)
    confirm_marcus = await _plan_remove(client, admin, MARCUS)

    sandbox.add_fault(latency_ms=250, method="GET")  # widen the read-check-write window
    answers = await asyncio.gather(
        client.post(confirm_priya, headers=admin),
        client.post(confirm_marcus, headers=admin),
    )
    sandbox.clear_faults()

    results: list[dict[str, Any]] = [a.json() for a in answers]
    assert [a.status_code for a in answers] == [200, 200], results
    outcomes = sorted(r["steps"][0]["outcome"] for r in results)
    assert outcomes == ["done", "failed"], results
    refused = next(r for r in results if r["steps"][0]["outcome"] == "failed")
    assert refused["steps"][0]["cause"] == "last_admin", refused
    assert "last Admin" in refused["steps"][0]["message"]
    left = _admins(sandbox) & {PRIYA, MARCUS}
    assert len(left) == 1, f"both Admins were removed: {left}"
