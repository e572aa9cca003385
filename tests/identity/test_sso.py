"""SSO without a browser: the flow against the real provider process, refusals, local login off."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from _support.service import ADMIN_TOKEN, csrf_of, lifespan
from asc_access.config import Settings
from asc_access.errors import UsageError
from asc_access.service import create_app
from asc_access.service.oidc import OidcSettings
from identity.provider import ROLE_MAP, Provider, run_provider


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with run_provider() as running:
        yield running


def _oidc(provider: Provider, **changes: object) -> OidcSettings:
    values: dict[str, object] = {
        "issuer": provider.issuer,
        "client_id": "asc-access-console",
        "client_secret": "console-secret-for-tests",
        "allowed_domains": ("corp.example",),
        "role_map": ROLE_MAP,
    }
    values.update(changes)
    return OidcSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def sso_client(tmp_path: Path, provider: Provider) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.from_env(
        {"ASC_ACCESS_HOME": str(tmp_path / "home"), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN}
    )
    app = create_app(settings, scheduler=False, oidc=_oidc(provider, local_login=False))
    async with (
        lifespan(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://testserver"
        ) as c,
    ):
        yield c


async def sign_in(client: httpx.AsyncClient, email: str) -> httpx.Response:
    """Through the provider: its authorization form answered as ``email``."""
    r = await client.get("/login/oidc?next=/people")
    assert r.status_code == 303, r.text
    authorize = r.headers["location"]
    assert "code_challenge=" in authorize
    assert "code_challenge_method=S256" in authorize
    assert "nonce=" in authorize
    async with httpx.AsyncClient() as idp:
        answer = await idp.post(authorize, data={"sub": email})
    assert answer.status_code in (302, 303), answer.text
    callback = httpx.URL(answer.headers["location"])
    return await client.get(f"{callback.path}?{callback.query.decode()}")


@pytest.mark.parametrize(
    ("email", "role"),
    [
        ("vera.viewer@corp.example", "viewer"),
        ("otto.operator@corp.example", "operator"),
        ("ada.admin@corp.example", "admin"),
    ],
)
async def test_groups_map_to_roles(sso_client: httpx.AsyncClient, email: str, role: str) -> None:
    r = await sign_in(sso_client, email)
    assert r.status_code == 200, r.text
    assert 'http-equiv="refresh" content="0;url=/people"' in r.text
    me = (await sso_client.get("/api/v1/me")).json()
    assert me["role"] == role
    assert me["actor"] == f"user:{email}"
    page = await sso_client.get("/people")
    assert f'data-role="{role}"' in page.text
    # Sign out: the session ends, a copy of its cookie stops working too.
    cookie = sso_client.cookies.get("asc_session")
    r = await sso_client.post("/logout", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303
    sso_client.cookies.set("asc_session", cookie or "")
    assert (await sso_client.get("/people")).status_code == 303


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("mallory@elsewhere.example", "elsewhere.example may not sign in"),
        ("nobody@corp.example", "in no group that grants a role"),
    ],
)
async def test_people_outside_the_rules_are_refused(
    sso_client: httpx.AsyncClient, email: str, why: str
) -> None:
    r = await sign_in(sso_client, email)
    assert r.status_code == 403
    assert why in r.text
    assert "asc_session" not in sso_client.cookies


async def test_a_forged_state_is_refused(sso_client: httpx.AsyncClient) -> None:
    await sso_client.get("/login/oidc")
    r = await sso_client.get("/login/oidc/callback?code=abc&state=forged")
    assert r.status_code == 403
    assert "state" in r.text


async def test_local_login_can_be_switched_off(sso_client: httpx.AsyncClient) -> None:
    page = await sso_client.get("/login")
    assert "Sign in with your company account" in page.text
    assert 'name="token"' not in page.text
    r = await sso_client.post("/login", data={"token": ADMIN_TOKEN, "csrf_token": "x"})
    assert r.status_code == 403
    # API tokens still work: the switch is about the console's sign-in.
    r = await sso_client.get("/api/v1/me", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 200


def test_settings_come_from_the_environment() -> None:
    s = OidcSettings.from_env(
        {
            "ASC_ACCESS_OIDC_ISSUER": "https://idp.example/",
            "ASC_ACCESS_OIDC_CLIENT_ID": "cid",
            "ASC_ACCESS_OIDC_CLIENT_SECRET": "sec",
            "ASC_ACCESS_OIDC_ALLOWED_DOMAINS": "corp.example, @Other.example",
            "ASC_ACCESS_OIDC_ROLE_MAP": "it-admins=admin,helpdesk=operator",
            "ASC_ACCESS_LOCAL_LOGIN": "false",
        }
    )
    assert s.enabled
    assert s.issuer == "https://idp.example"
    assert s.allowed_domains == ("corp.example", "other.example")
    assert dict(s.role_map) == {"it-admins": "admin", "helpdesk": "operator"}
    assert s.local_login is False
    assert "sec" not in repr(s)
    with pytest.raises(UsageError, match="ROLE_MAP"):
        OidcSettings.from_env({"ASC_ACCESS_OIDC_ROLE_MAP": "x=root"})
