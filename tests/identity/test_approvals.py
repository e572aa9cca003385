"""Four-eyes approval end to end against the sandbox (real HTTP to Apple's stand-in).

Requested by one token, refused when the same one approves, approved by a second,
re-planned from a fresh read, executed and verified in Apple; an expired request
does nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from _support.sandbox import RunningSandbox
from _support.service import ADMIN_TOKEN, allowing, csrf_of, lifespan
from asc_access.config import Settings
from asc_access.service import create_app
from asc_access.service.approvals import ApprovalPolicy
from asc_access.store.tokens import create_token

PRIYA = "priya.raman@northwindlabs.example.com"  # an Admin
MARCUS = "marcus.okafor@northwindlabs.example.com"  # an Admin
KENJI = "kenji.watanabe@northwindlabs.example.com"  # a Developer
TTL = 600.0


class Clock:
    """The service's clock, moved forward by the test."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def service(
    tmp_path: Path, sandbox: RunningSandbox, clock: Clock
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, dict[str, str]]]]:
    settings = Settings.from_env(
        allowing(
            {"ASC_ACCESS_HOME": str(tmp_path / "home"), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN},
            sandbox.base_url,
        )
    )
    policy = ApprovalPolicy(enabled=True, ttl_seconds=TTL)
    app = create_app(settings, scheduler=False, clock=clock, approvals=policy)
    who: dict[str, dict[str, str]] = {}
    for name, role in (("alice", "admin"), ("bob", "admin"), ("otto", "operator")):
        _, secret = create_token(app.state.ctx.engine, name, role=role)
        who[name] = {"Authorization": f"Bearer {secret}"}
    k = sandbox.keys["admin"]
    async with (
        lifespan(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://testserver"
        ) as client,
    ):
        body = {
            "name": "northwind",
            "key_id": k.key_id,
            "issuer_id": k.issuer_id,
            "api_url": sandbox.base_url,
            "private_key": k.private_key_pem,
        }
        r = await client.post("/api/v1/connections", json=body, headers=who["alice"])
        assert r.status_code == 201, r.text
        yield client, who


def _apple(sandbox: RunningSandbox) -> dict[str, dict[str, Any]]:
    """The team as Apple (the sandbox) has it now: e-mail -> attributes."""
    r = httpx.get(f"{sandbox.base_url}/v1/users?limit=200", headers=sandbox.headers())
    assert r.status_code == 200, r.text
    return {u["attributes"]["username"]: u for u in r.json()["data"]}


async def _request(
    client: httpx.AsyncClient, headers: dict[str, str], **action: Any
) -> dict[str, Any]:
    plan = await client.post("/api/v1/actions/plans", json=action, headers=headers)
    assert plan.status_code == 201, plan.text
    r = await client.post(plan.json()["confirm_url"], headers=headers)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "awaiting_approval"
    return dict(r.json()["approval"])


async def test_removing_an_admin_needs_a_second_person(
    service: tuple[httpx.AsyncClient, dict[str, dict[str, str]]], sandbox: RunningSandbox
) -> None:
    client, who = service
    approval = await _request(
        client, who["alice"], action="remove", email=MARCUS, connection="northwind"
    )
    assert approval["requested_by"] == "token:alice"
    assert "removes the Admin" in approval["reason"]
    assert approval["status"] == "pending"
    assert MARCUS in _apple(sandbox), "nothing changes before the approval"
    url = f"/api/v1/approvals/{approval['id']}/approve"

    r = await client.post(url, headers=who["alice"])
    assert r.status_code == 403
    assert r.json()["cause"] == "approver_is_requester"
    r = await client.post(url, headers=who["otto"])
    assert r.status_code == 403
    assert r.json()["detail"]["required_role"] == "admin"
    assert MARCUS in _apple(sandbox)

    r = await client.post(url, headers=who["bob"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["execution"]["status"] == "done"
    assert [s["outcome"] for s in body["execution"]["steps"]] == ["done"]
    assert body["approval"]["status"] == "executed"
    assert body["approval"]["decided_by"] == "token:bob"
    assert MARCUS not in _apple(sandbox), "executed and verified in Apple"

    entry = (
        await client.get(
            f"/api/v1/audit/{body['approval']['audit_entry_id']}", headers=who["alice"]
        )
    ).json()
    assert entry["actor"] == "token:alice"
    assert entry["requested_by"] == "token:alice"
    assert entry["approved_by"] == "token:bob"
    assert entry["status"] == "done"
    again = await client.post(url, headers=who["bob"])
    assert again.status_code == 409
    assert again.json()["cause"] == "approval_decided"


async def test_the_approved_action_is_planned_again_from_a_fresh_read(
    service: tuple[httpx.AsyncClient, dict[str, dict[str, str]]], sandbox: RunningSandbox
) -> None:
    client, who = service
    approval = await _request(
        client,
        who["alice"],
        action="set-roles",
        email=PRIYA,
        connection="northwind",
        roles=["DEVELOPER"],
    )
    assert "takes the Admin role" in approval["reason"]
    # Meanwhile someone changes Priya in App Store Connect itself.
    sandbox.set_roles(_apple(sandbox)[PRIYA]["id"], ["DEVELOPER"], all_apps_visible=True)
    r = await client.post(f"/api/v1/approvals/{approval['id']}/approve", headers=who["bob"])
    assert r.status_code == 200, r.text
    steps = r.json()["execution"]["steps"]
    assert [s["outcome"] for s in steps] == ["already"], "the fresh read saw it done"


async def test_an_expired_approval_does_nothing(
    service: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
    sandbox: RunningSandbox,
    clock: Clock,
) -> None:
    client, who = service
    approval = await _request(client, who["alice"], action="offboard", email=KENJI)
    assert approval["reason"] == f"offboards {KENJI}"
    audit_before = (await client.get("/api/v1/audit", headers=who["bob"])).json()["items"]

    clock.offset = timedelta(seconds=TTL + 1)
    listed = (await client.get("/api/v1/approvals", headers=who["bob"])).json()["items"]
    assert listed[0]["status"] == "expired"
    r = await client.post(f"/api/v1/approvals/{approval['id']}/approve", headers=who["bob"])
    assert r.status_code == 410
    assert r.json()["cause"] == "approval_expired"
    assert KENJI in _apple(sandbox)
    audit_after = (await client.get("/api/v1/audit", headers=who["bob"])).json()["items"]
    assert audit_after == audit_before
    r = await client.get(f"/api/v1/approvals/{approval['id']}", headers=who["bob"])
    assert r.json()["status"] == "expired"


async def test_ordinary_actions_run_at_once_and_requests_can_be_refused(
    service: tuple[httpx.AsyncClient, dict[str, dict[str, str]]], sandbox: RunningSandbox
) -> None:
    client, who = service
    plan = await client.post(
        "/api/v1/actions/plans",
        json={"action": "remove", "email": KENJI, "connection": "northwind"},
        headers=who["alice"],
    )
    r = await client.post(plan.json()["confirm_url"], headers=who["alice"])
    assert r.status_code == 200, "removing a Developer needs no second person"
    assert KENJI not in _apple(sandbox)

    approval = await _request(
        client, who["alice"], action="remove", email=PRIYA, connection="northwind"
    )
    r = await client.post(f"/api/v1/approvals/{approval['id']}/refuse", headers=who["bob"])
    assert r.status_code == 200
    assert r.json()["status"] == "refused"
    r = await client.post(f"/api/v1/approvals/{approval['id']}/approve", headers=who["bob"])
    assert r.status_code == 409
    assert PRIYA in _apple(sandbox)


async def _console_login(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    client.cookies.clear()
    token = headers["Authorization"].removeprefix("Bearer ")
    page = await client.get("/login")
    r = await client.post(
        "/login", data={"token": token, "csrf_token": csrf_of(page), "next": "/approvals"}
    )
    assert r.status_code == 303
    return csrf_of(await client.get("/approvals"))


async def test_the_console_asks_for_and_gives_approval(
    service: tuple[httpx.AsyncClient, dict[str, dict[str, str]]], sandbox: RunningSandbox
) -> None:
    client, who = service
    csrf = await _console_login(client, who["alice"])
    page = await client.post(
        "/actions/plan",
        data={"csrf_token": csrf, "action": "remove", "email": MARCUS, "connection": "northwind"},
    )
    assert page.status_code == 200, page.text
    plan_id = page.text.split("/actions/plans/")[1].split("/confirm")[0]
    r = await client.post(f"/actions/plans/{plan_id}/confirm", data={"csrf_token": csrf})
    assert r.status_code == 202
    assert "Waiting for a second person" in r.text
    assert MARCUS in _apple(sandbox)
    mine = (await client.get("/approvals")).text
    assert '<a href="/approvals"' in mine, "in the menu with four-eyes on"
    assert "Withdraw" in mine, mine[mine.find("<tbody>") :]
    assert ">Approve<" not in mine, "the requester is not offered the approval"
    approval_id = mine.split('data-approval="')[1].split('"')[0]

    csrf = await _console_login(client, who["bob"])
    theirs = (await client.get("/approvals")).text
    assert ">Approve<" in theirs
    r = await client.post(f"/approvals/{approval_id}/approve", data={"csrf_token": csrf})
    assert r.status_code == 200, r.text
    assert "Action finished" in r.text
    assert MARCUS not in _apple(sandbox)
    entry_id = r.text.split('href="/audit/')[1].split('"')[0]
    entry = (await client.get(f"/audit/{entry_id}")).text
    assert "Approved by" in entry
    assert "token:bob" in entry
    assert "token:alice" in entry


async def _document_without(client: httpx.AsyncClient, headers: dict[str, str], leaver: str):
    """The team as a desired-state document (from a fresh sync's export), minus ``leaver``."""
    r = await client.post("/api/v1/connections/northwind/sync", headers=headers)
    assert r.status_code == 202, r.text
    for _ in range(300):
        runs = (await client.get("/api/v1/sync/runs", headers=headers)).json()["items"]
        if runs and runs[0]["status"] != "running":
            break
        await asyncio.sleep(0.05)
    people = []
    for row in (await client.get("/api/v1/export", headers=headers)).json():
        if row["email"] == leaver or "ACCOUNT_HOLDER" in row["roles"]:
            continue
        person = {k: row[k] for k in ("email", "first_name", "last_name", "roles")}
        person["provisioning"] = row["provisioning_allowed"]
        if row["all_apps_visible"]:
            person["all_apps"] = True
        else:
            person["apps"] = [a["bundle_id"] for a in row["apps"]]
        people.append(person)
    # removing the unlisted leaver needs an explicit remove_unlisted (issue 11)
    return {"remove_unlisted": True, "connections": {"northwind": {"people": people}}}


async def test_applying_a_desired_state_with_removals_waits_for_approval(
    service: tuple[httpx.AsyncClient, dict[str, dict[str, str]]], sandbox: RunningSandbox
) -> None:
    client, who = service
    document = await _document_without(client, who["alice"], KENJI)
    r = await client.post("/api/v1/actions/apply", json={"document": document}, headers=who["otto"])
    assert r.status_code == 403, "applying a desired state needs the admin role"
    planned = await client.post(
        "/api/v1/actions/apply", json={"document": document}, headers=who["alice"]
    )
    assert planned.status_code == 201, planned.text
    lines = planned.json()["lines"]
    assert any(f"remove {KENJI} from the team" in line for line in lines), lines
    r = await client.post(planned.json()["confirm_url"], headers=who["alice"])
    assert r.status_code == 202, r.text
    approval = r.json()["approval"]
    assert approval["reason"] == "applies a desired state that removes access"
    assert KENJI in _apple(sandbox)
    r = await client.post(f"/api/v1/approvals/{approval['id']}/approve", headers=who["bob"])
    assert r.status_code == 200, r.text
    assert r.json()["execution"]["status"] == "done", r.json()["execution"]
    assert KENJI not in _apple(sandbox)
    assert PRIYA in _apple(sandbox), "the people in the file keep their access"


def test_the_policy_comes_from_the_environment() -> None:
    from asc_access.errors import UsageError

    assert ApprovalPolicy.from_env({}) == ApprovalPolicy(enabled=False, ttl_seconds=86400.0)
    policy = ApprovalPolicy.from_env(
        {"ASC_ACCESS_FOUR_EYES": "true", "ASC_ACCESS_APPROVAL_TTL": "3600"}
    )
    assert policy == ApprovalPolicy(enabled=True, ttl_seconds=3600.0)
    with pytest.raises(UsageError, match="APPROVAL_TTL"):
        ApprovalPolicy.from_env({"ASC_ACCESS_APPROVAL_TTL": "soon"})
