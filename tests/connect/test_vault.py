"""The vault: AES-GCM round trip, master key from env or a 0600 file, wrong key errors."""

from __future__ import annotations

import base64
import secrets
import stat
from pathlib import Path

import pytest

from asc_access.config import Settings
from asc_access.errors import SecretStoreError
from asc_access.vault import MASTER_KEY_FILE, Vault


def _settings(home: Path, master_key: str | None = None) -> Settings:
    env = {"ASC_ACCESS_HOME": str(home)}
    if master_key is not None:
        env["ASC_ACCESS_MASTER_KEY"] = master_key
    return Settings.from_env(env)


def test_round_trip_and_ciphertext_hides_plaintext(tmp_path: Path) -> None:
    vault = Vault.from_settings(_settings(tmp_path))
    secret = b"-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n"
    blob = vault.encrypt(secret)
    assert secret not in blob
    assert b"MIGTAgEAMBMGByqGSM49" not in blob
    assert vault.decrypt(blob) == secret
    assert vault.encrypt(secret) != blob  # fresh nonce every time


def test_master_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = Vault.from_settings(_settings(home))
    path = home / MASTER_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    blob = first.encrypt(b"x")
    second = Vault.from_settings(_settings(home))  # reads the same file
    assert second.decrypt(blob) == b"x"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_env_master_key_base64_or_passphrase(tmp_path: Path) -> None:
    raw = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    vault = Vault.from_settings(_settings(tmp_path, raw))
    assert not (tmp_path / MASTER_KEY_FILE).exists()  # env wins, no file
    assert Vault.from_settings(_settings(tmp_path, raw)).decrypt(vault.encrypt(b"k")) == b"k"
    phrase = Vault.from_settings(_settings(tmp_path, "correct horse battery staple"))
    again = Vault.from_settings(_settings(tmp_path, "correct horse battery staple"))
    assert again.decrypt(phrase.encrypt(b"k")) == b"k"
    with pytest.raises(SecretStoreError, match="too short"):
        Vault.from_settings(_settings(tmp_path, "short"))


def test_wrong_master_key_is_a_clear_error(tmp_path: Path) -> None:
    key_a = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    key_b = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    blob = Vault.from_settings(_settings(tmp_path, key_a)).encrypt(b"pem")
    with pytest.raises(SecretStoreError) as info:
        Vault.from_settings(_settings(tmp_path, key_b)).decrypt(blob, what="private key of prod")
    message = str(info.value)
    assert "private key of prod" in message
    assert "ASC_ACCESS_MASTER_KEY" in message
    assert key_a not in message
    assert key_b not in message
    assert info.value.__cause__ is None


def test_tampering_and_purpose_are_detected(tmp_path: Path) -> None:
    vault = Vault.from_settings(_settings(tmp_path))
    blob = bytearray(vault.encrypt(b"pem"))
    blob[-1] ^= 1
    with pytest.raises(SecretStoreError):
        vault.decrypt(bytes(blob))
    with pytest.raises(SecretStoreError):
        vault.decrypt(vault.encrypt(b"pem"), purpose="other")
    with pytest.raises(SecretStoreError, match="damaged"):
        vault.decrypt(b"\x01short")


def test_master_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    Vault.from_settings(_settings(tmp_path))
    path = tmp_path / MASTER_KEY_FILE
    path.chmod(0o644)
    with pytest.raises(SecretStoreError, match="chmod 600"):
        Vault.from_settings(_settings(tmp_path))
    path.chmod(0o600)
    path.write_text("not a key\n")
    with pytest.raises(SecretStoreError, match="damaged"):
        Vault.from_settings(_settings(tmp_path))
