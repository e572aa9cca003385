"""Doctor and sync messages read well: no ".:", no "-0 s", no "-> None"."""

from __future__ import annotations

from typing import Any

from _support.sandbox import RunningSandbox

from .conftest import closed_port


def test_no_minus_zero_seconds_and_no_none_status(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox
) -> None:
    revoked = cli(
        "doctor", "--api-url", shared_sandbox.base_url, *key_args(shared_sandbox.keys["revoked"])
    )
    assert revoked.exit_code == 101
    assert "-0 s" not in revoked.stdout
    assert "-0.0 s" not in revoked.stdout
    assert "clock agrees with Apple's" in revoked.stdout
    unreachable = cli(
        "doctor",
        "--api-url",
        f"http://127.0.0.1:{closed_port()}",
        *key_args(shared_sandbox.keys["admin"]),
    )
    assert unreachable.exit_code == 106
    assert "-> None" not in unreachable.stdout
    assert "GET /v1/apps -> no answer" in unreachable.stdout


def test_apple_title_and_detail_join_without_dot_colon(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox, tmp_path: Any
) -> None:
    env = {"ASC_ACCESS_HOME": str(tmp_path / "home")}
    key = shared_sandbox.keys["admin"]
    saved = cli("connect", "polish", "--api-url", shared_sandbox.base_url, *key_args(key), env=env)
    assert saved.exit_code == 0, saved.stdout
    shared_sandbox.set_agreements(False)
    try:
        failed = cli("sync", "polish", env=env)
    finally:
        shared_sandbox.set_agreements(True)
    text = failed.stdout + failed.stderr
    assert failed.exit_code == 103, text
    assert ".:" not in text
