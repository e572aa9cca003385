"""``asc-access sandbox`` as a process: the state dir keeps the team, a busy port is one
line, the printed snippet works as pasted, and ``GET /_sandbox/`` lists the control API.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from asc_access.sandbox.control import ENDPOINTS
from asc_access.sandbox.server import free_port

CLI = [sys.executable, "-c", "from asc_access.cli.main import main; main()"]
ROOT = Path(__file__).resolve().parents[2]


def _token(key: dict[str, Any]) -> str:
    pem = Path(key["private_key_file"]).read_text()
    now = int(time.time())
    payload = {"aud": "appstoreconnect-v1", "iat": now, "exp": now + 600, "iss": key["issuer_id"]}
    return jwt.encode(payload, pem, algorithm="ES256", headers={"kid": key["key_id"]})


@contextmanager
def running(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[subprocess.Popen[str]]:
    """``asc-access sandbox ARGS`` in the background; SIGINT at the end."""
    process = subprocess.Popen(
        [*CLI, "sandbox", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _document(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    text = ""
    while True:
        line = process.stdout.readline()
        assert line, (
            f"stdout closed early: {text!r} {process.stderr.read() if process.stderr else ''}"
        )
        text += line
        try:
            document: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError:
            continue
        return document


def _serve_json(state: Path, *extra: str) -> Any:
    return running("--state-dir", str(state), "--port", "0", "--json", *extra)


def _usernames(base: str, headers: dict[str, str]) -> set[str]:
    response = httpx.get(f"{base}/v1/users", params={"limit": 200}, headers=headers)
    assert response.status_code == 200, response.text
    return {u["attributes"]["username"] for u in response.json()["data"]}


def _invite(base: str, headers: dict[str, str], email: str) -> None:
    body = {
        "data": {
            "type": "userInvitations",
            "attributes": {
                "email": email,
                "firstName": "Rae",
                "lastName": "Start",
                "roles": ["DEVELOPER"],
                "allAppsVisible": True,
            },
        }
    }
    response = httpx.post(f"{base}/v1/userInvitations", json=body, headers=headers)
    assert response.status_code == 201, response.text


def test_restart_with_the_same_state_dir_keeps_the_team(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with _serve_json(state) as process:
        first = _document(process)
        base = first["base_url"]
        admin = next(k for k in first["keys"] if k["name"] == "admin")
        headers = {"Authorization": f"Bearer {_token(admin)}"}
        pending = httpx.get(f"{base}/v1/userInvitations", headers=headers).json()["data"]
        accepted = next(i for i in pending if "ella" in i["attributes"]["email"])
        control = httpx.post(f"{base}/_sandbox/userInvitations/{accepted['id']}/accept")
        assert control.status_code == 200
        _invite(base, headers, "rae.start@example.com")
        issued = httpx.post(f"{base}/_sandbox/keys", json={"role": "ADMIN", "name": "ci"}).json()
        before = _usernames(base, headers)
        p8_before = {p.name: p.read_text() for p in state.glob("AuthKey_*.p8")}
    assert "ella.johansson@northwindlabs.example.com" in before

    with _serve_json(state) as process:
        second = _document(process)
        base = second["base_url"]
        assert second["issuer_id"] == first["issuer_id"]
        assert [k["key_id"] for k in second["keys"]] == [k["key_id"] for k in first["keys"]]
        # The old token still works: same key, same Issuer ID.
        assert _usernames(base, headers) == before
        invitations = httpx.get(f"{base}/v1/userInvitations", headers=headers).json()["data"]
        assert "rae.start@example.com" in {i["attributes"]["email"] for i in invitations}
        keys = httpx.get(f"{base}/_sandbox/keys").json()["keys"]
        assert issued["key_id"] in {k["key_id"] for k in keys}
        assert {p.name: p.read_text() for p in state.glob("AuthKey_*.p8")} == p8_before

    foreign = state / "AuthKey_MYREALKEY1.p8"  # someone's own key in the same directory
    foreign.write_text("not the sandbox's")
    with _serve_json(state, "--fresh") as process:
        third = _document(process)
        assert third["issuer_id"] != first["issuer_id"]
        base = third["base_url"]
        new_admin = next(k for k in third["keys"] if k["name"] == "admin")
        new_headers = {"Authorization": f"Bearer {_token(new_admin)}"}
        assert "ella.johansson@northwindlabs.example.com" not in _usernames(base, new_headers)
        left = {p.name for p in state.glob("AuthKey_*.p8")}
        assert left == {Path(k["private_key_file"]).name for k in third["keys"]} | {foreign.name}
        assert foreign.read_text() == "not the sandbox's"
        assert httpx.get(f"{base}/v1/apps", headers=headers).status_code == 401


def test_seed_options_do_not_replace_a_saved_team(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with _serve_json(state) as process:
        first = _document(process)
    with running("--state-dir", str(state), "--port", "0", "--users", "3") as process:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or "Control API" not in lines[-1]:
            line = process.stdout.readline()
            assert line, lines
            lines.append(line)
        assert first["issuer_id"] in "".join(lines)
        assert "12 users" in lines[0]
        assert "kept in the state dir; --fresh starts over" in lines[0]
        process.send_signal(signal.SIGINT)
        process.wait(15)
        assert process.stderr is not None
        warning = process.stderr.read()
    assert "seed options apply to a new team" in " ".join(warning.split())


def test_a_damaged_team_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "team.json").write_text("{not json")
    done = subprocess.run(
        [*CLI, "sandbox", "--state-dir", str(state), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "--fresh" in done.stderr


@pytest.mark.parametrize("command", ["sandbox", "serve"])
def test_a_busy_port_is_one_line_and_exit_1(tmp_path: Path, command: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [*CLI, command, "--port", str(port)]
        if command == "sandbox":
            args += ["--state-dir", str(tmp_path / "state")]
        else:
            args += ["--no-scheduler"]
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "ASC_ACCESS_HOME": str(tmp_path / "home")},
        )
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, done.stderr
    assert f"port {port}" in errors[0]
    assert "--port" in errors[0]


def test_the_printed_snippet_works_as_pasted(tmp_path: Path) -> None:
    state = tmp_path / "state"
    port = free_port()
    # Started from the repository (as after `make demo`); pasted in the same directory.
    with running("--state-dir", str(state), "--port", str(port), cwd=ROOT) as process:
        assert process.stdout is not None
        lines: list[str] = []
        while not any(" doctor " in line for line in lines):
            line = process.stdout.readline()
            assert line, f"no snippet in {lines!r}"
            lines.append(line.rstrip("\n"))
        export = next(line.strip() for line in lines if line.strip().startswith("export "))
        doctor = next(line.strip() for line in lines if " doctor " in line)
        assert export == f"export ASC_ACCESS_API_URL=http://127.0.0.1:{port}"
        assert re.search(r"--key-id \S+ --issuer-id \S+ --private-key-file \S+AuthKey_", doctor)
        done = subprocess.run(
            ["bash", "-c", f"{export}\n{doctor}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=ROOT,
            env={**os.environ, "ASC_ACCESS_HOME": str(tmp_path / "home")},
        )
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "All good" in done.stdout


def test_control_index_lists_every_endpoint_and_the_docs_name_them(tmp_path: Path) -> None:
    with _serve_json(tmp_path / "state") as process:
        base = _document(process)["base_url"]
        for path in ("/_sandbox/", "/_sandbox"):
            response = httpx.get(f"{base}{path}")
            assert response.status_code == 200, response.text
            listed = response.json()["endpoints"]
            assert {(e["method"], e["path"]) for e in listed} == {
                (m, p) for m, p, _, _ in ENDPOINTS
            }
            assert all(e["description"] for e in listed)
    doc = (ROOT / "docs" / "sandbox.md").read_text()
    for method, path, _, _ in ENDPOINTS:
        assert f"| {method} | `{path}` |" in doc, (method, path)


def _curl_lines() -> list[str]:
    doc = (ROOT / "docs" / "sandbox.md").read_text()
    blocks = re.findall(r"```\n(.*?)```", doc, flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.startswith("curl ")]


def _invitation(invitations: list[dict[str, Any]], who: str) -> str:
    return next(str(i["id"]) for i in invitations if who in i["attributes"]["email"])


def test_every_curl_example_in_docs_sandbox_md_works_as_printed(tmp_path: Path) -> None:
    lines = _curl_lines()
    assert len(lines) >= 15
    with _serve_json(tmp_path / "state") as process:
        document = _document(process)
        base = document["base_url"]
        admin = next(k for k in document["keys"] if k["name"] == "admin")
        headers = {"Authorization": f"Bearer {_token(admin)}"}
        invitations = httpx.get(f"{base}/v1/userInvitations", headers=headers).json()["data"]
        users = httpx.get(f"{base}/v1/users", headers=headers).json()["data"]
        developer = next(k for k in document["keys"] if k["name"] == "developer")
        env = {
            **os.environ,
            "SANDBOX": base,
            "KEY_ID": developer["key_id"],
            "INVITATION_ID": _invitation(invitations, "ella"),
            "OTHER_INVITATION_ID": _invitation(invitations, "lucas"),
            "USER_ID": next(u["id"] for u in users if "sofia" in u["attributes"]["username"]),
        }
        for line in lines:
            done = subprocess.run(
                ["bash", "-c", f"{line} -o /dev/stderr -w '%{{http_code}}'"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env=env,
            )
            assert done.returncode == 0, (line, done.stderr)
            assert done.stdout in {"200", "201"}, (line, done.stdout, done.stderr)
