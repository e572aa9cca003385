"""One rule for connection names, at every entry point (issue 12, item 7).

A name becomes part of ``/api/v1/connections/{name}``; ``a/b`` or ``..`` could
be saved and then never reached again, and control or bidi characters make the
audit log lie. The rule is the token names' rule (:func:`asc_access.ids.name_problem`),
checked by the CLI's ``connect``, the API (JSON and multipart) and the console form,
each with a clear error and nothing saved.
"""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

from _support.sandbox import RunningSandbox
from _support.service import ADMIN_TOKEN, csrf_of, serve_in_thread
from asc_access.errors import UsageError
from asc_access.ids import name_problem
from asc_access.runtime import open_store
from asc_access.store.connections import check_connection_name, list_connections
from asc_access.store.tokens import check_name
from hardening.support import cli

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BAD = [
    "a/b",
    "..",
    ".",
    "../x",
    "a\nb",
    "acme\n",  # a trailing newline slips through a `^...$` regex
    "a\tb",
    "a\x00b",
    "a\u202eb",  # right-to-left override
    "a\u200bb",  # zero-width space
    "ac\u0301me",
    "a b",
    "-acme",
    "x" * 65,
    "%2e%2e",
]
GOOD = ["northwind", "acme-prod", "Team_2", "a.b", "x" * 64]


@pytest.mark.parametrize("name", BAD)
def test_the_one_rule_refuses_it_for_tokens_and_connections(name: str) -> None:
    assert name_problem(name) is not None
    with pytest.raises(UsageError, match="not allowed"):
        check_connection_name(name)
    with pytest.raises(UsageError, match="not allowed"):
        check_name(name)


@pytest.mark.parametrize("name", GOOD)
def test_ordinary_names_pass(name: str) -> None:
    assert name_problem(name) is None
    assert check_connection_name(name) == name


def test_the_api_refuses_bad_names_json_and_multipart(
    app: FastAPI, sandbox: RunningSandbox
) -> None:
    key = sandbox.keys["admin"]
    with (
        serve_in_thread(app) as live,
        httpx.Client(base_url=live.base_url, headers=ADMIN, timeout=30) as c,
    ):
        for name in BAD:
            if name != name.strip():
                continue  # the service strips surrounding white space from form values
            body = {
                "name": name,
                "key_id": key.key_id,
                "issuer_id": key.issuer_id,
                "api_url": sandbox.base_url,
                "private_key": key.private_key_pem,
            }
            r = c.post("/api/v1/connections", json=body)
            assert r.status_code == 422, (name, r.text)
            assert r.json()["cause"] == "invalid_name"
            assert "letters, digits" in r.json()["message"]
            files = {"private_key": ("AuthKey.p8", key.private_key_pem.encode())}
            form = {k: str(v) for k, v in body.items() if k != "private_key"}
            r = c.post("/api/v1/connections", data=form, files=files)
            assert r.status_code == 422, (name, r.text)
            assert r.json()["cause"] == "invalid_name"
        assert c.get("/api/v1/connections").json()["items"] == []
        good = c.post(
            "/api/v1/connections",
            json={
                "name": "northwind",
                "key_id": key.key_id,
                "issuer_id": key.issuer_id,
                "api_url": sandbox.base_url,
                "private_key": key.private_key_pem,
            },
        )
        assert good.status_code == 201, good.text


async def test_the_console_form_refuses_bad_names(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    page = await client.get("/login")
    await client.post(
        "/login", data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page), "next": "/connections"}
    )
    csrf = csrf_of(await client.get("/connections/new"))
    key = sandbox.keys["admin"]
    for name in ("a/b", "..", "a\u202eb"):
        r = await client.post(
            "/connections/new",
            data={
                "csrf_token": csrf,
                "name": name,
                "key_id": key.key_id,
                "issuer_id": key.issuer_id,
                "api_url": sandbox.base_url,
            },
            files={"private_key": ("AuthKey.p8", key.private_key_pem.encode())},
        )
        assert r.status_code == 422, (name, r.text[:300])
        assert "connection name is not allowed" in r.text
    listed = await client.get("/api/v1/connections", headers=ADMIN)
    assert listed.json()["items"] == []


@pytest.mark.parametrize("name", ["a/b", "..", "a\u202eb", "acme\n"])
def test_cli_connect_refuses_bad_names(name: str, sandbox: RunningSandbox) -> None:
    key = sandbox.keys["admin"]
    result = cli(
        "connect", name, "--key-id", key.key_id, "--issuer-id", str(key.issuer_id),
        "--private-key-file", str(key.private_key_file), "--api-url", sandbox.base_url, "--json",
    )  # fmt: skip
    assert result.exit_code == 2, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert "not allowed" in json.dumps(doc)
    assert list_connections(open_store()) == []
