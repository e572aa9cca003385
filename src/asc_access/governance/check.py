"""Policy checks: evaluate, store what opened and resolved, alert once per event.

:func:`check` is what ``policies check`` and the post-sync hook run;
:func:`after_sync` is the hook itself: it reads ``policies.yaml`` from the
home directory (nothing to do without one) and never raises, so a broken
policy file or an unreachable webhook cannot fail a sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from asc_access.config import Settings
from asc_access.governance.evaluate import evaluate
from asc_access.governance.notify import (
    Channel,
    NotifySettings,
    channels_from_settings,
    message,
    send_with_retries,
)
from asc_access.governance.policies import PolicyFile, load_policies
from asc_access.store import notifications
from asc_access.store.notifications import Delivery
from asc_access.store.policy_facts import MirrorFacts
from asc_access.store.violations import Reconciled, ViolationLedger

__all__ = ["CheckResult", "after_sync", "check", "default_policy_file", "deliver"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CheckResult:
    """One evaluation: what changed, what is open, and how the alerts went."""

    reconciled: Reconciled
    deliveries: list[Delivery] = field(default_factory=list)


def default_policy_file(settings: Settings) -> Path:
    """``policies.yaml`` in ``ASC_ACCESS_HOME``."""
    return settings.home / "policies.yaml"


def deliver(
    engine: Engine,
    reconciled: Reconciled,
    notify: NotifySettings,
    *,
    channels: Sequence[Channel] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[Delivery]:
    """Queue and send the alerts ``reconciled`` calls for; each delivery's outcome is stored."""
    chosen = list(channels) if channels is not None else channels_from_settings(notify)
    if not chosen:
        return []
    by_label = {c.label: c for c in chosen}
    events = [(v.id, "opened") for v in reconciled.opened]
    events += [(v.id, "resolved") for v in reconciled.resolved]
    violations = {v.id: v for v in [*reconciled.opened, *reconciled.resolved, *reconciled.open]}
    pending = notifications.queue(engine, events, list(by_label), datetime.now(UTC))
    done: list[Delivery] = []
    for item in pending:
        channel, violation = by_label.get(item.channel), violations.get(item.violation_id)
        if channel is None or violation is None:
            continue  # a channel no longer configured, or an old violation: left pending
        kwargs = {"sleep": sleep} if sleep is not None else {}
        ok, attempts, error = send_with_retries(
            channel, message(item.event, violation), notify, **kwargs
        )
        notifications.record(
            engine, item.id, ok=ok, attempts=attempts, error=error, now=datetime.now(UTC)
        )
        done.append(item)
    return done


def check(
    engine: Engine,
    files: PolicyFile,
    *,
    now: datetime | None = None,
    notify: NotifySettings | None = None,
) -> CheckResult:
    """Evaluate ``files`` against the mirror, store the outcome, send the alerts."""
    at = now or datetime.now(UTC)
    found = evaluate(files, MirrorFacts(engine), at)
    reconciled = ViolationLedger(engine).reconcile(found, at)
    result = CheckResult(reconciled)
    settings = notify if notify is not None else NotifySettings.from_env()
    try:
        result.deliveries = deliver(engine, reconciled, settings)
    except Exception:
        log.exception("alerts could not be delivered")
    return result


def after_sync(engine: Engine, settings: Settings) -> CheckResult | None:
    """The post-sync hook: check the home directory's policies; log, never raise."""
    path = default_policy_file(settings)
    try:
        if not path.is_file():
            return None
        return check(engine, load_policies(path))
    except Exception:
        log.exception("policies in %s could not be evaluated after the sync", path)
        return None
