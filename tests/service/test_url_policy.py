"""The service sends a signed token only to Apple's origin and the listed ones (issue 12, item 2).

Over real HTTP: the service on a loopback port, one sandbox it may call (listed
in ``ASC_ACCESS_ALLOWED_API_URLS`` by the fixtures) and one it may not. The
unlisted sandbox must never see a request, whatever the form says (``force``
too), and a refused URL is answered the same way whether something listens
there or not.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from _support.sandbox import RunningSandbox
from _support.service import ADMIN_TOKEN, free_port, lifespan, serve_in_thread
from asc_access.config import Settings
from asc_access.runtime import open_store, vault_for
from asc_access.service import create_app
from asc_access.store.connections import add_connection
from asc_access.urlpolicy import ApiUrlNotAllowedError, UrlPolicy, origin_of

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
APPLE = "https://api.appstoreconnect.apple.com"


def _resolver(table: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    return lambda host, _port: table.get(host, [])


def _body(sandbox: RunningSandbox, url: str, name: str = "evil", **extra: object) -> dict:
    key = sandbox.keys["admin"]
    return {
        "name": name,
        "key_id": key.key_id,
        "issuer_id": key.issuer_id,
        "api_url": url,
        "private_key": key.private_key_pem,
        **extra,
    }


# -- the policy itself, with an injected resolver --------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://api.appstoreconnect.apple.com/v1",  # a path
        "https://api.appstoreconnect.apple.com?x=1",
        "https://user:pw@api.appstoreconnect.apple.com",
        "https://api.appstoreconnect.apple.com@169.254.169.254",
        "https://api.appstoreconnect.apple.com.evil.example",
        "http://api.appstoreconnect.apple.com",  # plain http, even to Apple's host
        "ftp://api.appstoreconnect.apple.com",
        "https://169.254.169.254",
        "http://127.0.0.1:9",
        "http://[::1]:8080",
        "not a url",
    ],
)
def test_only_apple_and_listed_origins_pass(url: str) -> None:
    policy = UrlPolicy.from_list([], resolver=_resolver({}))
    with pytest.raises(ApiUrlNotAllowedError) as caught:
        policy.check(url)
    assert "is not allowed" in caught.value.message
    assert policy.check(APPLE) == APPLE
    assert policy.check(APPLE + "/") == APPLE + "/"


def test_apple_host_resolving_to_a_private_address_is_refused() -> None:
    for address in ("10.0.0.7", "127.0.0.1", "169.254.169.254", "::ffff:192.168.1.2", "fd00::1"):
        policy = UrlPolicy(resolver=_resolver({"api.appstoreconnect.apple.com": [address]}))
        with pytest.raises(ApiUrlNotAllowedError):
            policy.check(APPLE)
    public = UrlPolicy(resolver=_resolver({"api.appstoreconnect.apple.com": ["17.56.2.1"]}))
    assert public.check(APPLE) == APPLE


def test_listed_origins_are_exact_and_http_only_to_loopback() -> None:
    table = {
        "sandbox.internal": ["10.1.2.3"],
        "metadata.internal": ["169.254.169.254"],
        "localhost": ["127.0.0.1", "::1"],
    }
    policy = UrlPolicy.from_list(
        [
            "http://127.0.0.1:8765",
            "http://localhost:8766",
            "http://sandbox.internal:8080",
            "https://metadata.internal",
            "https://sandbox.internal",
        ],
        resolver=_resolver(table),
    )
    assert policy.check("http://127.0.0.1:8765")
    assert policy.check("http://localhost:8766")
    assert policy.check("https://sandbox.internal")  # listed, over TLS
    for refused in (
        "http://127.0.0.1:8766",  # another port
        "http://sandbox.internal:8080",  # a token in the clear off this machine
        "https://metadata.internal",  # resolves to the metadata address
        "https://127.0.0.1:8765",  # another scheme is another origin
    ):
        with pytest.raises(ApiUrlNotAllowedError):
            policy.check(refused)
    with pytest.raises(Exception, match="not an origin"):
        UrlPolicy.from_list(["http://127.0.0.1:8765/path"])
    assert origin_of("HTTPS://API.AppStoreConnect.Apple.com:443/") == APPLE


# -- over HTTP against the service -------------------------------------------------------


def test_an_unlisted_url_is_refused_before_anything_is_sent_even_with_force(
    settings: Settings,
    sandbox: RunningSandbox,
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    unlisted = sandbox_factory()
    app = create_app(settings, scheduler=False)
    with (
        serve_in_thread(app) as live,
        httpx.Client(base_url=live.base_url, headers=ADMIN, timeout=30) as c,
    ):
        for force in (False, True):
            r = c.post("/api/v1/connections", json=_body(unlisted, unlisted.base_url, force=force))
            assert r.status_code == 422, r.text
            assert r.json()["cause"] == "api_url_not_allowed"
            assert "is not allowed" in r.json()["message"]
        assert c.get("/api/v1/connections").json()["items"] == []
        # The listed sandbox still works, and rotating onto the unlisted URL is refused.
        ok = c.post("/api/v1/connections", json=_body(sandbox, sandbox.base_url, name="good"))
        assert ok.status_code == 201, ok.text
        key = unlisted.keys["admin"]
        moved = c.put(
            "/api/v1/connections/good/key",
            json={
                "key_id": key.key_id,
                "issuer_id": key.issuer_id,
                "api_url": unlisted.base_url,
                "private_key": key.private_key_pem,
                "move": True,
            },
        )
        assert moved.status_code == 422, moved.text
        assert moved.json()["cause"] == "api_url_not_allowed"
        assert c.get("/api/v1/connections/good").json()["api_url"] == sandbox.base_url
    assert unlisted.stats()["requests"] == 0, "a token was sent to an unlisted URL"


def _closed_port() -> int:
    port = free_port()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return port


def test_a_refused_url_says_nothing_about_the_network(
    settings: Settings, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    open_port = sandbox_factory()  # something answers here
    targets = {
        "open": open_port.base_url,
        "closed": f"http://127.0.0.1:{_closed_port()}",
        "filtered": "http://10.255.255.1:81",  # a black hole
        "metadata": "http://169.254.169.254",
    }
    app = create_app(settings, scheduler=False)
    answers = {}
    with (
        serve_in_thread(app) as live,
        httpx.Client(base_url=live.base_url, headers=ADMIN, timeout=30) as c,
    ):
        for label, url in targets.items():
            r = c.post("/api/v1/connections", json=_body(open_port, url, force=True))
            answers[label] = (r.status_code, r.text.replace(url, "<url>"))
    assert len(set(answers.values())) == 1, answers
    status, text = answers["open"]
    assert status == 422
    assert "not allowed" in text
    assert open_port.stats()["requests"] == 0


async def test_a_stored_unlisted_url_is_never_synced_tested_or_scheduled(
    settings: Settings, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    unlisted = sandbox_factory()
    key = unlisted.keys["admin"]
    engine = open_store(settings)
    # Saved before the rule existed (or by the CLI, whose operator chose the URL).
    add_connection(
        engine,
        name="legacy",
        key_id=key.key_id,
        issuer_id=key.issuer_id,
        key_type="team",
        api_url=unlisted.base_url,
        encrypted_private_key=vault_for(settings).encrypt(key.private_key_pem.encode()),
        healthy=True,
        sync_interval_seconds=60,
    )
    app = create_app(settings, scheduler=False)
    ctx = app.state.ctx
    async with (
        lifespan(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://testserver", headers=ADMIN
        ) as c,
    ):
        assert await app.state.scheduler.tick_once() == []
        started = await c.post("/api/v1/connections/legacy/sync")
        if started.status_code < 300:
            await ctx.syncs.wait("legacy")
            failure = ctx.syncs.early_failures["legacy"]
            assert failure.cause == "api_url_not_allowed"
        else:
            assert started.json()["cause"] == "api_url_not_allowed"
        doctor = await c.post("/api/v1/connections/legacy/doctor")
        assert doctor.status_code == 422, doctor.text
        assert doctor.json()["cause"] == "api_url_not_allowed"
        plan = await c.post(
            "/api/v1/actions/plans",
            json={"action": "offboard", "email": "x@example.com", "connections": ["legacy"]},
        )
        assert plan.status_code >= 400
        await asyncio.sleep(0)
    assert unlisted.stats()["requests"] == 0, "the stored URL was called"


async def test_apple_host_resolving_privately_is_refused_by_the_service(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env(
        {"ASC_ACCESS_HOME": str(tmp_path / "h"), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN}
    )
    policy = UrlPolicy.from_settings(
        settings, resolver=_resolver({"api.appstoreconnect.apple.com": ["10.0.0.7"]})
    )
    app = create_app(settings, scheduler=False, url_policy=policy)
    async with (
        lifespan(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://testserver", headers=ADMIN
        ) as c,
    ):
        r = await c.post(
            "/api/v1/connections",
            json={"name": "apple", "key_id": "ABCDE12345", "private_key": "x", "force": True},
        )
    assert r.status_code == 422, r.text
    assert r.json()["cause"] == "api_url_not_allowed"
