"""TokenManager: claims, reuse, refresh before expiry, re-mint after invalidate."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from _support import keys
from asc_access.credentials import Credentials, TokenManager, parse_private_key
from asc_access.errors import CredentialError
from asc_access.ids import IssuerId, KeyId

KID = KeyId("ABCDE12345")
ISS = IssuerId("57246542-96fe-1a63-e053-0824d011072a")
T0 = 1_800_000_000.0


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def pem() -> str:
    return keys.p256_key_pem()


def _creds(pem: str, key_type: str = "team", **extra: object) -> Credentials:
    return Credentials(
        key_id=KID,
        issuer_id=ISS if key_type == "team" else None,
        key_type=key_type,  # type: ignore[arg-type]
        private_key=parse_private_key(pem, source="test").key,
        **extra,  # type: ignore[arg-type]
    )


def _decode(token: str, pem: str) -> tuple[dict[str, object], dict[str, object]]:
    key = parse_private_key(pem, source="test").key.signing_key().public_key()
    claims = jwt.decode(
        token,
        key,
        algorithms=["ES256"],
        audience="appstoreconnect-v1",
        options={"verify_exp": False, "verify_iat": False},
    )
    return jwt.get_unverified_header(token), claims


def test_team_token_shape(pem: str) -> None:
    manager = TokenManager(_creds(pem), clock=FakeClock())
    header, claims = _decode(manager.token(), pem)
    assert header == {"alg": "ES256", "kid": KID, "typ": "JWT"}
    assert claims == {
        "iss": ISS,
        "iat": int(T0) - 60,
        "exp": int(T0) + 600,
        "aud": "appstoreconnect-v1",
    }
    assert claims["exp"] - claims["iat"] == 660  # type: ignore[operator]
    assert manager.key_id == KID


def test_individual_token_shape(pem: str) -> None:
    manager = TokenManager(_creds(pem, "individual"), clock=FakeClock())
    _header, claims = _decode(manager.token(), pem)
    assert claims["sub"] == "user"
    assert "iss" not in claims


def test_individual_shape_even_when_an_issuer_is_known(pem: str) -> None:
    creds = _creds(pem).with_key_type("individual")
    assert creds.issuer_id == ISS
    _header, claims = _decode(TokenManager(creds, clock=FakeClock()).token(), pem)
    assert "iss" not in claims
    assert claims["sub"] == "user"


def test_one_token_serves_many_requests_and_is_refreshed_before_expiry(pem: str) -> None:
    clock = FakeClock()
    manager = TokenManager(_creds(pem), clock=clock)
    first = manager.token()
    for step in range(100):  # 100 requests over 7.9 minutes
        clock.now = T0 + step * 4.7
        assert manager.token() == first
    assert manager.minted == 1
    expires = manager.expires_at
    assert expires == int(T0) + 600
    # Inside the refresh margin (2 min before exp) a new token is minted, before expiry.
    clock.now = expires - 119
    second = manager.token()
    assert second != first
    assert manager.minted == 2
    _h, claims = _decode(second, pem)
    assert claims["iat"] == int(clock.now) - 60
    # ...and is reused in turn.
    clock.now += 30
    assert manager.token() == second
    assert manager.minted == 2


def test_invalidate_forces_a_new_token(pem: str) -> None:
    clock = FakeClock()
    manager = TokenManager(_creds(pem), clock=clock)
    first = manager.token()
    manager.invalidate()
    assert manager.expires_at is None
    clock.now += 1
    second = manager.token()
    assert second != first
    assert manager.minted == 2


def test_configured_lifetime(pem: str) -> None:
    manager = TokenManager(_creds(pem, token_lifetime_seconds=1200), clock=FakeClock())
    _h, claims = _decode(manager.token(), pem)
    assert claims["exp"] - claims["iat"] == 1200  # type: ignore[operator]
    short = TokenManager(_creds(pem), clock=FakeClock(), lifetime_seconds=40)
    _h, claims = _decode(short.token(), pem)
    assert claims["exp"] - claims["iat"] == 40  # type: ignore[operator]
    assert claims["iat"] == int(T0) - 10  # back-dating capped at a quarter of the lifetime


@pytest.mark.parametrize("lifetime", [0, -1, 1201, 3600])
def test_out_of_range_lifetime_is_refused(pem: str, lifetime: int) -> None:
    with pytest.raises(CredentialError) as info:
        TokenManager(_creds(pem), lifetime_seconds=lifetime)
    assert info.value.cause == "token_lifetime_invalid"


def test_repr_shows_no_token(pem: str) -> None:
    manager = TokenManager(_creds(pem), clock=FakeClock())
    token = manager.token()
    assert token not in repr(manager)
    assert "minted=1" in repr(manager)


def test_one_token_serves_many_real_requests(sandbox: Any) -> None:
    """Against the sandbox over HTTP: every request of a busy client carries the same token."""
    import asyncio

    from asc_access.api import AppStoreConnectClient
    from asc_access.credentials import CredentialFlags, load_credentials

    key = sandbox.keys["admin"]
    creds = load_credentials(
        CredentialFlags(
            key_id=key.key_id, issuer_id=key.issuer_id, private_key_file=str(key.private_key_file)
        ),
        environ={},
    )
    manager = TokenManager(creds)

    async def many() -> int:
        async with AppStoreConnectClient(manager, base_url=sandbox.base_url) as client:
            for _ in range(25):
                await client.apps.get((await client.apps.list(limit=1))[0].id)
            return client.request_count

    sandbox.reset_stats()
    sent = asyncio.run(many())
    assert sent >= 50
    assert sandbox.stats()["requests"] == sent
    assert manager.minted == 1


def test_signed_without_a_jwt_library_and_verifiable_by_one(pem: str) -> None:
    """Our own ES256 signer: PyJWT (and so Apple) verifies it; the signature is raw r || s."""
    creds = _creds(pem)
    token = TokenManager(creds, clock=FakeClock()).token()
    public = creds.private_key.signing_key().public_key()
    header = jwt.get_unverified_header(token)
    assert list(header) == ["alg", "kid", "typ"]
    claims = jwt.decode(
        token, public, algorithms=["ES256"], audience="appstoreconnect-v1",
        options={"verify_exp": False, "verify_iat": False},
    )  # fmt: skip
    assert claims["iss"] == ISS
    assert len(jwt.api_jws.base64url_decode(token.rsplit(".", 1)[1])) == 64
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, public, algorithms=["ES256"], options={"verify_aud": False,
                   "verify_exp": False, "verify_iat": False})  # fmt: skip
