"""Notification deliveries: one row per violation, event and channel (one alert, not one per sync).

:func:`queue` inserts the rows an evaluation's opened/resolved violations need
(skipping any that exist); :func:`record` writes each attempt's outcome, so a
failing channel is visible (``status`` ``failed``, ``last_error``) in
``policies notifications`` and the console.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from asc_access.store.governance_schema import notifications
from asc_access.store.rows import json_view
from asc_access.store.rows import record as from_row

__all__ = ["Delivery", "claim", "list_deliveries", "pending", "queue", "record"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification of one violation event on one channel."""

    id: int
    violation_id: int
    event: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: every field."""
        return json_view(self)


def _row(row: Any) -> Delivery:
    return from_row(Delivery, row)


def queue(
    engine: Engine,
    events: Iterable[tuple[int, str]],
    channels: Sequence[str],
    now: datetime,
) -> list[Delivery]:
    """Queue (violation id, event) on each channel (existing rows skipped); every pending row.

    A row is ``pending``, then ``sending`` once a process claimed it (:func:`claim`),
    then ``delivered`` or ``failed``.
    """
    n = notifications.c
    with engine.begin() as conn:
        for violation_id, event in events:
            for channel in channels:
                exists = conn.execute(
                    select(n.id).where(
                        n.violation_id == violation_id, n.event == event, n.channel == channel
                    )
                ).first()
                if exists is not None:
                    continue
                conn.execute(
                    insert(notifications).values(
                        violation_id=violation_id,
                        event=event,
                        channel=channel,
                        status="pending",
                        attempts=0,
                        created_at=now,
                    )
                )
        rows = conn.execute(select(notifications).where(n.status == "pending").order_by(n.id))
        return [_row(r) for r in rows]


def record(
    engine: Engine, delivery_id: int, *, ok: bool, attempts: int, error: str | None, now: datetime
) -> None:
    """The outcome of delivering one notification (after all its attempts)."""
    values: dict[str, Any] = {
        "status": "delivered" if ok else "failed",
        "attempts": attempts,
        "last_error": None if ok else (error or "failed")[:2000],
    }
    if ok:
        values["delivered_at"] = now
    with engine.begin() as conn:
        conn.execute(
            update(notifications).where(notifications.c.id == delivery_id).values(**values)
        )


def list_deliveries(engine: Engine, *, status: str | None = None) -> list[Delivery]:
    """Every delivery (or those with ``status``), oldest first."""
    n = notifications.c
    query = select(notifications).order_by(n.id)
    if status is not None:
        query = query.where(n.status == status)
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(query)]


def pending(engine: Engine) -> list[Delivery]:
    """Deliveries not attempted yet, oldest first."""
    return list_deliveries(engine, status="pending")


def claim(engine: Engine, delivery_id: int) -> bool:
    """Take a pending delivery for sending; ``False`` when another process already took it."""
    n = notifications.c
    with engine.begin() as conn:
        result = conn.execute(
            update(notifications)
            .where(n.id == delivery_id, n.status == "pending")
            .values(status="sending")
        )
        return bool(result.rowcount)
