"""The console checks the same table: it hides what a role may not do and refuses it."""

from __future__ import annotations

import httpx
import pytest

from _support.service import csrf_of


async def _login(client: httpx.AsyncClient, token: str) -> str:
    page = await client.get("/login")
    r = await client.post(
        "/login", data={"token": token, "csrf_token": csrf_of(page), "next": "/connections"}
    )
    assert r.status_code == 303
    return csrf_of(await client.get("/connections"))


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("viewer", [], ["Add a connection", 'href="/actions"']),
        ("operator", ['href="/actions"'], ["Add a connection"]),
        ("admin", ['href="/actions"', "Add a connection"], []),
    ],
)
async def test_the_console_shows_only_what_the_role_may_do(
    client: httpx.AsyncClient,
    role_tokens: dict[str, str],
    role: str,
    shown: list[str],
    hidden: list[str],
) -> None:
    await _login(client, role_tokens[role])
    page = (await client.get("/connections")).text
    assert f'data-role="{role}"' in page
    for text in shown:
        assert text in page, (role, text)
    for text in hidden:
        assert text not in page, (role, text)


async def test_a_viewer_is_refused_console_actions_with_the_role_named(
    client: httpx.AsyncClient, role_tokens: dict[str, str]
) -> None:
    csrf = await _login(client, role_tokens["viewer"])
    r = await client.post("/connections/acme/remove", data={"csrf_token": csrf, "confirm": "acme"})
    assert r.status_code == 403
    assert "admin" in r.text
    assert "role" in r.text
    r = await client.get("/actions")
    assert r.status_code == 403
    r = await client.post("/sync/acme", data={"csrf_token": csrf})
    assert r.status_code == 403
    assert (await client.get("/people")).status_code == 200


async def test_an_operator_sees_only_the_actions_it_may_plan(
    client: httpx.AsyncClient, role_tokens: dict[str, str]
) -> None:
    csrf = await _login(client, role_tokens["operator"])
    page = (await client.get("/actions?action=remove")).text
    assert "Offboard from every team" not in page
    assert "Remove a member" not in page
    assert "Change roles" in page
    r = await client.post(
        "/actions/plan",
        data={"csrf_token": csrf, "action": "remove", "email": "x@example.com", "connection": "a"},
    )
    assert r.status_code == 403
    assert "admin" in r.text


async def test_the_approvals_page_is_in_the_menu_only_with_four_eyes_on(
    client: httpx.AsyncClient, role_tokens: dict[str, str]
) -> None:
    await _login(client, role_tokens["admin"])
    assert 'href="/approvals"' not in (await client.get("/connections")).text
    assert (await client.get("/approvals")).status_code == 200
