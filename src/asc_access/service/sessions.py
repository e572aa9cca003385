"""Signed console sessions and their CSRF tokens.

A session cookie is ``base64url(json payload) "." base64url(HMAC-SHA256)``.
The payload names the API token the person logged in with (its row id and a
prefix of its hash, so replacing or revoking the token ends every session made
with it), when the session started, and the session's CSRF token. Forms carry
that CSRF token in a hidden field, and script calls in the ``X-CSRF-Token``
header; the login form, which comes before any session, uses a signed
double-submit cookie instead. Cookies are ``Secure``, ``HttpOnly`` and
``SameSite=Strict``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "Session",
    "SessionSigner",
]

SESSION_COOKIE = "asc_session"
LOGIN_COOKIE = "asc_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_MAX_AGE = 12 * 3600
LOGIN_MAX_AGE = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    """A logged-in console session."""

    token_id: int
    token_hash_prefix: str
    csrf: str
    issued_at: float
    #: Set for a person signed in through SSO (OIDC): their e-mail and the role it gave.
    user: str = ""
    role: str = ""


class SessionSigner:
    """Signs and checks cookie values with one secret (random per process unless given)."""

    def __init__(
        self,
        secret: bytes | None = None,
        *,
        secure: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self.secure = secure
        self._clock = clock
        # Sessions ended by signing out, until they would have expired anyway.
        self._ended: dict[str, float] = {}

    def now(self) -> float:
        """The signer's clock (seconds), for ``iat`` in payloads given to :meth:`dumps`."""
        return self._clock()

    def _mac(self, purpose: str, body: str) -> str:
        digest = hmac.new(self._secret, f"{purpose}:{body}".encode(), hashlib.sha256).digest()
        return _b64(digest)

    def dumps(self, purpose: str, payload: dict[str, Any]) -> str:
        """A signed cookie value for ``payload``."""
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(purpose, body)}"

    def loads(self, purpose: str, value: str | None, *, max_age: float) -> dict[str, Any] | None:
        """The payload of a signed value, or ``None`` if missing, forged, malformed or old."""
        if not value or value.count(".") != 1 or len(value) > 4096:
            return None
        body, mac = value.split(".")
        if not hmac.compare_digest(mac, self._mac(purpose, body)):
            return None
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(payload, dict):
            return None
        issued = payload.get("iat")
        if not isinstance(issued, int | float) or self._clock() - issued > max_age:
            return None
        return payload

    # -- sessions -----------------------------------------------------------------

    def new_session(
        self, token_id: int, token_hash: str, *, user: str = "", role: str = ""
    ) -> tuple[Session, str]:
        """A fresh session for the token (or the SSO ``user`` and ``role``) and its cookie."""
        session = Session(
            token_id=token_id,
            token_hash_prefix=token_hash[:16],
            csrf=secrets.token_urlsafe(32),
            issued_at=self._clock(),
            user=user,
            role=role,
        )
        payload: dict[str, Any] = {
            "tid": session.token_id,
            "th": session.token_hash_prefix,
            "csrf": session.csrf,
            "iat": session.issued_at,
        }
        if user:
            payload.update(u=user, r=role)
        return session, self.dumps("session", payload)

    def read_session(self, value: str | None) -> Session | None:
        """The session in a cookie value, if it is genuine and current."""
        payload = self.loads("session", value, max_age=SESSION_MAX_AGE)
        if payload is None:
            return None
        tid, th, csrf = payload.get("tid"), payload.get("th"), payload.get("csrf")
        if not isinstance(tid, int) or not isinstance(th, str) or not isinstance(csrf, str):
            return None
        if csrf in self._ended:
            return None
        user, role = payload.get("u", ""), payload.get("r", "")
        if not isinstance(user, str) or not isinstance(role, str):
            return None
        return Session(tid, th, csrf, float(payload["iat"]), user=user, role=role)

    def end_session(self, session: Session) -> None:
        """Refuse this session from now on (signing out), even if its cookie is replayed."""
        now = self._clock()
        for key in [k for k, until in self._ended.items() if until < now]:
            del self._ended[key]
        self._ended[session.csrf] = session.issued_at + SESSION_MAX_AGE

    def set_session_cookie(self, response: Response, value: str) -> None:
        """Attach the session cookie to ``response``."""
        self._set_cookie(response, SESSION_COOKIE, value, SESSION_MAX_AGE)

    def clear_session_cookie(self, response: Response) -> None:
        """Remove the session cookie."""
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=self.secure, httponly=True, samesite="strict"
        )

    def _set_cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        """Every console cookie: whole site, HTTPS-only when secure, no script, same site."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    # -- the login form's double-submit token ---------------------------------------

    def login_nonce(self, value: str | None) -> str | None:
        """The nonce in a genuine login cookie, or ``None``."""
        payload = self.loads("login", value, max_age=LOGIN_MAX_AGE)
        nonce = payload.get("n") if payload else None
        return nonce if isinstance(nonce, str) else None

    def new_login_cookie(self) -> tuple[str, str]:
        """A fresh login nonce and the signed cookie value that carries it."""
        nonce = secrets.token_urlsafe(32)
        return nonce, self.dumps("login", {"n": nonce, "iat": self._clock()})

    def set_login_cookie(self, response: Response, value: str) -> None:
        """Attach the login form's cookie to ``response``."""
        self._set_cookie(response, LOGIN_COOKIE, value, LOGIN_MAX_AGE)


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token with what the request carried."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
