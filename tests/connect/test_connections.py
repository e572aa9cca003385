"""``connect`` and ``connections`` end to end: save only what works, manage, rotate, remove."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from _support import keys
from _support.sandbox import RunningSandbox
from asc_access.config import Settings
from asc_access.runtime import client_for_connection, open_store
from asc_access.store import schema


def _connect(cli: Any, key_args: Any, sandbox: RunningSandbox, name: str, key: Any, *extra: str):  # type: ignore[no-untyped-def]
    return cli("connect", name, "--json", "--api-url", sandbox.base_url, *key_args(key), *extra)


def _rows() -> int:
    with open_store().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.connections)).scalar_one())


def test_connect_saves_a_working_key_encrypted_with_its_api_url(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    key = sandbox.keys["admin"]
    run = _connect(cli, key_args, sandbox, "prod", key)
    assert run.exit_code == 0, run.stdout
    doc = run.doc
    assert doc["ok"] is True
    assert doc["saved"] is True
    record = doc["record"]
    assert record["api_url"] == sandbox.base_url
    assert record["healthy"] is True
    assert record["key_id"] == key.key_id
    assert record["capabilities"] == {
        "read_apps": True,
        "read_users": True,
        "read_invitations": True,
        "manage_users": True,
    }
    with open_store().connect() as conn:
        blob = conn.execute(select(schema.connections.c.encrypted_private_key)).scalar_one()
    assert blob
    assert key.private_key_pem.encode() not in blob
    assert keys.key_der(key.private_key_pem) not in blob


def test_client_for_connection_uses_the_saved_key_and_url(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    import asyncio

    assert _connect(cli, key_args, sandbox, "prod", sandbox.keys["admin"]).exit_code == 0
    engine = open_store()

    async def read() -> int:
        async with client_for_connection(engine, Settings.from_env(), "prod") as client:
            return len(await client.users.list())

    assert asyncio.run(read()) > 3


def test_connect_refuses_a_failing_key_and_saves_nothing(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    run = _connect(cli, key_args, sandbox, "dev", sandbox.keys["developer"])
    assert run.exit_code == 102
    assert run.doc["saved"] is False
    assert run.doc["cause"] == "key_role_insufficient"
    assert _rows() == 0
    human = cli("connect", "dev", "--api-url", sandbox.base_url, *key_args(sandbox.keys["revoked"]))
    assert human.exit_code == 101
    assert "Nothing saved" in human.stderr
    assert "--force" in human.stderr
    assert _rows() == 0


def test_connect_force_saves_it_marked_unhealthy(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    run = _connect(cli, key_args, sandbox, "dev", sandbox.keys["developer"], "--force")
    assert run.exit_code == 0
    record = run.doc["record"]
    assert record["healthy"] is False
    assert (record["health_code"], record["health_cause"]) == ("APP-102", "key_role_insufficient")
    assert record["last_ok_at"] is not None  # Apple accepted the key; only its role is short
    listing = cli("connections", "--json").doc["connections"]
    assert [(c["name"], c["healthy"]) for c in listing] == [("dev", False)]


def test_connect_force_cannot_save_an_unreadable_key(
    cli: Any, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    path = keys.write_key_file(tmp_path, keys.rsa_key_pem())
    args = ["--key-id", keys.key_id(), "--issuer-id", sandbox.issuer_id]
    run = cli("connect", "x", "--json", "--force", "--api-url", sandbox.base_url, *args,
              "--private-key-file", str(path))  # fmt: skip
    assert run.exit_code == 101
    assert run.doc["saved"] is False
    assert _rows() == 0


def test_connect_twice_with_the_same_name_is_a_usage_error(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    assert _connect(cli, key_args, sandbox, "prod", sandbox.keys["admin"]).exit_code == 0
    again = _connect(cli, key_args, sandbox, "prod", sandbox.keys["individual-admin"])
    assert again.exit_code == 2
    assert "already exists" in again.doc["error"]


def test_connections_list_show_remove(cli: Any, key_args: Any, sandbox: RunningSandbox) -> None:
    assert _connect(cli, key_args, sandbox, "b-team", sandbox.keys["admin"]).exit_code == 0
    assert (
        _connect(cli, key_args, sandbox, "a-team", sandbox.keys["individual-admin"]).exit_code == 0
    )
    human = cli("connections")
    assert human.exit_code == 0
    assert human.stdout.index("a-team") < human.stdout.index("b-team")
    assert "healthy" in human.stdout
    shown = cli("connections", "show", "a-team", "--json").doc
    assert shown["key_type"] == "individual"
    assert "encrypted_private_key" not in shown
    assert cli("connections", "show", "nope").exit_code == 2
    assert cli("connections", "remove", "a-team", stdin="n\n").exit_code == 2
    assert _rows() == 2
    removed = cli("connections", "remove", "a-team", "--yes", "--json")
    assert removed.exit_code == 0
    assert removed.doc["removed"] == "a-team"
    assert [c["name"] for c in cli("connections", "--json").doc["connections"]] == ["b-team"]
    assert cli("connections", "remove", "a-team", "--yes").exit_code == 2


def test_rotate_key_keeps_the_connection_and_its_history(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    old = sandbox.issue_key("team", role="ADMIN")
    first = _connect(cli, key_args, sandbox, "prod", old).doc["record"]
    engine = open_store()
    with engine.begin() as conn:  # some history that must survive the rotation
        conn.execute(
            schema.sync_runs.insert().values(
                connection_id=first["id"], status="succeeded", started_at=func.now()
            )
        )
    # A failing new key changes nothing.
    bad = cli("connections", "rotate-key", "prod", "--json",
              *key_args(sandbox.keys["developer"]))  # fmt: skip
    assert bad.exit_code == 102
    assert bad.doc["saved"] is False
    assert cli("connections", "show", "prod", "--json").doc["key_id"] == old.key_id
    # A working one replaces the key in place.
    new = sandbox.issue_key("team", role="ADMIN")
    run = cli("connections", "rotate-key", "prod", "--json", *key_args(new))
    assert run.exit_code == 0, run.stdout
    record = run.doc["record"]
    assert record["id"] == first["id"]
    assert record["key_id"] == new.key_id
    assert record["api_url"] == sandbox.base_url
    with engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(schema.sync_runs)).scalar_one()
    assert runs == 1
    sandbox.revoke_key(old.key_id)
    assert cli("doctor", "prod", "--json").exit_code == 0  # the new key is the one used
    assert cli("connections", "rotate-key", "nope", *key_args(new)).exit_code == 2


def test_doctor_name_and_credentials_together_is_a_usage_error(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    assert _connect(cli, key_args, sandbox, "prod", sandbox.keys["admin"]).exit_code == 0
    run = cli("doctor", "prod", "--json", *key_args(sandbox.keys["admin"]))
    assert run.exit_code == 2


def test_wrong_master_key_is_a_clear_error(
    cli: Any, key_args: Any, sandbox: RunningSandbox, monkeypatch: Any
) -> None:
    monkeypatch.setenv("ASC_ACCESS_MASTER_KEY", "first master passphrase")
    assert _connect(cli, key_args, sandbox, "prod", sandbox.keys["admin"]).exit_code == 0
    monkeypatch.setenv("ASC_ACCESS_MASTER_KEY", "another master passphrase")
    run = cli("doctor", "prod", "--json")
    assert run.exit_code == 1
    doc = run.doc
    assert (doc["ok"], doc["code"]) == (False, None)
    assert doc["findings"][0]["title"] == "The stored private key cannot be decrypted"
    assert "ASC_ACCESS_MASTER_KEY" in doc["findings"][0]["evidence"]
    assert cli("connections", "show", "prod", "--json").doc["healthy"] is True  # untouched
    assert "first master passphrase" not in run.stdout
    assert "another master passphrase" not in run.stdout


def test_sync_interval_is_set_at_connect_and_changed_later(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    saved = _connect(
        cli, key_args, sandbox, "prod", sandbox.keys["admin"], "--sync-interval", "900"
    )
    assert saved.exit_code == 0, saved.stdout
    assert saved.doc["record"]["sync_interval_seconds"] == 900
    changed = cli("connections", "set-interval", "prod", "0", "--json")
    assert changed.exit_code == 0, changed.stdout
    assert changed.doc["connection"]["sync_interval_seconds"] == 0
    assert cli("connections", "show", "prod", "--json").doc["sync_interval_seconds"] == 0
    assert cli("connections", "set-interval", "nope", "60").exit_code == 2
    assert cli("connections", "set-interval", "prod", "-5").exit_code == 2
