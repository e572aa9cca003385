"""The governance console in a real browser (Debian's chromium through Playwright).

The violations page lists what the policies found; a reviewer starts a campaign, decides
one person (revoke), keeps everyone else in bulk, closes it, and sees the outcome, which
the sandbox confirms. Screenshots land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from _support.service import ADMIN_TOKEN, LiveServer, allowing, serve_in_thread
from actions.helpers import client_for, demo
from asc_access.actions.reads import complete_team
from asc_access.config import Settings
from asc_access.service import create_app
from governance.support import connect, sync

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium_path, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def live(sandbox: Any, _isolated_env: Path) -> Iterator[LiveServer]:
    connect("acme", sandbox)
    (_isolated_env / "policies.yaml").write_text(
        "policies:\n  - id: two-admins\n    kind: max_admins\n    max: 2\n"
    )
    assert sync("acme").exit_code == 0  # the hook evaluates the policies
    settings = Settings.from_env(
        allowing(
            {"ASC_ACCESS_HOME": str(_isolated_env), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN},
            sandbox.base_url,
        )
    )
    app = create_app(settings, scheduler=False)
    with serve_in_thread(app) as server:
        yield server
    app.state.ctx.engine.dispose()


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _edit_policies(page: Page) -> None:
    """Policies as data in the console: a bad kind is refused naming its line; a good file
    is saved, and the next check finds its violations."""
    editor = page.locator("#policies textarea")
    expect(editor).to_contain_text("two-admins")
    editor.fill("policies:\n  - id: x\n    kind: nonsense\n")
    page.click("button:has-text('Save policies')")
    expect(page.locator(".flash.bad")).to_contain_text("line 3: unknown kind 'nonsense'")
    editor.fill(
        "policies:\n  - id: two-admins\n    kind: max_admins\n    max: 2\n"
        "  - id: company-mail\n    kind: allowed_domains\n    domains: [example.org]\n"
    )
    page.click("button:has-text('Save policies')")
    expect(page.locator(".flash")).to_contain_text("Policies saved")
    page.click("button:has-text('Check now')")
    expect(page.locator(".flash")).to_contain_text("Policies checked")
    expect(page.locator("#violations tbody tr")).to_have_count(1 + 13)  # 12 members, 1 invitee
    expect(page.locator("#violations")).to_contain_text("company-mail")
    _shot(page, "governance-01b-policies-edited")


def test_violations_page_and_a_reviewer_works_a_campaign(
    live: LiveServer, sandbox: Any, browser: Browser
) -> None:
    # ``live`` first: its CLI set-up runs event loops, which Playwright's own loop would refuse
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    base = live.base_url
    page.goto(f"{base}/violations")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button:has-text('Sign in')")
    expect(page).to_have_url(f"{base}/violations")
    row = page.locator("#violations tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("two-admins")
    expect(row).to_contain_text("3 Admins")
    expect(row).to_contain_text("open")
    _shot(page, "governance-01-violations")
    _edit_policies(page)

    page.click("nav >> text=Campaigns")
    page.fill("input[name=name]", "Browser review")
    page.fill("input[name=reviewers]", "dana@northwindlabs.example.com")
    page.click("button:has-text('Start campaign')")
    expect(page.locator("h1")).to_have_text("Browser review")
    expect(page.locator("#progress")).to_contain_text("0 of 14 decided")
    _shot(page, "governance-02-campaign")

    chloe = page.locator(f"#items tr[data-email='{demo('chloe')}']")
    chloe.locator("select[name=decision]").select_option("revoke")
    chloe.locator("input[name=comment]").fill("moved to another company")
    chloe.locator("button:has-text('Save')").click()
    expect(page.locator(".flash")).to_contain_text("1 item(s) decided")
    expect(page.locator("#progress")).to_contain_text("1 of 14 decided")
    page.locator("#bulk select[name=decision]").select_option("keep")
    page.locator("#bulk input[name=comment]").fill("reviewed")
    page.click("button:has-text('Apply to all')")
    expect(page.locator("#progress")).to_contain_text("14 of 14 decided")
    _shot(page, "governance-03-decided")

    page.check("#close input[name=confirm]")
    page.click("button:has-text('Close campaign')")
    expect(page.locator(".flash")).to_contain_text("Campaign closed")
    outcome = page.locator(f"#items tr[data-email='{demo('chloe')}'] td.outcome")
    expect(outcome).to_have_text("done")
    expect(page.locator("#bulk")).to_have_count(0)  # frozen: no more decision forms
    _shot(page, "governance-04-closed")

    async def members() -> set[str]:
        async with client_for(sandbox) as client:
            users, _ = await complete_team(client)
        return {u.username for u in users}

    with ThreadPoolExecutor(1) as pool:  # outside Playwright's event loop
        remaining = pool.submit(asyncio.run, members()).result()
    assert demo("chloe") not in remaining
    assert demo("priya") in remaining
