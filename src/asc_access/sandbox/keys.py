"""API keys the sandbox issues: ES256 (P-256) key pairs made at run time."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from asc_access.sandbox.vocabulary import KEY_ROLES

__all__ = ["IssuedKey", "KeyRing"]

_KEY_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(slots=True)
class IssuedKey:
    """One key: its public half is kept for verification, the PEM handed out once."""

    key_id: str
    key_type: str  # "team" | "individual"
    public_key: ec.EllipticCurvePublicKey = field(repr=False)
    private_key_pem: str = field(repr=False)
    role: str | None = None
    user_id: str | None = None
    name: str | None = None
    revoked: bool = False

    def describe(self, issuer_id: str) -> dict[str, object]:
        """Public facts about the key (no key material)."""
        return {
            "name": self.name,
            "key_id": self.key_id,
            "issuer_id": issuer_id if self.key_type == "team" else None,
            "key_type": self.key_type,
            "role": self.role,
            "user": self.user_id,
            "revoked": self.revoked,
        }


class KeyRing:
    """The keys of one sandbox team."""

    def __init__(self, issuer_id: str) -> None:
        self.issuer_id = issuer_id
        self._keys: dict[str, IssuedKey] = {}

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Iterate over issued keys."""
        return iter(list(self._keys.values()))

    def get(self, key_id: str) -> IssuedKey | None:
        """The key with ``key_id``, if it was ever issued."""
        return self._keys.get(key_id)

    def _new_key_id(self) -> str:
        while True:
            key_id = "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(10))
            if key_id not in self._keys:
                return key_id

    def _issue(
        self, key_type: str, role: str | None, user_id: str | None, name: str | None
    ) -> IssuedKey:
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        key = IssuedKey(
            key_id=self._new_key_id(),
            key_type=key_type,
            public_key=private.public_key(),
            private_key_pem=pem,
            role=role,
            user_id=user_id,
            name=name,
        )
        self._keys[key.key_id] = key
        return key

    def issue_team(self, role: str, name: str | None = None) -> IssuedKey:
        """A team key with one access role."""
        if role not in KEY_ROLES:
            raise ValueError(f"a team key's role must be one of {sorted(KEY_ROLES)}, not {role!r}")
        return self._issue("team", role, None, name)

    def issue_individual(self, user_id: str, name: str | None = None) -> IssuedKey:
        """An individual key acting as ``user_id``."""
        return self._issue("individual", None, user_id, name)

    def replace_all(self, keys: list[IssuedKey]) -> None:
        """Hold exactly ``keys`` (a team restored from its state dir)."""
        self._keys = {key.key_id: key for key in keys}

    def revoke(self, key_id: str) -> IssuedKey:
        """Revoke for good (KeyError when unknown)."""
        key = self._keys[key_id]
        key.revoked = True
        return key
