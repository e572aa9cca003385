"""Alert delivery failures: retried with backoff, then shown as failed; the sync still succeeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from asc_access.governance.notify import NotifySettings, sign
from governance.support import SECRET, WebhookReceiver, as_json, cli, connect, sync

POLICY = "policies:\n  - id: one-admin\n    kind: max_admins\n    max: 1\n"


@pytest.fixture
def acme(sandbox: Any, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    connect("acme", sandbox)
    monkeypatch.setenv("ASC_ACCESS_NOTIFY_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("ASC_ACCESS_NOTIFY_RETRIES", "3")
    monkeypatch.setenv("ASC_ACCESS_NOTIFY_BACKOFF", "0.01")
    (_isolated_env / "policies.yaml").write_text(POLICY)
    return _isolated_env


def test_a_failing_receiver_is_retried_then_shown_failed_and_the_sync_succeeds(
    acme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver(fail=True) as failing, WebhookReceiver() as working:
        monkeypatch.setenv("ASC_ACCESS_NOTIFY_WEBHOOKS", f"{failing.url} {working.url}")
        result = sync("acme")
        assert result.exit_code == 0, result.output
        assert as_json(result)["ok"] is True
        assert failing.attempts == 3  # retried
        assert len(working.received) == 1  # the other channel is not held up
        again = sync("acme")  # the same violation: no second alert, no new attempts
        assert again.exit_code == 0
        assert failing.attempts == 3
        assert len(working.received) == 1
    deliveries = as_json(cli("policies", "alerts", "--json"))["deliveries"]
    by_status = {d["status"]: d for d in deliveries}
    assert set(by_status) == {"failed", "delivered"}
    assert by_status["failed"]["attempts"] == 3
    assert by_status["failed"]["last_error"] == "HTTP 500"
    assert by_status["failed"]["channel"].startswith("webhook:http://127.0.0.1:")
    shown = cli("policies", "alerts")
    assert "failed" in shown.stdout
    assert "HTTP 500" in shown.stdout


def test_a_wrong_secret_is_refused_by_the_receiver(
    acme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver(secret="another-secret") as receiver:
        monkeypatch.setenv("ASC_ACCESS_NOTIFY_WEBHOOKS", receiver.url)
        assert sync("acme").exit_code == 0
        assert receiver.rejected == 3
        assert receiver.received == []
    (delivery,) = as_json(cli("policies", "alerts", "--json"))["deliveries"]
    assert delivery["status"] == "failed"
    assert delivery["last_error"] == "HTTP 401"


def test_an_unreachable_receiver_does_not_fail_the_sync(
    acme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASC_ACCESS_NOTIFY_WEBHOOKS", "http://127.0.0.1:9/nothing-listens")
    result = sync("acme")
    assert result.exit_code == 0, result.output
    (delivery,) = as_json(cli("policies", "alerts", "--json"))["deliveries"]
    assert delivery["status"] == "failed"
    assert "not delivered" in delivery["last_error"]


def test_a_broken_policy_file_does_not_fail_the_sync(acme: Path) -> None:
    (acme / "policies.yaml").write_text("policies:\n  - id: x\n    kind: nonsense\n")
    assert sync("acme").exit_code == 0
    checked = cli("policies", "check", "--json")
    assert checked.exit_code == 2
    assert "line 3" in checked.stdout


def test_signature_and_settings_never_show_secrets() -> None:
    # HMAC-SHA256(key "k", body "{}"), a fixed vector
    expected = "add853b103fbcc936a194f9eb15e29c4ff08af6e47d5d1bca4f20218e31e4fff"
    assert sign("k", b"{}") == f"sha256={expected}"
    settings = NotifySettings.from_env(
        {
            "ASC_ACCESS_NOTIFY_URLS": "slack://T000/B000/XXXXSECRET",
            "ASC_ACCESS_NOTIFY_WEBHOOK_SECRET": "topsecret",
        }
    )
    assert "SECRET" not in repr(settings)
    assert "topsecret" not in repr(settings)
