"""Encryption at rest for private keys: AES-256-GCM under a master key.

The master key comes from ``ASC_ACCESS_MASTER_KEY`` or, when that is unset,
from ``master.key`` in ``ASC_ACCESS_HOME``, created on first use with mode
0600. ``ASC_ACCESS_MASTER_KEY`` may be 32 random bytes in base64 (what
``master.key`` holds, and what ``python -c "import secrets, base64;
print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"`` prints) or
any passphrase, which is stretched with scrypt.

A blob is ``b"\\x01" || nonce (12 bytes) || ciphertext || tag (16 bytes)``,
authenticated together with a purpose label, so a blob cannot be moved to
another purpose and any change to it is detected. A wrong master key raises
:class:`~asc_access.errors.SecretStoreError` naming what to check, never the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from asc_access.config import Settings
from asc_access.errors import SecretStoreError

__all__ = ["MASTER_KEY_FILE", "Vault"]

MASTER_KEY_FILE = "master.key"
_VERSION = b"\x01"
_NONCE = 12
_SALT = b"asc-access master key v1"


class Vault:
    """Encrypts and decrypts small secrets (private keys) with one master key.

    Build it with :meth:`from_settings` (env or home-dir file) or directly from
    32 key bytes. ``origin`` says where the master key came from, for messages.
    """

    __slots__ = ("_aead", "origin")

    def __init__(self, key: bytes, *, origin: str = "a master key") -> None:
        if len(key) != 32:
            raise SecretStoreError("the master key must be 32 bytes")
        self._aead = AESGCM(key)
        self.origin = origin

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        """The vault for these settings: ``ASC_ACCESS_MASTER_KEY``, else the home-dir file."""
        if settings.master_key:
            return cls(_key_from_text(settings.master_key), origin="ASC_ACCESS_MASTER_KEY")
        path = settings.ensure_home() / MASTER_KEY_FILE
        return cls(_key_from_file(path), origin=f"the master key file {path}")

    def encrypt(self, plaintext: bytes, *, purpose: str = "private-key") -> bytes:
        """Encrypt ``plaintext``; the blob only decrypts for the same ``purpose``."""
        nonce = secrets.token_bytes(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, purpose.encode())

    def decrypt(
        self, blob: bytes, *, purpose: str = "private-key", what: str = "a secret"
    ) -> bytes:
        """Decrypt a blob from :meth:`encrypt`; ``what`` names it in error messages."""
        if len(blob) < 1 + _NONCE + 16 or blob[:1] != _VERSION:
            raise SecretStoreError(f"the stored {what} is damaged or in an unknown format")
        nonce, ciphertext = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
        try:
            return self._aead.decrypt(nonce, ciphertext, purpose.encode())
        except InvalidTag:
            raise SecretStoreError(
                f"the stored {what} cannot be decrypted with {self.origin}: the master key "
                "differs from the one used when it was saved (check ASC_ACCESS_MASTER_KEY "
                "and the master.key file in ASC_ACCESS_HOME), or the stored data was altered"
            ) from None

    def __repr__(self) -> str:
        return f"Vault(from {self.origin})"


def _key_from_text(text: str) -> bytes:
    value = text.strip()
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            raw = decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            return raw
    if len(value) < 12:
        raise SecretStoreError(
            "ASC_ACCESS_MASTER_KEY is too short: use 32 random bytes in base64, or a "
            "passphrase of at least 12 characters"
        )
    return hashlib.scrypt(value.encode(), salt=_SALT, n=2**14, r=8, p=1, dklen=32)


def _key_from_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    except OSError as error:
        raise SecretStoreError(
            f"cannot create the master key file {path} ({error.strerror})"
        ) from None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode("ascii") + "\n")
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        info = path.stat()
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise SecretStoreError(f"cannot read the master key file {path} ({error})") from None
    if info.st_mode & 0o077:
        raise SecretStoreError(
            f"the master key file {path} is readable by other users (mode "
            f"{stat.S_IMODE(info.st_mode):04o}); restrict it with: chmod 600 {path}"
        )
    try:
        key = base64.urlsafe_b64decode(text.strip())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise SecretStoreError(f"the master key file {path} is damaged (expected 32 bytes)")
    return key
