"""CSV exports are inert in a spreadsheet, and the CLI and the API write the same CSV.

An invitation is created on the sandbox with names that a spreadsheet would run
as formulas. After a sync, every cell of both exports that started with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return carries a leading single quote
(OWASP's rule), and the CLI's ``export --format csv`` is byte for byte the API's.
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from _support.sandbox import RunningSandbox
from asc_access.cli.main import app as cli_app
from asc_access.store.export import neutralise

HOSTILE = {
    "firstName": '=HYPERLINK("http://evil.example","x")',
    "lastName": "+1-1",
}


def _invite(sandbox: RunningSandbox, email: str, first: str, last: str) -> None:
    body = {
        "data": {
            "type": "userInvitations",
            "attributes": {
                "email": email,
                "firstName": first,
                "lastName": last,
                "roles": ["DEVELOPER"],
                "allAppsVisible": True,
            },
        }
    }
    r = httpx.post(
        f"{sandbox.base_url}/v1/userInvitations", json=body, headers=sandbox.headers("admin")
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("value", "inert"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ava", "Ava"),
        ("", ""),
    ],
)
def test_neutralise(value: str, inert: str) -> None:
    assert neutralise(value) == inert


async def test_cli_and_api_csv_are_one_inert_writer(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    sandbox: RunningSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _invite(sandbox, "mallory@example.com", HOSTILE["firstName"], HOSTILE["lastName"])
    _invite(sandbox, "tab@example.com", "\tTab", "@at")
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
    started = (await client.post("/api/v1/connections/northwind/sync", headers=admin)).json()
    for _ in range(300):
        run = (await client.get(started["run_url"], headers=admin)).json()
        if run["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert run["status"] == "succeeded", run

    api_csv = (await client.get("/api/v1/export?format=csv", headers=admin)).text
    rows = list(csv.reader(io.StringIO(api_csv)))
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (cell, row)
    mallory = next(r for r in rows if r[1] == "mallory@example.com")
    assert mallory[2] == "'" + HOSTILE["firstName"]
    assert mallory[3] == "'+1-1"
    tab = next(r for r in rows if r[1] == "tab@example.com")
    assert tab[2:4] == ["'\tTab", "'@at"]

    monkeypatch.setenv("ASC_ACCESS_HOME", str(tmp_path / "home"))
    cli = CliRunner().invoke(cli_app, ["export", "--format", "csv"])
    assert cli.exit_code == 0, cli.output
    assert cli.stdout == api_csv  # one writer, one column list
