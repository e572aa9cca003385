"""The console in a real browser (Debian's chromium through Playwright), end to end.

Log in; add a connection with a broken key and see APP-101 with its fix steps;
add the sandbox's admin key; sync with live progress; find a person; plan and
confirm removing them; see the change in the timeline. A screenshot of every
page lands in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from _support.sandbox import RunningSandbox
from _support.service import ADMIN_TOKEN, LiveServer, serve_in_thread

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
KENJI = "kenji.watanabe@northwindlabs.example.com"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Browser]:
    """Headless Debian chromium (never a downloaded browser)."""
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def live_app(app: FastAPI) -> Iterator[LiveServer]:
    with serve_in_thread(app) as server:
        yield server


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _upload(page: Page, name: str, key_id: str, issuer: str, api_url: str, path: Path) -> None:
    page.fill("input[name=name]", name)
    page.fill("input[name=key_id]", key_id)
    page.fill("input[name=issuer_id]", issuer)
    page.click("text=Advanced")
    page.fill("input[name=api_url]", api_url)
    page.set_input_files("input[name=private_key]", str(path))
    page.click("button:has-text('Check and save')")


def test_console_end_to_end(
    browser: Browser, live_app: LiveServer, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    base = live_app.base_url

    # Log in: unknown visitors land on the sign-in form.
    page.goto(f"{base}/connections")
    expect(page).to_have_url(f"{base}/login?next=/connections")
    _shot(page, "01-login")
    page.fill("#token", "wrong-token")
    page.click("button:has-text('Sign in')")
    expect(page.locator(".flash.bad")).to_contain_text("not valid")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button:has-text('Sign in')")
    expect(page).to_have_url(f"{base}/connections")
    expect(page.locator("h1")).to_have_text("Connections")
    cookie = next(c for c in context.cookies() if c["name"] == "asc_session")
    assert cookie["secure"] is True
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    _shot(page, "02-connections-empty")

    # A broken key: APP-101 with its cause and numbered fix steps, nothing saved.
    admin = sandbox.keys["admin"]
    broken = tmp_path / f"AuthKey_{admin.key_id}.p8"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    page.click("text=Add a connection")
    expect(page.locator("h1")).to_have_text("Add a connection")
    _shot(page, "03-add-connection-form")
    assert admin.issuer_id is not None
    _upload(page, "broken", admin.key_id, admin.issuer_id, sandbox.base_url, broken)
    result = page.locator("#doctor-result")
    expect(result).to_contain_text("APP-101")
    expect(result).to_contain_text("The key was not saved")
    expect(result.locator("details.fix summary")).to_contain_text("How to fix it")
    steps = result.locator("ol.steps li")
    expect(steps.first).to_be_visible()  # shown open on the form itself
    assert steps.count() >= 2
    _shot(page, "04-add-connection-app-101")

    # The sandbox's admin key: Connected, with what the key can do.
    _upload(
        page, "northwind", admin.key_id, admin.issuer_id, sandbox.base_url, admin.private_key_file
    )
    expect(page.locator("h1")).to_contain_text("Connected")
    expect(page.locator("text=Manage users: yes")).to_be_visible()
    _shot(page, "05-connected")

    # Sync, watching progress live (Apple made slow), until the page turns to the summary.
    sandbox.add_fault(latency_ms=1500)
    page.click("button:has-text('Sync now')")
    expect(page.locator("h1")).to_contain_text("Sync of")
    live = page.locator("[data-progress-url]")
    expect(live).to_contain_text("Reading the team from App Store Connect")
    expect(live.locator("[data-stream=users] .progress")).to_be_visible()
    _shot(page, "06-sync-live")
    expect(page.locator(".badge", has_text="Succeeded")).to_be_visible(timeout=30_000)
    expect(page.locator("[data-progress-url]")).to_have_count(0)
    sandbox.clear_faults()
    _shot(page, "06-sync-done")
    page.goto(f"{base}/connections")
    expect(page.locator(".badge.ok", has_text="Connected")).to_be_visible()
    _shot(page, "07-connections")

    # Find a person.
    page.click("nav >> text=People")
    expect(page.locator(".sub", has_text="14 people match")).to_be_visible()
    _shot(page, "08-people")
    page.fill("input[name=q]", "kenji")
    page.click("button:has-text('Filter')")
    row = page.locator("table.people tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(KENJI)
    expect(row.locator(".role")).to_have_text("Developer")
    expect(row.locator(".chip")).to_have_text("Pocket Ledger")
    _shot(page, "09-people-search")

    # Plan, read the plan, confirm.
    row.locator("text=Remove…").click()
    expect(page.locator("input[name=email]")).to_have_value(KENJI)
    _shot(page, "10-action-form")
    page.click("button:has-text('Show the plan')")
    expect(page.locator("h1")).to_have_text("Review the plan")
    expect(page.locator(".plan-steps")).to_contain_text(f"remove {KENJI} from the team")
    _shot(page, "11-plan")
    page.click("button:has-text('Confirm')")
    expect(page.locator("h1")).to_contain_text("Done")
    expect(page.locator("td .badge", has_text="done")).to_be_visible()
    _shot(page, "12-action-done")

    # The change is in the timeline; the person is gone from the people view.
    page.click("text=See the change timeline")
    first = page.locator(".timeline li").first
    expect(first).to_contain_text("Removed")
    expect(first).to_contain_text(KENJI)
    _shot(page, "13-changes")
    page.goto(f"{base}/people?q=kenji")
    expect(page.locator(".empty")).to_contain_text("Nobody matches")

    for name, path in (
        ("14-review", "/review"),
        ("15-audit", "/audit"),
        ("16-audit-entry", "/audit/1"),
        ("17-sync", "/sync"),
        ("18-connection", "/connections/northwind"),
    ):
        page.goto(f"{base}{path}")
        expect(page.locator("h1")).to_be_visible()
        _shot(page, name)
    expect(page.locator("h1")).to_contain_text("northwind")

    # A key revoked in App Store Connect: the badge turns red, the fix is one click away.
    sandbox.revoke_key(admin.key_id)
    page.goto(f"{base}/connections")
    page.click("button:has-text('Test')")
    page.goto(f"{base}/connections")
    health = page.locator("table tbody tr").first
    expect(health.locator(".badge.bad")).to_have_text("APP-101")
    steps = health.locator("ol.steps li")
    expect(steps.first).to_be_hidden()
    health.locator("text=How to fix it").click()
    expect(steps.first).to_be_visible()
    _shot(page, "19-connections-unhealthy")
    context.close()
