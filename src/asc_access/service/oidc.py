"""Single sign-on for the console with OpenID Connect (authorization code + PKCE, via Authlib).

Settings (environment, read by ``serve``; see docs/identity.md):

- ``ASC_ACCESS_OIDC_ISSUER``: the provider's issuer URL (discovery at
  ``<issuer>/.well-known/openid-configuration``); unset = no SSO.
- ``ASC_ACCESS_OIDC_CLIENT_ID`` / ``ASC_ACCESS_OIDC_CLIENT_SECRET``: the console's client.
- ``ASC_ACCESS_OIDC_ALLOWED_DOMAINS``: comma-separated e-mail domains allowed in.
- ``ASC_ACCESS_OIDC_GROUPS_CLAIM`` (default ``groups``) and ``ASC_ACCESS_OIDC_ROLE_MAP``
  (``group=role,group=role``): the IdP's groups mapped to roles; the highest wins, and
  a person in no mapped group is not let in.
- ``ASC_ACCESS_OIDC_REDIRECT_URL``: the callback URL registered with the provider
  (default: ``<the console's origin>/login/oidc/callback``).
- ``ASC_ACCESS_LOCAL_LOGIN`` (default ``true``): ``false`` switches off signing in to the
  console with a pasted token (the break-glass path); API tokens keep working.

The three HTTP calls to the provider (discovery, token, keys) go through the standard
library in a thread; Authlib builds the authorization request (state, nonce, PKCE S256)
and the token request and validates the ID token's claims; joserfc checks its signature.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.common.urls import url_decode
from authlib.oauth2.client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from asc_access.errors import UsageError
from asc_access.store.tokens import TokenRecord

__all__ = [
    "OidcError",
    "OidcSettings",
    "SignIn",
    "begin",
    "finish",
    "sso_record",
]

_ORDER = ("viewer", "operator", "admin")
_TRUE = {"1", "true", "yes", "on"}


class OidcError(Exception):
    """Sign-in refused or failed; ``message`` is safe to show the person."""


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


@dataclass(frozen=True)
class OidcSettings:
    """How the console signs people in."""

    issuer: str | None = None
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    allowed_domains: tuple[str, ...] = ()
    groups_claim: str = "groups"
    role_map: Mapping[str, str] = field(default_factory=dict)
    redirect_url: str | None = None
    local_login: bool = True
    scopes: str = "openid email profile"

    @property
    def enabled(self) -> bool:
        """Whether SSO is configured."""
        return bool(self.issuer and self.client_id)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OidcSettings:
        """Read the ``ASC_ACCESS_OIDC_*`` and ``ASC_ACCESS_LOCAL_LOGIN`` variables."""
        role_map: dict[str, str] = {}
        for pair in _split(environ.get("ASC_ACCESS_OIDC_ROLE_MAP", "")):
            group, _, role = pair.rpartition("=")
            if role.strip() not in _ORDER or not group.strip():
                raise UsageError(
                    f"ASC_ACCESS_OIDC_ROLE_MAP entry {pair!r}: use group=viewer|operator|admin",
                    context={"input": "ASC_ACCESS_OIDC_ROLE_MAP"},
                )
            role_map[group.strip()] = role.strip()
        local = environ.get("ASC_ACCESS_LOCAL_LOGIN", "true").strip().lower() in _TRUE
        return cls(
            issuer=(environ.get("ASC_ACCESS_OIDC_ISSUER") or "").rstrip("/") or None,
            client_id=environ.get("ASC_ACCESS_OIDC_CLIENT_ID", ""),
            client_secret=environ.get("ASC_ACCESS_OIDC_CLIENT_SECRET", ""),
            allowed_domains=tuple(
                d.lower().lstrip("@")
                for d in _split(environ.get("ASC_ACCESS_OIDC_ALLOWED_DOMAINS", ""))
            ),
            groups_claim=environ.get("ASC_ACCESS_OIDC_GROUPS_CLAIM", "groups") or "groups",
            role_map=role_map,
            redirect_url=environ.get("ASC_ACCESS_OIDC_REDIRECT_URL") or None,
            local_login=local,
        )


# -- HTTP to the provider (standard library, in a thread) -------------------------------


@dataclass
class _Reply:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise OidcError(f"the identity provider answered HTTP {self.status_code}")


def _http(url: str, *, data: bytes | None = None, headers: Mapping[str, str] = {}) -> _Reply:
    if not url.startswith(("https://", "http://")):
        raise OidcError(f"the identity provider's URL {url!r} is not http(s)")
    request = urllib.request.Request(url, data=data, headers=dict(headers))  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return _Reply(response.status, response.read(1024 * 1024))
    except urllib.error.HTTPError as error:
        return _Reply(error.code, error.read(64 * 1024))
    except OSError as error:
        raise OidcError(f"the identity provider could not be reached ({error})") from error


class _Session:
    """The small ``session`` Authlib's protocol client sends its token request through."""

    def post(
        self,
        url: str,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: Any = None,
    ) -> _Reply:
        body = urlencode(dict(data or {}))
        sent = dict(headers or {})
        if auth is not None:
            url, sent, body = auth.prepare("POST", url, sent, body)
        return _http(url, data=body.encode(), headers=sent)


def _client(settings: OidcSettings, redirect_url: str) -> OAuth2Client:
    return OAuth2Client(
        _Session(),
        client_id=settings.client_id,
        client_secret=settings.client_secret or None,
        scope=settings.scopes,
        redirect_uri=redirect_url,
        code_challenge_method="S256",
    )


_discovery: dict[str, dict[str, Any]] = {}


def _metadata(issuer: str) -> dict[str, Any]:
    cached = _discovery.get(issuer)
    if cached is not None:
        return cached
    reply = _http(f"{issuer}/.well-known/openid-configuration")
    reply.raise_for_status()
    document = reply.json()
    if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer:
        raise OidcError("the identity provider's discovery document names another issuer")
    _discovery[issuer] = document
    return document


# -- the flow ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """Who signed in, and with which role."""

    email: str
    subject: str
    role: str
    groups: tuple[str, ...]


async def begin(settings: OidcSettings, redirect_url: str) -> tuple[str, dict[str, str]]:
    """The provider's authorization URL and the values to keep until the callback."""
    assert settings.issuer is not None
    meta = await asyncio.to_thread(_metadata, settings.issuer)
    verifier = generate_token(64)
    nonce = generate_token(32)
    url, state = _client(settings, redirect_url).create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    return url, {"state": state, "nonce": nonce, "verifier": verifier, "redirect": redirect_url}


def _exchange(settings: OidcSettings, kept: Mapping[str, str], code: str) -> dict[str, Any]:
    assert settings.issuer is not None
    meta = _metadata(settings.issuer)
    client = _client(settings, kept["redirect"])
    token = client.fetch_token(
        meta["token_endpoint"],
        grant_type="authorization_code",
        code=code,
        code_verifier=kept["verifier"],
    )
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise OidcError("the identity provider sent no ID token")
    keys = _http(meta["jwks_uri"])
    keys.raise_for_status()
    try:
        decoded = jwt.decode(id_token, KeySet.import_key_set(keys.json()))
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": settings.issuer},
                "aud": {"essential": True, "value": settings.client_id},
            },
            params={"nonce": kept["nonce"], "client_id": settings.client_id},
        )
        claims.validate(leeway=60)
    except (JoseError, ValueError) as error:
        raise OidcError(f"the ID token was refused: {error}") from error
    return dict(claims)


def _role_for(settings: OidcSettings, groups: list[str]) -> str | None:
    roles = [settings.role_map[g] for g in groups if g in settings.role_map]
    return max(roles, key=_ORDER.index) if roles else None


def _person(settings: OidcSettings, claims: Mapping[str, Any]) -> SignIn:
    email = str(claims.get("email") or "").strip().lower()
    if not email or "@" not in email or claims.get("email_verified") is False:
        raise OidcError("the identity provider did not vouch for an e-mail address")
    domain = email.rpartition("@")[2]
    if settings.allowed_domains and domain not in settings.allowed_domains:
        raise OidcError(f"e-mail addresses at {domain} may not sign in here")
    raw = claims.get(settings.groups_claim) or []
    groups = [raw] if isinstance(raw, str) else [str(g) for g in raw if isinstance(g, str)]
    role = _role_for(settings, groups)
    if role is None:
        raise OidcError(
            f"{email} is in no group that grants a role here (claim {settings.groups_claim!r})"
        )
    return SignIn(email=email, subject=str(claims["sub"]), role=role, groups=tuple(groups))


async def finish(settings: OidcSettings, kept: Mapping[str, str], query: str) -> SignIn:
    """Check the provider's answer to the callback, redeem the code, validate the ID token."""
    params = dict(url_decode(query))
    if "error" in params:
        raise OidcError(f"the identity provider refused: {params.get('error')}")
    if not kept.get("state") or params.get("state") != kept["state"]:
        raise OidcError("the sign-in answer does not match this browser's sign-in (state)")
    code = params.get("code")
    if not code:
        raise OidcError("the identity provider sent no authorization code")
    claims = await asyncio.to_thread(_exchange, settings, kept, code)
    return _person(settings, claims)


def sso_record(email: str, role: str, issued_at: float) -> TokenRecord:
    """The principal's record for a person signed in through SSO (no token behind it).

    Its id is negative and its hash is derived from the e-mail, so plans (bound to
    the hash) stay with their author.
    """
    digest = hashlib.sha256(email.encode()).digest()
    return TokenRecord(
        id=-(int.from_bytes(digest[:6], "big") + 1),
        name=email,
        is_admin=False,
        created_at=datetime.fromtimestamp(issued_at, UTC),
        revoked_at=None,
        last_used_at=None,
        token_hash="sso:" + digest.hex(),
        role=role,
    )
