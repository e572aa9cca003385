"""Console pages in-process (no browser): every page renders, forms need CSRF, flows work."""

from __future__ import annotations

import asyncio
import re

import httpx

from _support.sandbox import RunningSandbox
from _support.service import ADMIN_TOKEN, csrf_of

KENJI = "kenji.watanabe@northwindlabs.example.com"


async def _login(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    r = await client.post(
        "/login", data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page), "next": "/connections"}
    )
    assert r.status_code == 303
    home = await client.get("/connections")
    assert home.status_code == 200
    return csrf_of(home)


def _key_form(sandbox: RunningSandbox, csrf: str, name: str, pem: bytes, filename: str) -> dict:
    k = sandbox.keys["admin"]
    return {
        "data": {
            "csrf_token": csrf,
            "name": name,
            "key_id": k.key_id,
            "issuer_id": k.issuer_id,
            "api_url": sandbox.base_url,
        },
        "files": {"private_key": (filename, pem, "application/octet-stream")},
    }


async def test_every_page_renders_empty(client: httpx.AsyncClient) -> None:
    await _login(client)
    for path in (
        "/connections",
        "/connections/new",
        "/people",
        "/changes",
        "/review",
        "/actions",
        "/actions?action=invite",
        "/actions?action=set-apps",
        "/actions?action=offboard",
        "/sync",
        "/audit",
    ):
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        assert "<h1>" in r.text
        assert 'name="csrf_token"' in r.text, path  # the sign-out form at least
        assert 'name="csrf_token" value=""' not in r.text, path
    assert (await client.get("/connections/nope")).status_code == 404
    assert (await client.get("/sync/runs/42")).status_code == 404
    assert (await client.get("/audit/42")).status_code == 404


async def test_add_connection_without_csrf_is_403(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    await _login(client)
    form = _key_form(sandbox, "", "x", b"junk", "AuthKey.p8")
    del form["data"]["csrf_token"]
    r = await client.post("/connections/new", **form)
    assert r.status_code == 403
    assert "CSRF" in r.text


async def test_console_flow(client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    csrf = await _login(client)

    r = await client.post(
        "/connections/new", **_key_form(sandbox, csrf, "broken", b"not a key", "AuthKey_X.p8")
    )
    assert r.status_code == 422
    assert "APP-101" in r.text
    assert "How to fix it" in r.text
    assert "The key was not saved" in r.text

    r = await client.post(
        "/connections/new", **_key_form(sandbox, csrf, "big", b"k" * 20_000, "AuthKey_X.p8")
    )
    assert r.status_code == 413
    assert "too large" in r.text

    pem = sandbox.keys["admin"].private_key_pem.encode()
    r = await client.post("/connections/new", **_key_form(sandbox, csrf, "northwind", pem, "a.p8"))
    assert r.status_code == 200, r.text
    assert "Connected" in r.text
    assert "Manage users: yes" in r.text
    assert 'name="csrf_token" value=""' not in r.text

    r = await client.post("/sync/northwind", data={"csrf_token": csrf})
    assert r.status_code == 303
    run_url = r.headers["location"]
    assert re.fullmatch(r"/sync/runs/\d+", run_url)
    for _ in range(200):
        page = await client.get(run_url)
        if "Succeeded" in page.text:
            break
        await asyncio.sleep(0.05)
    assert "Succeeded" in page.text

    people = await client.get("/people?q=kenji")
    assert KENJI in people.text
    assert "Developer" in people.text
    assert "Pocket Ledger" in people.text
    everyone = await client.get("/people")
    assert "14 people match" in everyone.text
    by_app = await client.get("/people?app=com.northwindlabs.ledger&status=member")
    assert KENJI in by_app.text
    missing = await client.get("/people?app=no.such.app")
    assert "no app" in missing.text

    form = await client.get(f"/actions?action=remove&email={KENJI}&connection=northwind")
    assert KENJI in form.text
    plan = await client.post(
        "/actions/plan",
        data={
            "csrf_token": csrf,
            "action": "remove",
            "email": KENJI,
            "connection": "northwind",
        },
    )
    assert plan.status_code == 200, plan.text
    assert "Review the plan" in plan.text
    assert "Will change" in plan.text
    confirm = re.search(r'action="(/actions/plans/[^"]+/confirm)"', plan.text)
    assert confirm
    assert KENJI in (await client.get("/people?q=kenji")).text, "nothing changed before confirming"
    no_csrf = await client.post(confirm.group(1), data={})
    assert no_csrf.status_code == 403
    done = await client.post(confirm.group(1), data={"csrf_token": csrf})
    assert done.status_code == 200
    assert "Done" in done.text

    assert KENJI not in (await client.get("/people?q=kenji")).text
    timeline = await client.get("/changes")
    assert KENJI in timeline.text
    assert "Removed" in timeline.text
    assert "audit #" in timeline.text
    audit = await client.get("/audit")
    assert "token:admin" in audit.text

    review = await client.post("/review", data={"csrf_token": csrf, "directory": "x@y.z"})
    assert "Not in the staff directory" in review.text
    test = await client.post("/connections/northwind/test", data={"csrf_token": csrf})
    assert "What the doctor checked" in test.text

    sandbox.revoke_key(sandbox.keys["admin"].key_id)
    test = await client.post("/connections/northwind/test", data={"csrf_token": csrf})
    listing = await client.get("/connections")
    assert "APP-101" in listing.text
    assert "How to fix it" in listing.text

    r = await client.post(
        "/connections/northwind/remove", data={"csrf_token": csrf, "confirm": "x"}
    )
    assert r.status_code == 422
    r = await client.post(
        "/connections/northwind/remove", data={"csrf_token": csrf, "confirm": "northwind"}
    )
    assert r.status_code == 303
    assert "No connections yet" in (await client.get("/connections")).text
