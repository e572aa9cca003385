"""A running service with a synced sandbox connection and a SCIM token bound to it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from _support.sandbox import RunningSandbox
from _support.service import postgres_schema, serve_in_thread
from asc_access.api.retry import RetryPolicy
from asc_access.cli.main import app as cli_app
from asc_access.config import Settings
from asc_access.service import create_app

DOMAIN = "northwindlabs.example.com"
ASC = "urn:ietf:params:scim:schemas:extension:appstoreconnect:2.0:User"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ADMIN_TOKEN = "scim-tests-admin-token-0123456789abcdef"


def cli(*args: str) -> Any:
    """Run the CLI in-process; return the result."""
    return CliRunner().invoke(cli_app, list(args), catch_exceptions=False)


def cli_json(*args: str) -> Any:
    """Run a ``--json`` command that must succeed; return its document."""
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def connect(sandbox: RunningSandbox, name: str = "northwind", key: str = "admin") -> None:
    """Save and sync a connection to the sandbox."""
    k = sandbox.keys[key]
    cli_json(
        "connect",
        name,
        "--key-id",
        k.key_id,
        "--issuer-id",
        str(k.issuer_id),
        "--private-key-file",
        str(k.private_key_file),
        "--api-url",
        sandbox.base_url,
    )
    cli_json("sync", name)


@dataclass
class Bridge:
    """The service's SCIM endpoint, a client holding a SCIM token, and the sandbox behind."""

    base_url: str
    token: str
    scim: httpx.Client
    sandbox: RunningSandbox

    def apple_user(self, email: str) -> dict[str, Any] | None:
        """The member ``email`` as the sandbox (Apple) has it, or ``None``."""
        r = httpx.get(
            f"{self.sandbox.base_url}/v1/users",
            params={"filter[username]": email},
            headers=self.sandbox.headers(),
        )
        r.raise_for_status()
        found = [u for u in r.json()["data"] if u["attributes"]["username"].lower() == email]
        return found[0] if found else None

    def apple_invitation(self, email: str) -> dict[str, Any] | None:
        """The pending invitation of ``email`` in the sandbox, or ``None``."""
        r = httpx.get(
            f"{self.sandbox.base_url}/v1/userInvitations",
            params={"filter[email]": email},
            headers=self.sandbox.headers(),
        )
        r.raise_for_status()
        found = [i for i in r.json()["data"] if i["attributes"]["email"].lower() == email]
        return found[0] if found else None


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``None`` (SQLite in the test's home), then a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    with postgres_schema(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture
def fresh_team(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    """A second, small team that nobody has synced yet (allowed by ``bridge`` too)."""
    return sandbox_factory(users=4, apps=2, invitations=0)


@pytest.fixture
def bridge(
    request: pytest.FixtureRequest,
    sandbox: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
    store_url: str | None,
) -> Iterator[Bridge]:
    """``serve`` on a real port, connection ``northwind`` synced, SCIM token ``okta``."""
    if store_url is not None:
        monkeypatch.setenv("ASC_ACCESS_DATABASE_URL", store_url)
    monkeypatch.setenv("ASC_ACCESS_API_TOKEN", ADMIN_TOKEN)
    allowed = [sandbox.base_url]
    if "fresh_team" in request.fixturenames:
        allowed.append(request.getfixturevalue("fresh_team").base_url)
    monkeypatch.setenv("ASC_ACCESS_ALLOWED_API_URLS", ",".join(allowed))
    connect(sandbox)
    token = cli_json("tokens", "create", "okta", "--scim", "northwind")["token"]
    quick = {"retry": RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)}
    service = create_app(Settings.from_env(), scheduler=False, client_kwargs=quick)
    try:
        with serve_in_thread(service) as live:
            base = f"{live.base_url}/scim/v2"
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30.0) as client:
                yield Bridge(base, token, client, sandbox)
    finally:
        service.state.ctx.engine.dispose()


def scim_json(response: httpx.Response, status: int) -> Any:
    """The body of a SCIM response that must have ``status`` and SCIM's media type."""
    assert response.status_code == status, response.text
    if status != 204:
        assert response.headers["content-type"].startswith("application/scim+json")
        return response.json()
    return None
