"""Budget admission: start a sync only when the key's hourly budget covers what it will cost.

A sync that starts and then runs out of budget half-way fails (APP-104) after
spending part of it, and the budget it spent is lost for every other sync of the
key. So before the first request, :func:`admitted` asks the key's budget to hold
the sync's expected cost (:func:`expected_cost`: its last run's request count, else
the lower bound of the last mirror, else three pages). A budget that cannot cover
it answers with the seconds until enough of the rolling hour has refilled, and the
sync is deferred (:class:`SyncDeferred`, nothing spent) rather than failed: the CLI
says "deferred until HH:MM", the workers queue the task again for then.

The hold shrinks by one with each request of the key and is released when the
sync ends, so syncs admitted together never promise the same requests twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Protocol, runtime_checkable

from asc_access.store.handle import Database
from asc_access.store.lookups import mirror_counts
from asc_access.store.runs import last_succeeded_run
from asc_access.sync.streams import PAGE_LIMIT, VISIBLE_APPS_LIMIT, pages_needed

__all__ = ["MINIMUM_COST", "AdmissionBudget", "SyncDeferred", "admitted", "expected_cost"]

#: A team's three collections (members, invitations, apps) cost at least a page each.
MINIMUM_COST = 3


@runtime_checkable
class AdmissionBudget(Protocol):
    """A rate budget that can hold requests for a sync before it starts."""

    def admit(self, key_id: str, cost: int, ticket: str) -> float | None:
        """Hold ``cost`` requests for ``ticket``: ``None`` when held, else seconds to wait."""
        ...

    def release(self, key_id: str, ticket: str) -> None:
        """Drop what is left of ``ticket``'s hold."""
        ...


class SyncDeferred(Exception):  # noqa: N818 - a decision, not an error
    """The key's budget does not cover this sync now; try again at ``until``."""

    def __init__(self, connection: str, *, cost: int, wait_seconds: float, now: float) -> None:
        self.connection = connection
        self.cost = cost
        self.wait_seconds = max(0.0, wait_seconds)
        self.until = datetime.fromtimestamp(now + self.wait_seconds).astimezone()
        super().__init__(
            f"{connection}: deferred until {self.until:%H:%M} (the key's hourly budget "
            f"covers fewer than the {cost} requests this sync needs)"
        )

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of a deferral (``status: deferred``)."""
        return {
            "ok": False,
            "connection": self.connection,
            "status": "deferred",
            "deferred_until": self.until.isoformat(timespec="seconds"),
            "expected_requests": self.cost,
            "message": str(self),
        }


def _mirror_bound(engine: Database, connection_id: int) -> int | None:
    """The fewest requests that would read the mirrored team again (None: no mirror)."""
    counts = mirror_counts(engine, connection_id, capped_at=VISIBLE_APPS_LIMIT)
    if counts.empty:
        return None
    pages = sum(
        pages_needed(n, PAGE_LIMIT) for n in (counts.users, counts.invitations, counts.apps)
    )
    return pages + counts.capped_users


def expected_cost(engine: Database, connection_id: int) -> int:
    """What the next sync of the connection should cost, in requests."""
    with engine.connect() as conn:
        last = last_succeeded_run(conn, connection_id)
    if last is not None and last.stats.requests_used:
        return max(MINIMUM_COST, last.stats.requests_used)
    if last is not None and last.stats.lower_bound:
        return max(MINIMUM_COST, last.stats.lower_bound)
    bound = _mirror_bound(engine, connection_id)
    return max(MINIMUM_COST, bound or 0)


@contextmanager
def admitted(
    engine: Database,
    connection_id: int,
    name: str,
    budget: object,
    key_id: str,
    ticket: str,
    *,
    clock: Callable[[], float],
) -> Iterator[int]:
    """Hold the sync's expected cost for the block, or raise :class:`SyncDeferred`.

    A budget without admission (a plain ``RateBudget``) admits everything.
    """
    if not isinstance(budget, AdmissionBudget):
        yield 0
        return
    cost = expected_cost(engine, connection_id)
    wait = budget.admit(key_id, cost, ticket)
    if wait is not None:
        raise SyncDeferred(name, cost=cost, wait_seconds=wait, now=clock())
    try:
        yield cost
    finally:
        budget.release(key_id, ticket)
