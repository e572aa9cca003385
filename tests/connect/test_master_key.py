"""The master key: never silently replaced, checked against the store, bound to each row."""

from __future__ import annotations

import base64
import secrets
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from _support.sandbox import RunningSandbox
from asc_access.config import Settings
from asc_access.errors import SecretStoreError
from asc_access.runtime import open_store, vault_for
from asc_access.vault import MASTER_KEY_FILE


def _home() -> Path:
    return Settings.from_env().home


def _db() -> Path:
    return _home() / "asc-access.db"


def _connect(cli: Any, key_args: Any, sandbox: RunningSandbox, name: str, key: Any) -> None:
    run = cli("connect", name, "--api-url", sandbox.base_url, "--json", *key_args(key))
    assert run.exit_code == 0, run.stdout


def test_a_lost_key_file_is_an_error_and_no_new_key_is_made(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    _connect(cli, key_args, sandbox, "prod", sandbox.keys["admin"])
    key_file = _home() / MASTER_KEY_FILE
    key_file.unlink()
    for args in (("doctor", "prod", "--json"), ("sync", "prod", "--json")):
        run = cli(*args)
        assert run.exit_code == 1, run.stdout
        assert str(key_file) in run.stdout, run.stdout
        assert "missing" in run.stdout
        assert not key_file.exists(), "a new master key was written over the lost one"
    # Connecting another team must not start a second key either.
    run = cli("connect", "dev", "--api-url", sandbox.base_url, "--json",
              *key_args(sandbox.keys["individual-admin"]))  # fmt: skip
    assert run.exit_code == 1, run.stdout
    assert not key_file.exists()
    with sqlite3.connect(_db()) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM connections")] == ["prod"]


def test_a_wrong_master_key_is_refused_before_anything_is_encrypted(
    cli: Any, key_args: Any, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect(cli, key_args, sandbox, "prod", sandbox.keys["admin"])
    other = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("ASC_ACCESS_MASTER_KEY", other)
    run = cli("connect", "dev", "--api-url", sandbox.base_url, "--json",
              *key_args(sandbox.keys["individual-admin"]))  # fmt: skip
    assert run.exit_code == 1, run.stdout
    assert "ASC_ACCESS_MASTER_KEY" in run.stdout
    assert "master key differs from the one this store was set up with" in run.stdout
    assert other not in run.stdout
    with sqlite3.connect(_db()) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM connections")] == ["prod"]
    with pytest.raises(SecretStoreError, match="ASC_ACCESS_MASTER_KEY"):
        vault_for(Settings.from_env(), open_store())


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    _connect(cli, key_args, sandbox, "prod", sandbox.keys["admin"])
    _connect(cli, key_args, sandbox, "dev", sandbox.keys["individual-admin"])
    with sqlite3.connect(_db()) as conn:
        (prod_blob,) = conn.execute(
            "SELECT encrypted_private_key FROM connections WHERE name = 'prod'"
        ).fetchone()
        conn.execute(
            "UPDATE connections SET encrypted_private_key = ? WHERE name = 'dev'", (prod_blob,)
        )
    run = cli("doctor", "dev", "--json")
    assert run.doc["ok"] is False, run.stdout
    assert "moved from another row" in run.stdout
    assert cli("doctor", "prod", "--json").doc["ok"] is True


def test_an_old_unbound_blob_still_works_and_is_rewritten_bound(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    key = sandbox.keys["admin"]
    _connect(cli, key_args, sandbox, "prod", key)
    raw = base64.urlsafe_b64decode((_home() / MASTER_KEY_FILE).read_text().strip())
    nonce = secrets.token_bytes(12)
    legacy = (
        b"\x01" + nonce + AESGCM(raw).encrypt(nonce, key.private_key_pem.encode(), b"private-key")
    )
    with sqlite3.connect(_db()) as conn:  # as a store written before this version
        conn.execute("UPDATE connections SET encrypted_private_key = ?", (legacy,))
        conn.execute("DELETE FROM master_key_check")
    assert cli("doctor", "prod", "--json").doc["ok"] is True
    with sqlite3.connect(_db()) as conn:
        (blob,) = conn.execute("SELECT encrypted_private_key FROM connections").fetchone()
        checks = conn.execute("SELECT count(*) FROM master_key_check").fetchone()[0]
    assert blob[:1] == b"\x02"  # rewritten, bound to its row
    assert checks == 1  # and the store learned its master key
