"""Bearer tokens, named tokens, console sessions and CSRF: every refusal is a clear 4xx."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from _support.service import ADMIN_TOKEN, csrf_of, lifespan
from asc_access.config import Settings
from asc_access.service import create_app
from asc_access.store.schema import api_tokens


async def test_no_token_is_401_with_the_fix(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    body = r.json()
    assert body["cause"] == "token_missing"
    assert body["code"] is None
    assert body["resolution"]
    assert "Bearer" in body["resolution"][0]
    assert set(body) >= {"code", "cause", "title", "resolution", "message"}


async def test_wrong_token_and_wrong_scheme_are_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert r.json()["cause"] == "token_invalid"
    r = await client.get("/api/v1/me", headers={"Authorization": f"Basic {ADMIN_TOKEN}"})
    assert r.status_code == 401
    assert r.json()["cause"] == "token_invalid"


async def test_admin_token_authenticates(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    r = await client.get("/api/v1/me", headers=admin)
    assert r.status_code == 200
    assert r.json() == {
        "token": "admin",
        "actor": "token:admin",
        "is_admin": True,
        "role": "admin",
        "via": "bearer",
    }


async def test_named_token_lifecycle(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    r = await client.post("/api/v1/tokens", json={"name": "reporting"}, headers=admin)
    assert r.status_code == 201
    secret = r.json()["token"]
    named = {"Authorization": f"Bearer {secret}"}

    r = await client.get("/api/v1/me", headers=named)
    assert r.json()["actor"] == "token:reporting"
    assert r.json()["is_admin"] is False

    # A named token may not manage tokens.
    r = await client.post("/api/v1/tokens", json={"name": "other"}, headers=named)
    assert r.status_code == 403
    assert r.json()["cause"] == "admin_required"

    listed = (await client.get("/api/v1/tokens", headers=admin)).json()["items"]
    assert [t["name"] for t in listed] == ["admin", "reporting"]
    assert all("token" not in t and "token_hash" not in t for t in listed)

    r = await client.post("/api/v1/tokens", json={"name": "reporting"}, headers=admin)
    assert r.status_code == 409

    r = await client.delete("/api/v1/tokens/reporting", headers=admin)
    assert r.status_code == 200
    assert r.json()["active"] is False

    r = await client.get("/api/v1/me", headers=named)
    assert r.status_code == 401
    assert r.json()["cause"] == "token_revoked"
    assert "reporting" in r.json()["message"]

    r = await client.delete("/api/v1/tokens/nobody", headers=admin)
    assert r.status_code == 404
    r = await client.post("/api/v1/tokens", json={"name": "bad name!"}, headers=admin)
    assert r.status_code == 400
    assert "token name" in r.json()["message"]


async def test_only_hashes_are_stored(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    secret = (await client.post("/api/v1/tokens", json={"name": "ci"}, headers=admin)).json()[
        "token"
    ]
    with app.state.ctx.engine.connect() as conn:
        rows = conn.execute(select(api_tokens)).mappings().all()
    stored = repr([dict(r) for r in rows])
    assert secret not in stored
    assert ADMIN_TOKEN not in stored
    assert len(rows) == 2


async def test_generated_admin_token_is_printed_once(tmp_path: Path) -> None:
    settings = Settings.from_env({"ASC_ACCESS_HOME": str(tmp_path / "h")})
    shown: list[str] = []
    first = create_app(settings, scheduler=False, on_admin_token=shown.append)
    assert len(shown) == 1
    create_app(settings, scheduler=False, on_admin_token=shown.append)
    assert len(shown) == 1, "a second start must not mint another admin token"
    async with (
        lifespan(first),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=first), base_url="https://testserver"
        ) as c,
    ):
        r = await c.get("/api/v1/me", headers={"Authorization": f"Bearer {shown[0]}"})
        assert r.status_code == 200
        assert r.json()["is_admin"] is True


async def _login(client: httpx.AsyncClient, token: str = ADMIN_TOKEN) -> httpx.Response:
    page = await client.get("/login")
    assert page.status_code == 200
    return await client.post(
        "/login", data={"token": token, "csrf_token": csrf_of(page), "next": "/api/v1/me"}
    )


async def test_login_sets_a_secure_httponly_strict_session(client: httpx.AsyncClient) -> None:
    r = await _login(client)
    assert r.status_code == 303
    assert r.headers["location"] == "/api/v1/me"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("asc_session="))
    lowered = cookie.lower()
    assert "secure" in lowered
    assert "httponly" in lowered
    assert "samesite=strict" in lowered
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["via"] == "session"


async def test_login_refuses_a_wrong_token(client: httpx.AsyncClient) -> None:
    r = await _login(client, token="nope")
    assert r.status_code == 401
    assert "not valid" in r.text
    assert "asc_session" not in r.headers.get("set-cookie", "")


async def test_login_without_or_with_wrong_csrf_is_403(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    r = await client.post("/login", data={"token": ADMIN_TOKEN})
    assert r.status_code == 403
    assert "CSRF" in r.text
    r = await client.post("/login", data={"token": ADMIN_TOKEN, "csrf_token": "forged"})
    assert r.status_code == 403


async def test_login_redirect_stays_on_this_site(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page), "next": "//evil.example/x"},
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/connections"


async def test_session_api_writes_need_the_csrf_header(
    client: httpx.AsyncClient,
) -> None:
    await _login(client)
    r = await client.post("/api/v1/tokens", json={"name": "from-console"})
    assert r.status_code == 403
    assert r.json()["cause"] == "csrf_missing"
    r = await client.post(
        "/api/v1/tokens", json={"name": "from-console"}, headers={"X-CSRF-Token": "wrong"}
    )
    assert r.status_code == 403
    assert r.json()["cause"] == "csrf_mismatch"
    # The token the page carries works.
    page = await client.get("/login?next=/connections", follow_redirects=False)
    assert page.status_code == 303  # already signed in


async def test_console_form_posts_need_the_csrf_field(client: httpx.AsyncClient) -> None:
    await _login(client)
    r = await client.post("/logout", data={})
    assert r.status_code == 403
    assert "CSRF" in r.text
    r = await client.post("/logout", data={"csrf_token": "forged"})
    assert r.status_code == 403


async def test_forged_or_revoked_sessions_are_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    secret = (await client.post("/api/v1/tokens", json={"name": "temp"}, headers=admin)).json()[
        "token"
    ]
    await _login(client, token=secret)
    assert (await client.get("/api/v1/me")).json()["actor"] == "token:temp"
    await client.delete("/api/v1/tokens/temp", headers=admin)
    r = await client.get("/api/v1/me")
    assert r.status_code == 401, "revoking a token ends its sessions"

    client.cookies.set("asc_session", "eyJ0aWQiOjF9.forged", domain="testserver.local")
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_console_pages_send_unknown_visitors_to_login(client: httpx.AsyncClient) -> None:
    r = await client.get("/connections?x=1")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/connections%3Fx%3D1"


async def test_security_headers(client: httpx.AsyncClient) -> None:
    r = await client.get("/login")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_signing_out_ends_the_session_even_for_a_copied_cookie(
    client: httpx.AsyncClient,
) -> None:
    await _login(client)
    page = await client.get("/connections")
    stolen = client.cookies.get("asc_session")
    assert stolen
    r = await client.post("/logout", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    client.cookies.set("asc_session", stolen, domain="testserver.local")
    assert (await client.get("/api/v1/me")).status_code == 401
    assert (await client.get("/connections")).status_code == 303
