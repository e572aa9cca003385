"""Signing in to the console through a real OpenID provider, in a real browser, per role.

The provider is ``oidc-provider-mock`` running as its own process; its sign-in
form picks the person. Each role's user signs in, and the page shows what that
role may do and hides (and refuses) what it may not. Screenshots land in
``test-artifacts/screenshots/sso-*.png``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from _support.sandbox import RunningSandbox
from _support.service import ADMIN_TOKEN, LiveServer, allowing, serve_in_thread
from asc_access.config import Settings
from asc_access.service import create_app
from asc_access.service.approvals import ApprovalPolicy
from asc_access.service.oidc import OidcSettings
from identity.provider import ROLE_MAP, Provider, run_provider

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def provider() -> Iterator[Provider]:
    with run_provider() as running:
        yield running


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium_path, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def live(tmp_path: Path, provider: Provider, sandbox: RunningSandbox) -> Iterator[LiveServer]:
    settings = Settings.from_env(
        allowing(
            {"ASC_ACCESS_HOME": str(tmp_path / "home"), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN},
            sandbox.base_url,
        )
    )
    oidc = OidcSettings(
        issuer=provider.issuer,
        client_id="asc-access-console",
        client_secret="console-secret-for-tests",
        allowed_domains=("corp.example",),
        role_map=ROLE_MAP,
    )
    four_eyes = ApprovalPolicy(enabled=True, ttl_seconds=3600)
    app: FastAPI = create_app(settings, scheduler=False, oidc=oidc, approvals=four_eyes)
    with serve_in_thread(app) as server:
        _connect_and_sync(server.base_url, sandbox)
        yield server


def _connect_and_sync(base: str, sandbox: RunningSandbox) -> None:
    k = sandbox.keys["admin"]
    with httpx.Client(base_url=base, headers=ADMIN, timeout=30) as api:
        r = api.post(
            "/api/v1/connections",
            json={
                "name": "northwind",
                "key_id": k.key_id,
                "issuer_id": k.issuer_id,
                "api_url": sandbox.base_url,
                "private_key": k.private_key_pem,
            },
        )
        assert r.status_code == 201, r.text
        assert api.post("/api/v1/connections/northwind/sync").status_code == 202
        for _ in range(300):
            runs = api.get("/api/v1/sync/runs?connection=northwind").json()["items"]
            if runs and runs[0]["status"] != "running":
                assert runs[0]["status"] == "succeeded", runs[0]
                return
            time.sleep(0.05)
    raise AssertionError("the sync did not finish")


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"sso-{name}.png"), full_page=True)


def _sign_in(browser: Browser, base: str, email: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(f"{base}/connections")
    expect(page).to_have_url(f"{base}/login?next=/connections")
    page.click("#sso")
    expect(page.locator("h1")).to_have_text("Authorize Client")  # the provider's own page
    page.click(f"button[value='{email}']")
    return page


def _signed_in_as(page: Page, base: str, role: str) -> None:
    expect(page).to_have_url(f"{base}/connections")
    expect(page.locator(f".badge.role[data-role='{role}']")).to_be_visible()


def _sign_out(page: Page, base: str) -> None:
    page.click("button:has-text('Sign out')")
    expect(page).to_have_url(f"{base}/login")
    page.goto(f"{base}/people")
    expect(page).to_have_url(f"{base}/login?next=/people")


def test_each_role_signs_in_and_sees_what_it_may_do(browser: Browser, live: LiveServer) -> None:
    base = live.base_url

    # A viewer reads everything and changes nothing.
    page = _sign_in(browser, base, "vera.viewer@corp.example")
    _signed_in_as(page, base, "viewer")
    expect(page.locator(".who")).to_have_text("vera.viewer@corp.example")
    expect(page.locator("td", has_text="northwind")).to_be_visible()
    expect(page.locator("button:has-text('Sync now')")).to_have_count(0)
    expect(page.locator("text=Add a connection")).to_have_count(0)
    expect(page.locator("nav >> text=Actions")).to_have_count(0)
    _shot(page, "01-viewer-connections")
    page.click("nav >> text=People")
    expect(page.locator(".sub", has_text="14 people match")).to_be_visible()
    expect(page.locator("text=Remove…")).to_have_count(0)
    expect(page.locator("text=Roles…")).to_have_count(0)
    _shot(page, "02-viewer-people")
    page.goto(f"{base}/connections/northwind")
    expect(page.locator("text=Remove this connection")).to_have_count(0)
    response = page.goto(f"{base}/actions")
    assert response is not None
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("operator")
    _shot(page, "03-viewer-refused")
    _sign_out(page, base)

    # An operator syncs and changes roles, but does not remove people or add keys.
    page = _sign_in(browser, base, "otto.operator@corp.example")
    _signed_in_as(page, base, "operator")
    expect(page.locator("button:has-text('Sync now')")).to_be_visible()
    expect(page.locator("text=Add a connection")).to_have_count(0)
    page.click("nav >> text=People")
    expect(page.locator("text=Roles…").first).to_be_visible()
    expect(page.locator("text=Remove…")).to_have_count(0)
    _shot(page, "04-operator-people")
    page.click("nav >> text=Actions")
    expect(page.locator("text=Change roles")).to_be_visible()
    expect(page.locator("text=Remove a member")).to_have_count(0)
    expect(page.locator("text=Offboard from every team")).to_have_count(0)
    _shot(page, "05-operator-actions")
    response = page.goto(f"{base}/connections/new")
    assert response is not None
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("admin")
    page.goto(f"{base}/connections")
    page.click("button:has-text('Sync now')")
    expect(page.locator("h1")).to_contain_text("Sync of")
    expect(page.locator(".badge", has_text="Succeeded")).to_be_visible(timeout=30_000)
    _shot(page, "06-operator-synced")
    _sign_out(page, base)

    # An admin may do everything.
    page = _sign_in(browser, base, "ada.admin@corp.example")
    _signed_in_as(page, base, "admin")
    expect(page.locator("text=Add a connection")).to_be_visible()
    page.click("nav >> text=People")
    expect(page.locator("text=Remove…").first).to_be_visible()
    page.click("nav >> text=Actions")
    expect(page.locator("text=Offboard from every team")).to_be_visible()
    page.goto(f"{base}/connections/new")
    expect(page.locator("h1")).to_have_text("Add a connection")
    _shot(page, "07-admin-add-connection")
    _sign_out(page, base)


def test_people_outside_the_rules_are_turned_away(browser: Browser, live: LiveServer) -> None:
    base = live.base_url
    page = _sign_in(browser, base, "mallory@elsewhere.example")
    expect(page.locator(".flash.bad")).to_contain_text("elsewhere.example may not sign in")
    _shot(page, "08-other-domain-refused")
    page.goto(f"{base}/connections")
    expect(page).to_have_url(f"{base}/login?next=/connections")
    page = _sign_in(browser, base, "nobody@corp.example")
    expect(page.locator(".flash.bad")).to_contain_text("no group that grants a role")


MARCUS = "marcus.okafor@northwindlabs.example.com"  # an Admin of the demo team


def test_removing_an_admin_takes_two_people(
    browser: Browser, live: LiveServer, sandbox: RunningSandbox
) -> None:
    base = live.base_url
    page = _sign_in(browser, base, "ada.admin@corp.example")
    _signed_in_as(page, base, "admin")
    page.goto(f"{base}/actions?action=remove&email={MARCUS}&connection=northwind")
    page.click("button:has-text('Show the plan')")
    expect(page.locator(".plan-steps")).to_contain_text(f"remove {MARCUS} from the team")
    page.click("button:has-text('Confirm')")
    expect(page.locator("h1")).to_have_text("Waiting for a second person")
    _shot(page, "09-admin-removal-waits")
    page.click("text=Approvals >> nth=0")
    row = page.locator("tr[data-approval]").first
    expect(row).to_contain_text("pending")
    expect(row.locator("button:has-text('Approve')")).to_have_count(0)  # not for the requester
    expect(row.locator("button:has-text('Withdraw')")).to_be_visible()
    _sign_out(page, base)

    page = _sign_in(browser, base, "amir.admin@corp.example")
    _signed_in_as(page, base, "admin")
    page.goto(f"{base}/approvals")
    row = page.locator("tr[data-approval]").first
    expect(row).to_contain_text("user:ada.admin@corp.example")
    _shot(page, "10-second-admin-approvals")
    row.locator("button:has-text('Approve')").click()
    expect(page.locator("h1")).to_contain_text("Done")
    page.click("text=entry")
    expect(page.locator("dl.kv")).to_contain_text("user:ada.admin@corp.example")
    expect(page.locator("dl.kv")).to_contain_text("Approved by")
    expect(page.locator("dl.kv")).to_contain_text("user:amir.admin@corp.example")
    _shot(page, "11-audit-requester-and-approver")
    users = httpx.get(f"{sandbox.base_url}/v1/users?limit=200", headers=sandbox.headers())
    assert MARCUS not in {u["attributes"]["username"] for u in users.json()["data"]}
