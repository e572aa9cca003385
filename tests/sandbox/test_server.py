"""The sandbox on real loopback ports: fixtures, dropped connections, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from _support.sandbox import RunningSandbox, make_token
from asc_access.sandbox.server import free_port

CLI = [sys.executable, "-c", "from asc_access.cli.main import main; main()"]
KEY_NAMES = {"admin", "developer", "individual-admin", "individual-developer", "revoked"}


def test_sandbox_fixture_serves_on_loopback(sandbox: RunningSandbox) -> None:
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    assert set(sandbox.keys) == KEY_NAMES
    for key in sandbox.keys.values():
        assert key.private_key_file.stat().st_mode & 0o777 == 0o600
        assert key.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
        assert (key.issuer_id is None) == (key.key_type == "individual")
        assert (key.user is not None) == (key.key_type == "individual")
    document = json.loads((sandbox.state_dir / "sandbox.json").read_text())
    assert document["base_url"] == sandbox.base_url
    assert "PRIVATE KEY" not in json.dumps(document)
    with httpx.Client(base_url=sandbox.base_url) as client:
        response = client.get("/v1/users", headers=sandbox.headers("admin"))
        assert response.status_code == 200
        assert response.json()["meta"]["paging"]["total"] == 12
        assert response.json()["links"]["self"] == f"{sandbox.base_url}/v1/users"
        assert len(response.headers.get_list("date")) == 1
        assert response.headers["x-request-id"]
        assert "server" not in response.headers
        assert client.get("/v1/users", headers=sandbox.headers("revoked")).status_code == 401


def test_dropped_connection_over_a_real_socket(sandbox: RunningSandbox) -> None:
    sandbox.add_fault(drop=True, count=1, path_prefix="/v1/users")
    with httpx.Client(base_url=sandbox.base_url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/v1/users", headers=sandbox.headers())
        assert client.get("/v1/users", headers=sandbox.headers()).status_code == 200
    sandbox.add_fault(malformed=True, count=1)
    with httpx.Client(base_url=sandbox.base_url) as client:
        with pytest.raises(json.JSONDecodeError):
            client.get("/v1/apps", headers=sandbox.headers()).json()
    assert sandbox.stats()["by_route"]["GET /v1/users"] == 2


def test_helpers_stage_situations(sandbox: RunningSandbox) -> None:
    headers = sandbox.headers
    with httpx.Client(base_url=sandbox.base_url) as client:
        invitations = client.get("/v1/userInvitations", headers=headers()).json()["data"]
        pending = next(
            i for i in invitations if i["attributes"]["email"].startswith("ella.johansson")
        )
        user_id = sandbox.accept_invitation(pending["id"])
        assert client.get(f"/v1/users/{user_id}", headers=headers()).status_code == 200
        developer = sandbox.keys["individual-developer"]
        assert client.get("/v1/users", headers=headers("individual-developer")).status_code == 403
        sandbox.set_roles(developer.user or "", ["ADMIN"])
        assert client.get("/v1/users", headers=headers("individual-developer")).status_code == 200
        sandbox.set_agreements(False)
        assert client.get("/v1/apps", headers=headers()).status_code == 403
        sandbox.set_agreements(True)
        key = sandbox.issue_key("team", role="DEVELOPER", name="ci")
        assert key.private_key_file.exists()
        assert client.get("/v1/apps", headers=headers("ci")).status_code == 200
        sandbox.revoke_key(key.key_id)
        assert client.get("/v1/apps", headers=headers("ci")).status_code == 401
        sandbox.set_clock_offset(-3600)  # the sandbox runs an hour behind: our iat is "future"
        assert client.get("/v1/apps", headers=headers()).status_code == 401
        sandbox.set_clock_offset(0)
        sandbox.set_rate_limit(2)
        assert client.get("/v1/apps", headers=headers()).status_code == 429
        sandbox.reset()
        assert client.get(f"/v1/users/{user_id}", headers=headers()).status_code == 404
        assert sandbox.info()["users"] == 12


def test_several_teams_at_once(sandbox_factory: Any) -> None:
    first = sandbox_factory()
    second = sandbox_factory(users=40, apps=12, invitations=5, random_seed=4)
    third = sandbox_factory()
    assert len({first.base_url, second.base_url, third.base_url}) == 3
    assert first.issuer_id != third.issuer_id
    with httpx.Client() as client:

        def usernames(running: RunningSandbox) -> list[str]:
            response = client.get(f"{running.base_url}/v1/users", headers=running.headers())
            return [u["attributes"]["username"] for u in response.json()["data"]]

        assert usernames(first) == usernames(third)
        assert len(usernames(second)) == 40
        foreign = client.get(f"{third.base_url}/v1/apps", headers=first.headers())
        assert foreign.status_code == 401


def _read_document(stream: Any) -> Any:
    """One JSON document from a stream that stays open (the server keeps running)."""
    text = ""
    while True:
        line = stream.readline()
        assert line, f"stdout closed before a whole JSON document: {text!r}"
        text += line
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            continue


def _wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the sandbox exited early: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError("the sandbox did not write sandbox.json in time")
        time.sleep(0.05)


def test_cli_serves_on_loopback_and_a_plain_client_lists_users(tmp_path: Path) -> None:
    state = tmp_path / "state"
    port = free_port()
    process = subprocess.Popen(
        [
            *CLI,
            "sandbox",
            "--seed",
            "demo",
            "--state-dir",
            str(state),
            "--port",
            str(port),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_for(state / "sandbox.json", process)
        assert process.stdout is not None
        printed = _read_document(process.stdout)
        document = json.loads((state / "sandbox.json").read_text())
        assert printed == document
        assert document["base_url"] == f"http://127.0.0.1:{port}"
        assert {k["name"] for k in document["keys"]} >= KEY_NAMES
        admin = next(k for k in document["keys"] if k["name"] == "admin")
        key_file = Path(admin["private_key_file"])
        assert key_file.stat().st_mode & 0o777 == 0o600
        now = int(time.time())
        token = jwt.encode(
            {"iss": admin["issuer_id"], "iat": now, "exp": now + 600, "aud": "appstoreconnect-v1"},
            key_file.read_text(),
            algorithm="ES256",
            headers={"kid": admin["key_id"], "typ": "JWT"},
        )
        response = httpx.get(
            f"{document['base_url']}/v1/users?limit=200",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        assert response.json()["meta"]["paging"]["total"] == 12
        individual = next(k for k in document["keys"] if k["name"] == "individual-developer")
        assert individual["issuer_id"] is None
        assert individual["user"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0


def test_cli_generated_team_and_human_output(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process = subprocess.Popen(
        [
            *CLI,
            "sandbox",
            "--users",
            "120",
            "--apps",
            "30",
            "--invitations",
            "9",
            "--random-seed",
            "3",
            "--state-dir",
            str(state),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(state / "sandbox.json", process)
        document = json.loads((state / "sandbox.json").read_text())
        developer = next(k for k in document["keys"] if k["name"] == "developer")
        response = httpx.get(
            f"{document['base_url']}/v1/apps",
            headers={
                "Authorization": "Bearer "
                + jwt.encode(
                    {
                        "iss": developer["issuer_id"],
                        "exp": int(time.time()) + 300,
                        "aud": "appstoreconnect-v1",
                    },
                    Path(developer["private_key_file"]).read_text(),
                    algorithm="ES256",
                    headers={"kid": developer["key_id"]},
                )
            },
        )
        assert response.json()["meta"]["paging"]["total"] == 30
        refused = httpx.get(f"{document['base_url']}/v1/apps")
        assert refused.status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    assert "401 for GET /v1/apps: no Authorization header" in err  # the reason, locally only
    assert "App Store Connect sandbox on http://127.0.0.1:" in out
    assert "PRIVATE KEY" not in out
    assert "120 users, 30 apps, 9 invitations" in out


def test_make_token_shapes(sandbox: RunningSandbox) -> None:
    team = jwt.decode(make_token(sandbox.keys["admin"]), options={"verify_signature": False})
    assert team["iss"] == sandbox.issuer_id
    assert "sub" not in team
    individual = jwt.decode(
        make_token(sandbox.keys["individual-admin"]), options={"verify_signature": False}
    )
    assert individual["sub"] == "user"
    assert "iss" not in individual
