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
from typing import TYPE_CHECKING

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
from asc_access.store.violations import Reconciled, ViolationLedger, violations_by_id

if TYPE_CHECKING:
    from asc_access.store.handle import Database

__all__ = [
    "CheckResult",
    "Dispatch",
    "after_sync",
    "check",
    "default_policy_file",
    "deliver_pending",
    "queue_alerts",
]

log = logging.getLogger(__name__)

#: Hands alert delivery to the workers (sends the alerts task); raises when it cannot.
Dispatch = Callable[[], None]


@dataclass(slots=True)
class CheckResult:
    """One evaluation: what changed, what is open, and how the alerts went."""

    reconciled: Reconciled
    deliveries: list[Delivery] = field(default_factory=list)


def default_policy_file(settings: Settings) -> Path:
    """``policies.yaml`` in ``ASC_ACCESS_HOME``."""
    return settings.home / "policies.yaml"


def queue_alerts(engine: Database, reconciled: Reconciled, notify: NotifySettings) -> int:
    """Store one pending delivery per opened / resolved violation and channel; how many events."""
    labels = [c.label for c in channels_from_settings(notify)]
    events = [(v.id, "opened") for v in reconciled.opened]
    events += [(v.id, "resolved") for v in reconciled.resolved]
    if labels and events:
        notifications.queue(engine, events, labels, datetime.now(UTC))
    return len(events) if labels else 0


def deliver_pending(
    engine: Database,
    notify: NotifySettings,
    *,
    channels: Sequence[Channel] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[Delivery]:
    """Send every pending delivery on a configured channel (each claimed first, so once)."""
    chosen = list(channels) if channels is not None else channels_from_settings(notify)
    by_label = {c.label: c for c in chosen}
    waiting = [d for d in notifications.pending(engine) if d.channel in by_label]
    violations = violations_by_id(engine, sorted({d.violation_id for d in waiting}))
    done: list[Delivery] = []
    for item in waiting:
        violation = violations.get(item.violation_id)
        if violation is None or not notifications.claim(engine, item.id):
            continue  # gone, or another process is sending it
        kwargs = {"sleep": sleep} if sleep is not None else {}
        ok, attempts, error = send_with_retries(
            by_label[item.channel], message(item.event, violation), notify, **kwargs
        )
        notifications.record(
            engine, item.id, ok=ok, attempts=attempts, error=error, now=datetime.now(UTC)
        )
        done.append(item)
    return done


def _alert(
    engine: Database, result: CheckResult, notify: NotifySettings, dispatch: Dispatch | None
) -> None:
    try:
        if not queue_alerts(engine, result.reconciled, notify):
            return
        if dispatch is not None:
            try:
                dispatch()  # the workers deliver
                return
            except Exception:
                log.exception("alert delivery could not be queued; delivering here")
        result.deliveries = deliver_pending(engine, notify)
    except Exception:
        log.exception("alerts could not be delivered")


def check(
    engine: Database,
    files: PolicyFile,
    *,
    now: datetime | None = None,
    notify: NotifySettings | None = None,
    dispatch: Dispatch | None = None,
) -> CheckResult:
    """Evaluate ``files`` against the mirror, store the outcome, alert.

    ``dispatch`` hands delivery to the workers (a queued task); without it, or
    when it fails, the alerts are sent here.
    """
    at = now or datetime.now(UTC)
    found = evaluate(files, MirrorFacts(engine), at)
    reconciled = ViolationLedger(engine).reconcile(found, at)
    result = CheckResult(reconciled)
    _alert(engine, result, notify if notify is not None else NotifySettings.from_env(), dispatch)
    return result


def after_sync(
    engine: Database, settings: Settings, *, dispatch: Dispatch | None = None
) -> CheckResult | None:
    """The post-sync hook: check the home directory's policies; log, never raise."""
    path = default_policy_file(settings)
    try:
        if not path.is_file():
            return None
        return check(engine, load_policies(path), dispatch=dispatch)
    except Exception:
        log.exception("policies in %s could not be evaluated after the sync", path)
        return None
