"""``sync_connection``: read a team in full, then swap the picture in one transaction.

1. open a ``running`` run row (its own transaction);
2. read members, invitations and apps concurrently into memory
   (:class:`~asc_access.sync.streams.TeamReader`), recording progress on the run
   row now and then;
3. in ONE transaction: lock the connection's mirror, compare with what is
   stored, write only the rows that changed, write the change events, and close
   the run as ``succeeded`` with its counts, requests used, the lower bound and
   the rate budget left.

Anything that goes wrong — an API error, the rate budget stopping us (APP-104),
a database error, cancellation — closes the run as ``failed`` with the error's
``code`` / ``cause`` (``None`` for errors outside the catalogue) in a separate
small transaction; the mirror and change log stay exactly as they were, so
nobody is ever marked removed by an incomplete sync. The error is raised again
as :class:`~asc_access.errors.SyncError` (same code and cause, original as
``__cause__``); cancellation is re-raised as it is.

The first complete sync of a connection is its *baseline*: it fills the mirror
and writes no change events (there is nothing to compare with); its run row is
marked ``baseline``. A re-sync that finds nothing new writes no change events
and no mirror rows, only its run row.

The connection's health records the verdict: a complete sync proves Apple
accepts the key (healthy, ``last_ok_at`` moves on); a failure with APP-101,
APP-102 or APP-103 marks it unhealthy with that code and cause. Passing
trouble at Apple's end (APP-104 to APP-107) leaves the health as it was.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from asc_access.errors import RateLimitSnapshot, StoreError, SyncError
from asc_access.store.changes import ChangeEvent, ChangeType, insert_changes, list_changes
from asc_access.store.handle import Database, translate
from asc_access.store.mirror import lock_connection, record_digest, write_snapshot
from asc_access.store.refs import ConnectionRef, resolve_ref
from asc_access.store.runs import (
    RunRecord,
    RunStats,
    close_interrupted_runs,
    finish_run,
    last_succeeded_run,
    run_for_request_key,
    start_run,
    update_progress,
)
from asc_access.store.snapshot import Snapshot
from asc_access.sync.diff import diff_snapshots
from asc_access.sync.failures import record_failed, record_health, sync_error
from asc_access.sync.preload import Preloaded, cancel, preload, stored_picture
from asc_access.sync.progress import ProgressTracker, SyncProgress
from asc_access.sync.rotation import check_and_confirm, forget_on_disk
from asc_access.sync.source import SyncSource
from asc_access.sync.streams import FetchStats, TeamReader

__all__ = ["SyncResult", "sync_connection"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SyncResult:
    """A finished, successful sync."""

    run_id: int
    connection_id: int
    connection: str
    started_at: datetime
    finished_at: datetime
    users: int
    invitations: int
    apps: int
    changes: list[ChangeEvent] = field(default_factory=list)
    requests_used: int = 0
    lower_bound: int | None = None
    follow_ups: int | None = None
    rate_limit: RateLimitSnapshot | None = None
    baseline: bool = False
    rows_written: int = 0
    fetch_seconds: float = 0.0
    write_seconds: float = 0.0
    replayed: bool = False  #: the request key had already run: this is its stored result

    @property
    def duration_seconds(self) -> float:
        """Wall time from the run's start to its end."""
        return (self.finished_at - self.started_at).total_seconds()

    def change_counts(self) -> dict[str, int]:
        """How many changes of each type."""
        counts: dict[str, int] = {}
        for event in self.changes:
            counts[str(event.change_type)] = counts.get(str(event.change_type), 0) + 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` / REST shape."""
        return {
            "ok": True,
            "run_id": self.run_id,
            "connection": self.connection,
            "status": "succeeded",
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "duration_seconds": round(self.duration_seconds, 3),
            "counts": {"users": self.users, "invitations": self.invitations, "apps": self.apps},
            "baseline": self.baseline,
            "changes": [
                {
                    "type": str(e.change_type),
                    "subject_id": e.subject_id,
                    "email": e.email,
                    "details": e.details,
                }
                for e in self.changes
            ],
            "change_counts": self.change_counts(),
            "requests_used": self.requests_used,
            "lower_bound": self.lower_bound,
            "follow_ups": self.follow_ups,
            "rate_limit": self.rate_limit.as_dict() if self.rate_limit else None,
            "rows_written": self.rows_written,
        }

    @classmethod
    def from_run(cls, run: RunRecord, changes: list[ChangeEvent]) -> SyncResult:
        """The stored result of an earlier run (idempotent replays)."""
        s = run.stats
        return cls(
            run_id=run.id,
            connection_id=run.connection_id,
            connection=run.connection,
            started_at=run.started_at,
            finished_at=run.finished_at or run.started_at,
            users=s.users_count or 0,
            invitations=s.invitations_count or 0,
            apps=s.apps_count or 0,
            changes=changes,
            requests_used=s.requests_used,
            lower_bound=s.lower_bound,
            follow_ups=s.follow_ups,
            rate_limit=RateLimitSnapshot(s.rate_limit, s.rate_remaining),
            baseline=bool(s.baseline),
            replayed=True,
        )


def _replay(engine: Database, request_key: str) -> SyncResult | None:
    with engine.connect() as conn:
        run = run_for_request_key(conn, request_key)
        if run is None:
            return None
        if run.status != "succeeded":
            verb = "is still running" if run.status == "running" else f"already ended {run.status}"
            raise SyncError(
                f"the sync requested as {request_key!r} {verb}",
                code=run.error_code,
                cause=run.error_cause,
                context={"run_id": run.id},
            )
        events = [
            ChangeEvent(ChangeType(c.change_type), c.subject_id, c.email, c.details)
            for c in list_changes(conn, run_id=run.id)
        ]
    return SyncResult.from_run(run, events)


async def sync_connection(
    engine: Database,
    source: SyncSource,
    connection: ConnectionRef | int,
    *,
    progress: SyncProgress | None = None,
    request_key: str | None = None,
    clock: Callable[[], datetime] = _utcnow,
    monotonic: Callable[[], float] = time.monotonic,
    follow_up_concurrency: int = 2,
    progress_interval: float = 1.0,
) -> SyncResult:
    """Mirror one connection's team from ``source``; see the module docstring.

    Args:
        engine: the store.
        source: what to read from (the API client satisfies :class:`SyncSource`).
        connection: the connection to sync, resolved once by the caller
            (:class:`~asc_access.store.refs.ConnectionRef`), or its store id.
        progress: told about items done per stream (the CLI's progress bar).
        request_key: idempotency key (a queued sync's task id): a key that already
            ran successfully returns the stored result without reading again.
        clock: aware "now" (run times, change times, invitation expiry).
        monotonic: seconds for throttling progress writes and timing phases.
        follow_up_concurrency: capped app lists read at once (the client sends at
            most 4 requests at once; 2 keeps a slot free for the members' pages,
            the longest chain).
        progress_interval: seconds between progress writes to the run row.

    Raises:
        SyncError: the sync failed and was recorded as failed (code / cause of the
            underlying error; that error is its ``__cause__``).
        NotFoundLocallyError: no such connection.
    """
    ref = connection if isinstance(connection, ConnectionRef) else resolve_ref(engine, connection)
    replay = _replay(engine, request_key) if request_key is not None else None
    if replay is not None:
        return replay
    started_at = clock()
    run_id = start_run(engine, ref.id, started_at=started_at, request_key=request_key)
    before = source.request_count
    tracker = ProgressTracker(
        progress,
        flush=lambda doc: update_progress(engine, run_id, doc, source.request_count - before),
        interval=progress_interval,
        monotonic=monotonic,
    )
    meter = _Meter(source, before, tracker)
    reader = TeamReader(source, tracker, follow_up_concurrency=follow_up_concurrency, clock=clock)
    try:
        return await _read_and_save(
            engine, run_id, ref, reader, meter, started_at, clock, monotonic
        )
    except BaseException as raised:
        at, fetch = clock(), reader.stats
        stats = meter.stats(follow_ups=fetch.follow_up_requests or None)
        error = record_failed(engine, run_id, ref, raised, at, stats)
        if isinstance(error, Exception):
            raise sync_error(error, ref.name, run_id) from error
        raise


async def _read_and_save(
    engine: Database,
    run_id: int,
    ref: ConnectionRef,
    reader: TeamReader,
    meter: _Meter,
    started_at: datetime,
    clock: Callable[[], datetime],
    monotonic: Callable[[], float],
) -> SyncResult:
    """Read the whole team, then swap the picture in one transaction; times both phases."""
    t0 = monotonic()
    early = Preloaded()  # the stored picture, read while the pages are in flight
    loading = asyncio.ensure_future(preload(engine, ref.id, early))
    try:
        new = await reader.read()
        await loading
    finally:
        await cancel(loading)
    t1 = monotonic()
    finished_at = clock()
    with _saving(engine):
        result = _commit(engine, run_id, ref, new, early, reader.stats, finished_at, meter.stats)
    record_health(engine, ref.name, None, finished_at)
    return replace(
        result, started_at=started_at, fetch_seconds=t1 - t0, write_seconds=monotonic() - t1
    )


@dataclass
class _Meter:
    """What one run has cost so far, as the run row records it."""

    source: SyncSource
    before: int
    tracker: ProgressTracker

    def stats(self, **extra: Any) -> RunStats:
        limit = self.source.rate_limit
        return RunStats(
            requests_used=self.source.request_count - self.before,
            rate_limit=limit.limit if limit else None,
            rate_remaining=limit.remaining if limit else None,
            progress=self.tracker.snapshot(),
            **extra,
        )


@contextmanager
def _saving(engine: Database) -> Iterator[None]:
    """A database failure while saving the new picture, told as the store's error."""
    try:
        yield
    except Exception as raised:
        if translate(raised) is None:
            raise
        raise StoreError(
            f"the store failed while saving the new picture ({type(raised).__name__}); "
            "nothing was changed",
            context={"dialect": engine.dialect.name},
        ) from raised


def _commit(
    engine: Database,
    run_id: int,
    ref: ConnectionRef,
    new: Snapshot,
    early: Preloaded,
    fetch: FetchStats,
    finished_at: datetime,
    stats: Callable[..., RunStats],
) -> SyncResult:
    connection_id, name = ref.id, ref.name
    digest = new.digest()
    with engine.begin() as conn:
        lock_connection(conn, connection_id)
        close_interrupted_runs(conn, connection_id, before_run_id=run_id, at=finished_at)
        baseline = last_succeeded_run(conn, connection_id) is None
        old = stored_picture(conn, connection_id, early, new, digest)
        confirmed = check_and_confirm(conn, connection_id, old, new)
        events, rows = [], 0
        if old is not new:  # the same digest: nothing to compare or write
            events = [] if baseline else diff_snapshots(old, new)
            rows = write_snapshot(conn, connection_id, old, new, now=finished_at)
            record_digest(conn, connection_id, digest)
        insert_changes(conn, connection_id, events, at=finished_at, run_id=run_id)
        run_stats = stats(
            lower_bound=fetch.lower_bound,
            follow_ups=fetch.follow_up_requests,
            users_count=fetch.users,
            invitations_count=fetch.invitations,
            apps_count=fetch.apps,
            changes_count=len(events),
            baseline=baseline,
        )
        finish_run(conn, run_id, finished_at=finished_at, stats=run_stats)
    forget_on_disk(engine, confirmed)  # the replaced key's bytes leave the write-ahead log
    limit = (
        RateLimitSnapshot(run_stats.rate_limit, run_stats.rate_remaining)
        if run_stats.rate_limit is not None or run_stats.rate_remaining is not None
        else None
    )
    return SyncResult(
        run_id=run_id,
        connection_id=connection_id,
        connection=name,
        started_at=finished_at,
        finished_at=finished_at,
        users=fetch.users,
        invitations=fetch.invitations,
        apps=fetch.apps,
        changes=events,
        requests_used=run_stats.requests_used,
        lower_bound=fetch.lower_bound,
        follow_ups=fetch.follow_up_requests,
        rate_limit=limit,
        baseline=baseline,
        rows_written=rows,
    )
