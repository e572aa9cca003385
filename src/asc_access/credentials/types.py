"""Value types of the credentials layer: loaded credentials and check results."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from asc_access.credentials.keys import PrivateKey
from asc_access.ids import IssuerId, KeyId

__all__ = ["CheckResult", "CheckStatus", "Credentials", "KeyType"]

KeyType = Literal["team", "individual"]
CheckStatus = Literal["pass", "fail", "warn", "skip"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of ``doctor``'s ``checks[]``: an id, a status and a human detail."""

    id: str
    status: CheckStatus
    detail: str

    def as_dict(self) -> dict[str, str]:
        """The JSON shape of the doctor contract."""
        return {"id": self.id, "status": self.status, "detail": self.detail}


@dataclass(frozen=True, slots=True, eq=False)
class Credentials:
    """A checked App Store Connect API key, ready to sign tokens.

    ``issuer_id`` is required for team keys and may be kept for an individual
    key (when the caller said ``--individual`` and gave one anyway): the token
    then carries no ``iss``, but the doctor can still try the team shape.
    ``sources`` names where each value came from (``{"key_id": "flag --key-id"}``).
    ``token_lifetime_seconds`` is a configured token lifetime (``exp - iat``),
    ``None`` for the default. ``key_file`` is the file the key was read from.
    """

    key_id: KeyId
    issuer_id: IssuerId | None
    key_type: KeyType
    private_key: PrivateKey
    sources: Mapping[str, str] = field(default_factory=dict)
    token_lifetime_seconds: int | None = None
    key_file: Path | None = None

    def with_key_type(self, key_type: KeyType) -> Credentials:
        """The same key presented in the other token shape (team ↔ individual)."""
        if key_type == "team" and self.issuer_id is None:
            raise ValueError("a team token needs an Issuer ID")
        return dataclasses.replace(self, key_type=key_type)

    def describe(self) -> str:
        """A one-line, secret-free description: ``team key ABC1234567 (issuer …)``."""
        issuer = f", issuer {self.issuer_id}" if self.issuer_id else ""
        return f"{self.key_type} key {self.key_id}{issuer}"
