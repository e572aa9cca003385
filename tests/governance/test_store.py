"""The governance tables on SQLite and PostgreSQL: violations open once and resolve once;
alerts are queued once per violation, event and channel; decisions freeze at close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from asc_access.errors import UsageError
from asc_access.store import campaigns, notifications
from asc_access.store.violations import ViolationFound, list_violations, reconcile

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def found(email: str) -> ViolationFound:
    return ViolationFound("p", "allowed_domains", f"p|acme|{email}", "acme", email, "bad domain")


def test_violations_open_refresh_resolve_and_reopen(any_store: Engine) -> None:
    first = reconcile(any_store, [found("a@x.org"), found("b@x.org")], T0)
    assert [v.email for v in first.opened] == ["a@x.org", "b@x.org"]
    second = reconcile(any_store, [found("a@x.org")], T0 + timedelta(hours=1))
    assert second.opened == []
    assert [v.email for v in second.resolved] == ["b@x.org"]
    (still,) = second.open
    assert still.first_seen == T0
    assert still.last_seen == T0 + timedelta(hours=1)
    third = reconcile(any_store, [found("a@x.org"), found("b@x.org")], T0 + timedelta(hours=2))
    assert [v.email for v in third.opened] == ["b@x.org"]  # back again: a new violation
    assert len(list_violations(any_store, resolved=True)) == 3


def test_alerts_are_queued_once(any_store: Engine) -> None:
    (violation,) = reconcile(any_store, [found("a@x.org")], T0).opened
    pending = notifications.queue(any_store, [(violation.id, "opened")], ["webhook:x"], T0)
    assert len(pending) == 1
    notifications.record(any_store, pending[0].id, ok=False, attempts=3, error="HTTP 500", now=T0)
    again = notifications.queue(any_store, [(violation.id, "opened")], ["webhook:x"], T0)
    assert again == []  # neither re-queued nor still pending
    (row,) = notifications.list_deliveries(any_store)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "HTTP 500")


def test_decisions_freeze_at_close(any_store: Engine) -> None:
    item = {"connection": "acme", "email": "a@x.org", "status": "member", "name": "A",
            "roles": ["ADMIN"], "all_apps_visible": True, "apps": [],
            "flags": ["admin"]}  # fmt: skip
    campaign_id = campaigns.create_campaign(
        any_store, name="c", due_date=None, connections=["acme"], reviewers=[],
        created_by="me", items=[item], now=T0,
    )  # fmt: skip
    (row,) = campaigns.list_items(any_store, campaign_id)
    assert campaigns.set_decisions(any_store, campaign_id, [row.id], {"decision": "keep"}) == 1
    assert campaigns.close_campaign(any_store, campaign_id, closed_by="me", now=T0, audit_id=None)
    assert not campaigns.close_campaign(
        any_store, campaign_id, closed_by="me", now=T0, audit_id=None
    )
    with pytest.raises(UsageError, match="closed"):
        campaigns.set_decisions(any_store, campaign_id, [row.id], {"decision": "revoke"})
    (row,) = campaigns.list_items(any_store, campaign_id)
    assert row.decision == "keep"
    ((listed, total, decided),) = campaigns.list_campaigns(any_store)
    assert (listed.status, total, decided) == ("closed", 1, 1)
