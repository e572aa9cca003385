"""ES256 tokens for the App Store Connect API: minted rarely, reused, never stored.

Header ``{"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}``. Team keys carry
``iss`` (the Issuer ID); individual keys carry ``sub: "user"`` and no ``iss``.
``aud`` is ``appstoreconnect-v1``. ``iat`` is back-dated (default 60 s) so a
client clock a little ahead of Apple's does not produce a token "from the
future"; ``exp - iat`` (the lifetime Apple checks) defaults to 11 minutes,
well under Apple's 20. One token serves every request until it is within the
refresh margin of its expiry; :meth:`TokenManager.invalidate` (after a 401)
forces a fresh one. Tokens live only in memory.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from asc_access.credentials.types import Credentials
from asc_access.credentials.validate import DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME
from asc_access.errors import CredentialError
from asc_access.ids import KeyId

__all__ = ["AUDIENCE", "TokenManager", "sign_es256"]

AUDIENCE = "appstoreconnect-v1"


class TokenManager:
    """Mints and caches ES256 tokens for one key.

    Args:
        credentials: the checked key.
        clock: wall-clock seconds (``time.time``); inject a fake in tests, or
            Apple's clock (``lambda: time.time() + skew``) to compensate skew.
        lifetime_seconds: ``exp - iat``; default the credentials' configured
            lifetime, else 11 minutes. Must be in ``(0, 1200]``.
        backdate_seconds: how far ``iat`` lies before now (capped at a quarter
            of the lifetime).
        refresh_margin_seconds: a token this close to ``exp`` is replaced
            (capped at a quarter of the lifetime).

    ``minted`` counts tokens minted; ``key_id`` names the key (for rate budgets).
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        clock: Callable[[], float] = time.time,
        lifetime_seconds: int | None = None,
        backdate_seconds: int = 60,
        refresh_margin_seconds: int = 120,
    ) -> None:
        lifetime = lifetime_seconds or credentials.token_lifetime_seconds or DEFAULT_TOKEN_LIFETIME
        if lifetime_seconds is not None and lifetime_seconds <= 0:
            lifetime = lifetime_seconds
        if not 0 < lifetime <= MAX_TOKEN_LIFETIME:
            raise CredentialError(
                f"the token lifetime {lifetime} s is out of range: Apple accepts more than "
                f"0 and at most {MAX_TOKEN_LIFETIME} s",
                cause="token_lifetime_invalid",
                source=credentials.sources.get("token_lifetime", "configuration"),
            )
        if credentials.key_type == "team" and credentials.issuer_id is None:
            raise CredentialError(
                "a team key needs an Issuer ID", cause="issuer_id_malformed", source="credentials"
            )
        self._credentials = credentials
        self._clock = clock
        self.lifetime_seconds = lifetime
        self.backdate_seconds = min(backdate_seconds, lifetime // 4)
        self.refresh_margin_seconds = min(refresh_margin_seconds, lifetime // 4)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.minted = 0

    @property
    def key_id(self) -> KeyId:
        """The Key ID the tokens are signed for."""
        return self._credentials.key_id

    @property
    def key_type(self) -> str:
        """``team`` or ``individual``: the token shape minted."""
        return self._credentials.key_type

    @property
    def expires_at(self) -> float | None:
        """Expiry (Unix seconds) of the cached token, or ``None`` when there is none."""
        return self._expires_at if self._token is not None else None

    def token(self) -> str:
        """The current token, minting a new one when none is cached or it is about to expire."""
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires_at - self.refresh_margin_seconds:
                self._token = self._mint(now)
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token (after Apple answered 401); the next call mints a new one."""
        with self._lock:
            self._token = None
            self._expires_at = 0.0

    def claims(self, now: float | None = None) -> dict[str, Any]:
        """The claims a token minted at ``now`` carries (no signature; nothing secret)."""
        moment = self._clock() if now is None else now
        issued = math.floor(moment) - self.backdate_seconds
        claims: dict[str, Any] = {
            "iat": issued,
            "exp": issued + self.lifetime_seconds,
            "aud": AUDIENCE,
        }
        if self._credentials.key_type == "team":
            claims["iss"] = self._credentials.issuer_id
        else:
            claims["sub"] = "user"
        return claims

    def _mint(self, now: float) -> str:
        claims = self.claims(now)
        header = {"alg": "ES256", "kid": self._credentials.key_id, "typ": "JWT"}
        token = sign_es256(header, claims, self._credentials.private_key.signing_key())
        self._expires_at = float(claims["exp"])
        self.minted += 1
        return token

    def __repr__(self) -> str:
        return (
            f"TokenManager({self._credentials.key_type} key {self._credentials.key_id}, "
            f"minted={self.minted})"
        )


def _segment(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def sign_es256(
    header: dict[str, Any], claims: dict[str, Any], key: ec.EllipticCurvePrivateKey
) -> str:
    """A compact JWS (RFC 7515) signed with ES256 (RFC 7518 §3.4: raw ``r || s``, 64 bytes).

    Signed here rather than by a JWT library: importing one (with its X.509 support)
    costs the doctor's first request more than minting takes.
    """
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode('ascii')}"
