"""Token checks like Apple's: ES256 JWTs signed by a key the sandbox issued.

Every rejection raises the same 401 ``NOT_AUTHORIZED`` document; the reason is
kept only for the sandbox's own log (``Rejection.reason``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jwt

from asc_access.sandbox.keys import IssuedKey, KeyRing
from asc_access.sandbox.vocabulary import APPLE_API_AUDIENCE

__all__ = [
    "IAT_LEEWAY_SECONDS",
    "MAX_LIFETIME_SECONDS",
    "Principal",
    "Rejection",
    "authenticate",
]

MAX_LIFETIME_SECONDS = 20 * 60
#: How far in the future ``iat`` may be before a token is refused.
IAT_LEEWAY_SECONDS = 60
_SCOPE_IGNORED = frozenset({"limit", "cursor", "sort"})


class Rejection(Exception):  # noqa: N818
    """Why a token was refused (never shown to the client)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key and its verified claims."""

    key: IssuedKey
    claims: Mapping[str, Any]


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Rejection("no Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Rejection("not a bearer token")
    return token.strip()


def authenticate(
    keys: KeyRing,
    authorization: str | None,
    *,
    now: float,
    method: str,
    path: str,
    query: str,
) -> Principal:
    """Verify the bearer token or raise :class:`Rejection`."""
    token = _bearer(authorization)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise Rejection(f"malformed token: {type(error).__name__}") from None
    if header.get("alg") != "ES256":
        raise Rejection("alg is not ES256")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise Rejection("no kid")
    key = keys.get(kid)
    if key is None:
        raise Rejection("unknown kid")
    if key.revoked:
        raise Rejection("revoked key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.public_key,
            algorithms=["ES256"],
            audience=APPLE_API_AUDIENCE,
            options={
                "require": ["exp", "aud"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_iss": False,
            },
        )
    except jwt.PyJWTError as error:
        raise Rejection(f"invalid token: {type(error).__name__}") from None
    _check_times(claims, now)
    _check_shape(claims, key, keys.issuer_id)
    _check_scope(claims, method, path, query)
    return Principal(key=key, claims=claims)


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejection(f"{name} is not a number")
    return float(value)


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    exp = _number(claims, "exp")
    iat = _number(claims, "iat")
    assert exp is not None  # required above
    if exp <= now:
        raise Rejection("expired")
    if iat is not None and iat > now + IAT_LEEWAY_SECONDS:
        raise Rejection("iat in the future")
    start = iat if iat is not None else now
    if exp - start > MAX_LIFETIME_SECONDS:
        raise Rejection("lifetime over 20 minutes")


def _check_shape(claims: Mapping[str, Any], key: IssuedKey, issuer_id: str) -> None:
    if key.key_type == "team":
        iss = claims.get("iss")
        if iss is None:
            raise Rejection("team token without iss")
        if not isinstance(iss, str) or iss.lower() != issuer_id.lower():
            raise Rejection("wrong iss")
        return
    if "iss" in claims:
        raise Rejection("individual token with iss")
    if claims.get("sub") != "user":
        raise Rejection("individual token without sub=user")


def _check_scope(claims: Mapping[str, Any], method: str, path: str, query: str) -> None:
    scope = claims.get("scope")
    if scope is None:
        return
    if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope):
        raise Rejection("scope is not a list of strings")
    wanted = {
        (k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in _SCOPE_IGNORED
    }
    for entry in scope:
        entry_method, _, target = entry.partition(" ")
        entry_path, _, entry_query = target.partition("?")
        if entry_method.upper() != method or entry_path != path:
            continue
        allowed = {
            (k, v)
            for k, v in parse_qsl(entry_query, keep_blank_values=True)
            if k not in _SCOPE_IGNORED
        }
        if not entry_query or allowed == wanted:
            return
    raise Rejection("request not in the token's scope")
