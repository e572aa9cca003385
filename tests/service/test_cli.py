"""``asc-access tokens`` and ``asc-access serve`` from the command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from _support.service import free_port
from asc_access.cli.main import app

CLI = Path(sys.executable).parent / "asc-access"


def test_tokens_create_list_revoke() -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["tokens", "create", "reporting", "--json"])
    assert created.exit_code == 0, created.output
    doc = json.loads(created.stdout)
    assert doc["name"] == "reporting"
    assert doc["token"].startswith("asca_")

    listed = runner.invoke(app, ["tokens", "list", "--json"])
    assert [t["name"] for t in json.loads(listed.stdout)["tokens"]] == ["reporting"]
    assert doc["token"] not in listed.stdout

    revoked = runner.invoke(app, ["tokens", "revoke", "reporting", "--json"])
    assert revoked.exit_code == 0
    assert json.loads(revoked.stdout)["active"] is False

    unknown = runner.invoke(app, ["tokens", "revoke", "nobody"])
    assert unknown.exit_code == 2
    assert "no token named 'nobody'" in unknown.output
    bad = runner.invoke(app, ["tokens", "create", "no spaces please"])
    assert bad.exit_code == 2


def _wait_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve did not come up")


def _serve(home: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASC_ACCESS_")}
    env["ASC_ACCESS_HOME"] = str(home)
    return subprocess.Popen(
        [str(CLI), "serve", "--port", str(port), "--no-scheduler"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        _out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
    return err


def test_serve_binds_loopback_and_prints_a_new_admin_token_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = free_port()
    proc = _serve(home, port)
    try:
        _wait_up(f"http://127.0.0.1:{port}/api/v1/health", proc)
    finally:
        err = _stop(proc)
    match = re.search(r"(asca_[A-Za-z0-9_-]{20,})", err)
    assert match, err
    token = match.group(1)
    assert f"127.0.0.1:{port}" in err

    proc = _serve(home, port)
    try:
        _wait_up(f"http://127.0.0.1:{port}/api/v1/health", proc)
        me = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.json()["is_admin"] is True
    finally:
        err = _stop(proc)
    assert "asca_" not in err, "the admin token is printed only on the first start"
    # ...but the restart still says how to sign in.
    assert "Sign in with the admin token printed when the service first started" in err
    assert "ASC_ACCESS_API_TOKEN" in err
    assert "asc-access tokens create NAME" in err
