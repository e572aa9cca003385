"""Issue 12, item 9 (the smaller findings): each was reproducible on main.

- a key path like ``~nosuchuser/x.p8`` crashed the CLI, even with ``--json``;
- the console put a pasted PEM back into an input's ``value``;
- a plan made by a revoked token could be confirmed by a new token reusing its row id;
- no ``Strict-Transport-Security`` when serving over TLS;
- the session key was random per process, so two service processes refused
  each other's sessions.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI

from _support.sandbox import RunningSandbox
from _support.service import ADMIN_TOKEN, csrf_of, serve_in_thread
from asc_access.config import Settings
from asc_access.errors import UsageError
from asc_access.runtime import open_store
from asc_access.service import create_app
from asc_access.service.session_secret import session_secret_for
from asc_access.store.tokens import get_token
from hardening.support import cli

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
KENJI = "kenji.watanabe@northwindlabs.example.com"


# -- ~nosuchuser in a key path ----------------------------------------------------------


@pytest.mark.parametrize("command", ["doctor", "connect"])
def test_a_key_path_under_an_unknown_users_home_is_a_usage_error(command: str) -> None:
    args = [command] + (["acme"] if command == "connect" else [])
    result = cli(
        *args, "--json", "--key-id", "ABCDE12345",
        "--issuer-id", "57246542-96fe-1a63-e053-0824d011072a",
        "--private-key-file", "~nosuchuser-asc-access/AuthKey_ABCDE12345.p8",
    )  # fmt: skip
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 2, result.stdout
    doc = json.loads(result.stdout)  # exactly one JSON document
    assert "nosuchuser-asc-access" in doc["error"]
    assert "home directory" in doc["error"]


def test_the_same_from_the_environment() -> None:
    result = cli(
        "doctor", "--json",
        env={
            "ASC_KEY_ID": "ABCDE12345",
            "ASC_ISSUER_ID": "57246542-96fe-1a63-e053-0824d011072a",
            "ASC_PRIVATE_KEY_PATH": "~nosuchuser-asc-access/x.p8",
        },
    )  # fmt: skip
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 2
    assert "home directory" in json.loads(result.stdout)["error"]


# -- no key material echoed into forms ----------------------------------------------------


async def _login(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    await client.post(
        "/login", data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page), "next": "/connections"}
    )
    return csrf_of(await client.get("/connections/new"))


def _fragments(pem: str) -> list[str]:
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return [body[i : i + 16] for i in range(0, len(body) - 16, 16)]


async def test_a_pasted_pem_is_never_put_back_into_a_form(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    csrf = await _login(client)
    pem = sandbox.keys["admin"].private_key_pem
    one_line = pem.replace("\n", "")  # what a text input keeps of a paste
    body_only = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    for field in ("key_id", "issuer_id", "name", "api_url"):
        for pasted in (one_line, body_only):
            data = {
                "csrf_token": csrf,
                "name": "acme",
                "key_id": "ABCDE12345",
                "issuer_id": str(sandbox.keys["admin"].issuer_id),
                "api_url": sandbox.base_url,
                field: pasted,
            }
            r = await client.post(
                "/connections/new",
                data=data,
                files={"private_key": ("AuthKey.p8", b"not a key")},
            )
            assert r.status_code >= 400, field
            leaked = [f for f in _fragments(pem) if f in r.text]
            assert leaked == [], (field, r.text[:300])
    r = await client.post(
        "/actions/plan",
        data={"csrf_token": csrf, "action": "remove", "email": one_line, "connection": "x"},
    )
    assert [f for f in _fragments(pem) if f in r.text] == []


# -- plans are bound to the token itself ---------------------------------------------------


def test_a_plan_cannot_be_confirmed_by_a_new_token_reusing_the_row_id(
    app: FastAPI, sandbox: RunningSandbox
) -> None:
    key = sandbox.keys["admin"]
    with (
        serve_in_thread(app) as live,
        httpx.Client(base_url=live.base_url, headers=ADMIN, timeout=60) as c,
    ):
        added = c.post(
            "/api/v1/connections",
            json={
                "name": "northwind",
                "key_id": key.key_id,
                "issuer_id": key.issuer_id,
                "api_url": sandbox.base_url,
                "private_key": key.private_key_pem,
            },
        )
        assert added.status_code == 201, added.text
        first = c.post("/api/v1/tokens", json={"name": "hr-bot"}).json()
        engine = app.state.ctx.engine
        first_id = get_token(engine, "hr-bot").id  # type: ignore[union-attr]
        plan = c.post(
            "/api/v1/actions/plans",
            json={"action": "remove", "email": KENJI, "connection": "northwind"},
            headers={"Authorization": f"Bearer {first['token']}"},
        )
        assert plan.status_code == 201, plan.text
        assert c.delete("/api/v1/tokens/hr-bot").status_code == 200
        second = c.post("/api/v1/tokens", json={"name": "hr-bot"}).json()
        assert get_token(engine, "hr-bot").id == first_id  # type: ignore[union-attr]
        confirm = c.post(
            plan.json()["confirm_url"], headers={"Authorization": f"Bearer {second['token']}"}
        )
        assert confirm.status_code == 404, confirm.text
    people = httpx.get(f"{sandbox.base_url}/v1/users?limit=200", headers=sandbox.headers())
    assert KENJI in people.text, "the plan was carried out by another token"


# -- HSTS over TLS ----------------------------------------------------------------------------


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


def test_hsts_is_sent_over_tls_and_only_there(app: FastAPI, tls_files: tuple[str, str]) -> None:
    cert, key = tls_files
    with serve_in_thread(app, ssl_certfile=cert, ssl_keyfile=key) as live:
        assert live.base_url.startswith("https://")
        with httpx.Client(base_url=live.base_url, verify=False, timeout=10) as c:
            for path in ("/api/v1/health", "/login", "/api/v1/me"):
                r = c.get(path)
                assert r.headers.get("strict-transport-security") == "max-age=31536000", path
    with serve_in_thread(app) as plain, httpx.Client(base_url=plain.base_url) as c:
        assert "strict-transport-security" not in c.get("/api/v1/health").headers


# -- one session key for every process of a deployment -----------------------------------------


@contextmanager
def _two_services(settings: Settings) -> Iterator[tuple[str, str]]:
    first = create_app(settings, scheduler=False, secure_cookies=False)
    second = create_app(settings, scheduler=False, secure_cookies=False)
    with serve_in_thread(first) as one, serve_in_thread(second) as two:
        yield one.base_url, two.base_url


def _session_cookie(base_url: str) -> str:
    with httpx.Client(base_url=base_url, timeout=10) as c:
        page = c.get("/login")
        r = c.post(
            "/login",
            data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page), "next": "/connections"},
        )
        assert r.status_code == 303, r.text
        return str(c.cookies["asc_session"])


@pytest.mark.parametrize("source", ["master-env", "master-file", "session-secret"])
def test_two_service_processes_accept_each_others_sessions(tmp_path: Path, source: str) -> None:
    env = {"ASC_ACCESS_HOME": str(tmp_path / "home"), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN}
    if source == "master-env":
        env["ASC_ACCESS_MASTER_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    elif source == "session-secret":
        env["ASC_ACCESS_SESSION_SECRET"] = secrets.token_urlsafe(32)
    settings = Settings.from_env(env)
    if source == "master-file":
        from asc_access.runtime import vault_for

        vault_for(settings)  # creates master.key, as the first connect does
    open_store(settings).dispose()
    with _two_services(settings) as (one, two):
        cookie = _session_cookie(one)
        with httpx.Client(base_url=two, timeout=10, follow_redirects=False) as c:
            r = c.get("/connections", headers={"Cookie": f"asc_session={cookie}"})
            assert r.status_code == 200, (r.status_code, r.headers.get("location"))


def test_the_session_key_is_not_the_master_key_and_needs_length(tmp_path: Path) -> None:
    master = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    settings = Settings.from_env(
        {"ASC_ACCESS_HOME": str(tmp_path), "ASC_ACCESS_MASTER_KEY": master}
    )
    derived = session_secret_for(settings)
    assert derived == session_secret_for(settings)
    assert derived != base64.urlsafe_b64decode(master)
    assert re.fullmatch(rb".{32}", derived, flags=re.DOTALL)
    short = Settings.from_env({"ASC_ACCESS_HOME": str(tmp_path), "ASC_ACCESS_SESSION_SECRET": "x"})
    with pytest.raises(UsageError, match="ASC_ACCESS_SESSION_SECRET"):
        session_secret_for(short)
