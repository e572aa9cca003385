"""Encryption at rest for private keys: AES-256-GCM under a master key.

The master key comes from ``ASC_ACCESS_MASTER_KEY`` or, when that is unset,
from ``master.key`` in ``ASC_ACCESS_HOME``, created on first use with mode
0600. ``ASC_ACCESS_MASTER_KEY`` may be 32 random bytes in base64 (what
``master.key`` holds, and what ``python -c "import secrets, base64;
print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"`` prints) or
any passphrase, which is stretched with scrypt.

A blob is ``version || nonce (12 bytes) || ciphertext || tag (16 bytes)``.
Version 2 (written now) is authenticated together with a purpose label and
what the blob is bound to (``connection:<name>``), so a blob cannot be moved to
another purpose or swapped onto another connection's row, and any change to it
is detected. Version 1 (purpose only) is still read, so the caller can rewrite
it bound (:meth:`Vault.is_unbound`). A wrong master key raises
:class:`~asc_access.errors.SecretStoreError` naming what to check, never the key.

The store keeps a check value (:meth:`Vault.check_value`), so a missing or
wrong master key is detected before anything is encrypted with a new one
(:mod:`asc_access.store.keycheck`); :meth:`Vault.from_settings` with
``create=False`` never makes a new key file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from asc_access.errors import SecretStoreError

if TYPE_CHECKING:
    from asc_access.config import Settings  # the model (pydantic) is not needed to import this

__all__ = ["MASTER_KEY_FILE", "Vault"]

MASTER_KEY_FILE = "master.key"
_V1 = b"\x01"  # authenticated with the purpose only (read, never written)
_VERSION = b"\x02"  # authenticated with the purpose and what the blob is bound to
_CHECK = b"asc-access master key check v1"
_CHECK_PURPOSE = "master-key-check"
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
    def from_settings(cls, settings: Settings, *, create: bool = True) -> Vault:
        """The vault for these settings: ``ASC_ACCESS_MASTER_KEY``, else the home-dir file.

        With ``create=False`` (the store already holds ciphertext) a missing key
        file is an error naming where the key is expected; no new key is made.
        """
        if settings.master_key:
            return cls(_key_from_text(settings.master_key), origin="ASC_ACCESS_MASTER_KEY")
        path = settings.ensure_home() / MASTER_KEY_FILE
        if not create and not path.exists():
            raise SecretStoreError(
                f"the master key file {path} is missing, but the store holds keys encrypted "
                "with it: restore that file (mode 0600) or set ASC_ACCESS_MASTER_KEY to the "
                "same key. A new key would not decrypt them, so none was created"
            )
        return cls(_key_from_file(path), origin=f"the master key file {path}")

    def encrypt(
        self, plaintext: bytes, *, purpose: str = "private-key", bound_to: str = ""
    ) -> bytes:
        """Encrypt ``plaintext``; the blob only decrypts for the same ``purpose`` and binding."""
        nonce = secrets.token_bytes(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, _ad(purpose, bound_to))

    @staticmethod
    def is_unbound(blob: bytes) -> bool:
        """Whether ``blob`` is in the old format, not bound to its row (rewrite it)."""
        return blob[:1] == _V1

    def check_value(self) -> bytes:
        """A blob the store keeps to recognise this master key later (reveals nothing)."""
        return self.encrypt(_CHECK, purpose=_CHECK_PURPOSE)

    def matches(self, check_value: bytes) -> bool:
        """Whether ``check_value`` was made by :meth:`check_value` under this master key."""
        try:
            return self.decrypt(check_value, purpose=_CHECK_PURPOSE) == _CHECK
        except SecretStoreError:
            return False

    def decrypt(
        self,
        blob: bytes,
        *,
        purpose: str = "private-key",
        what: str = "a secret",
        bound_to: str = "",
    ) -> bytes:
        """Decrypt a blob from :meth:`encrypt`; ``what`` names it in error messages."""
        if len(blob) < 1 + _NONCE + 16 or blob[:1] not in (_V1, _VERSION):
            raise SecretStoreError(f"the stored {what} is damaged or in an unknown format")
        nonce, ciphertext = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
        ad = purpose.encode() if blob[:1] == _V1 else _ad(purpose, bound_to)
        try:
            return self._aead.decrypt(nonce, ciphertext, ad)
        except InvalidTag:
            raise SecretStoreError(
                f"the stored {what} cannot be decrypted with {self.origin}: the master key "
                "differs from the one used when it was saved (check ASC_ACCESS_MASTER_KEY "
                "and the master.key file in ASC_ACCESS_HOME), or the stored data was altered "
                "or moved from another row"
            ) from None

    def __repr__(self) -> str:
        return f"Vault(from {self.origin})"


def _ad(purpose: str, bound_to: str) -> bytes:
    return purpose.encode() + b"\x00" + bound_to.encode()


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
