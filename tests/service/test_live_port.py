"""The same API over a real loopback port (uvicorn in a thread): auth and bad input stay 4xx."""

from __future__ import annotations

import httpx

from _support.service import ADMIN_TOKEN, LiveServer, csrf_of


def test_auth_failures_over_http(live: LiveServer) -> None:
    with httpx.Client(base_url=live.base_url, timeout=10) as c:
        assert c.get("/api/v1/health").json()["ok"] is True
        r = c.get("/api/v1/me")
        assert r.status_code == 401
        assert r.json()["cause"] == "token_missing"
        r = c.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        assert r.json()["cause"] == "token_invalid"
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        secret = c.post("/api/v1/tokens", json={"name": "temp"}, headers=admin).json()["token"]
        assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).is_success
        c.delete("/api/v1/tokens/temp", headers=admin)
        r = c.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 401
        assert r.json()["cause"] == "token_revoked"


def test_bad_input_over_http(live: LiveServer) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=live.base_url, timeout=10, headers=admin) as c:
        r = c.post(
            "/api/v1/actions/plans",
            content=b'{"action": ',
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 400
        assert r.json()["cause"] == "invalid_json"
        r = c.post(
            "/api/v1/connections",
            data={"name": "x", "key_id": "ABCDE12345"},
            files={"private_key": ("AuthKey_ABCDE12345.p8", b"k" * 50_000)},
        )
        assert r.status_code == 413
        r = c.post("/api/v1/tokens", content=b"x" * 300_000)
        assert r.status_code == 413
        r = c.post(
            "/api/v1/connections",
            data={"name": "x", "key_id": "ABCDE12345"},
            files={"private_key": ("AuthKey_ABCDE12345.p8", b"\x00\x01 binary garbage")},
        )
        assert r.status_code == 422
        assert r.json()["code"] == "APP-101"
        assert c.get("/api/v1/sync/runs/123").status_code == 404
        assert c.get("/api/v1/connections/none").status_code == 404


def test_console_csrf_over_http(live: LiveServer) -> None:
    # Plain http on 127.0.0.1: httpx, unlike a browser, will not send Secure cookies over
    # http, so carry them by hand the way a browser on localhost does.
    with httpx.Client(base_url=live.base_url, timeout=10, follow_redirects=False) as c:
        page = c.get("/login")
        login_cookie = page.cookies["asc_login"]
        r = c.post(
            "/login",
            data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page)},
            headers={"Cookie": f"asc_login={login_cookie}"},
        )
        assert r.status_code == 303
        session = r.cookies["asc_session"]
        jar = {"Cookie": f"asc_session={session}"}
        assert c.get("/api/v1/me", headers=jar).json()["via"] == "session"
        r = c.post("/logout", data={}, headers=jar)
        assert r.status_code == 403
        assert "CSRF" in r.text
        r = c.post("/api/v1/tokens", json={"name": "via-cookie"}, headers=jar)
        assert r.status_code == 403
        assert r.json()["cause"] == "csrf_missing"
