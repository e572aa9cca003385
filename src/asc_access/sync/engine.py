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

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from asc_access.errors import (
    AscAccessError,
    NotFoundLocallyError,
    RateLimitSnapshot,
    StoreError,
    SyncError,
)
from asc_access.store import schema
from asc_access.store.changes import ChangeEvent, ChangeType, insert_changes, list_changes
from asc_access.store.connections import update_health
from asc_access.store.mirror import load_snapshot, lock_connection, write_snapshot
from asc_access.store.runs import (
    RunRecord,
    RunStats,
    close_interrupted_runs,
    fail_run,
    finish_run,
    last_succeeded_run,
    run_for_request_key,
    start_run,
    update_progress,
)
from asc_access.store.snapshot import Snapshot
from asc_access.sync.diff import diff_snapshots
from asc_access.sync.progress import ProgressTracker, SyncProgress
from asc_access.sync.rotation import after_failed_sync, check_and_confirm, forget_on_disk
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


def _connection_name(engine: Engine, connection_id: int) -> str:
    with engine.connect() as conn:
        name = conn.execute(
            select(schema.connections.c.name).where(schema.connections.c.id == connection_id)
        ).scalar_one_or_none()
    if name is None:
        raise NotFoundLocallyError(f"no connection with id {connection_id} in the store")
    return str(name)


def _replay(engine: Engine, request_key: str) -> SyncResult | None:
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


def _first_error(error: BaseException) -> BaseException:
    """The error to report from a task group: ours first, else the first one."""
    if not isinstance(error, BaseExceptionGroup):
        return error
    leaves: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending:
        item = pending.pop(0)
        if isinstance(item, BaseExceptionGroup):
            pending.extend(item.exceptions)
        else:
            leaves.append(item)
    for leaf in leaves:
        if isinstance(leaf, AscAccessError):
            return leaf
    return leaves[0] if leaves else error


async def sync_connection(
    engine: Engine,
    source: SyncSource,
    connection_id: int,
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
        connection_id: the ``connections`` row to sync.
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
    name = _connection_name(engine, connection_id)
    if request_key is not None:
        replay = _replay(engine, request_key)
        if replay is not None:
            return replay
    started_at = clock()
    run_id = start_run(engine, connection_id, started_at=started_at, request_key=request_key)
    requests_before = source.request_count
    tracker = ProgressTracker(
        progress,
        flush=lambda doc: update_progress(
            engine, run_id, doc, source.request_count - requests_before
        ),
        interval=progress_interval,
        monotonic=monotonic,
    )
    reader = TeamReader(source, tracker, follow_up_concurrency=follow_up_concurrency, clock=clock)

    def stats(**extra: Any) -> RunStats:
        limit = source.rate_limit
        return RunStats(
            requests_used=source.request_count - requests_before,
            rate_limit=limit.limit if limit else None,
            rate_remaining=limit.remaining if limit else None,
            progress=tracker.snapshot(),
            **extra,
        )

    t0 = monotonic()
    try:
        new = await reader.read()
        t1 = monotonic()
        finished_at = clock()
        try:
            result = _commit(
                engine, run_id, connection_id, name, new, reader.stats, finished_at, stats
            )
        except SQLAlchemyError as db_error:
            raise StoreError(
                f"the store failed while saving the new picture ({type(db_error).__name__}); "
                "nothing was changed",
                context={"dialect": engine.dialect.name},
            ) from db_error
        result = replace(
            result, started_at=started_at, fetch_seconds=t1 - t0, write_seconds=monotonic() - t1
        )
        _record_health(engine, name, None, finished_at)
    except BaseException as raised:
        error = _first_error(raised)
        failed_at = clock()
        _record_failure(engine, run_id, error, failed_at, stats(**_partial_counts(reader.stats)))
        _record_health(engine, name, error, failed_at)
        after_failed_sync(engine, connection_id, error)
        if isinstance(error, Exception):
            code = error.code if isinstance(error, AscAccessError) else None
            cause = error.cause if isinstance(error, AscAccessError) else None
            detail = error.message if isinstance(error, AscAccessError) else type(error).__name__
            raise SyncError(
                f"the sync of {name!r} failed: {detail}",
                code=code,
                cause=cause,
                context={"run_id": run_id, "connection": name},
            ) from error
        raise
    return result


#: Failures that say the key or the team is wrong (not a passing problem at Apple's end).
_HEALTH_CODES = frozenset({"APP-101", "APP-102", "APP-103"})


def _record_health(engine: Engine, name: str, error: BaseException | None, at: datetime) -> None:
    """A sync's verdict on the connection: Apple accepted the key, or refused it."""
    try:
        if error is None:
            update_health(engine, name, healthy=True, accepted=True, now=at)
        elif isinstance(error, AscAccessError) and error.code in _HEALTH_CODES:
            update_health(engine, name, healthy=False, code=error.code, cause=error.cause, now=at)
    except Exception:  # noqa: BLE001 - health is a side note; the run row holds the outcome
        return


def _partial_counts(fetch: FetchStats) -> dict[str, Any]:
    return {"follow_ups": fetch.follow_up_requests or None}


def _record_failure(
    engine: Engine, run_id: int, error: BaseException, at: datetime, stats: RunStats
) -> None:
    if isinstance(error, AscAccessError):
        code, cause, message = error.code, error.cause, str(error)
    elif isinstance(error, Exception):
        code, cause, message = None, None, f"{type(error).__name__}: {error}"
    else:
        code, cause, message = None, None, f"interrupted ({type(error).__name__})"
    try:
        fail_run(
            engine, run_id, finished_at=at, code=code, cause=cause, message=message, stats=stats
        )
    except Exception:  # noqa: BLE001 - the original error matters more than the record
        return


def _commit(
    engine: Engine,
    run_id: int,
    connection_id: int,
    name: str,
    new: Snapshot,
    fetch: FetchStats,
    finished_at: datetime,
    stats: Callable[..., RunStats],
) -> SyncResult:
    with engine.begin() as conn:
        lock_connection(conn, connection_id)
        close_interrupted_runs(conn, connection_id, before_run_id=run_id, at=finished_at)
        baseline = last_succeeded_run(conn, connection_id) is None
        old = load_snapshot(conn, connection_id)
        confirmed = check_and_confirm(conn, connection_id, old, new)
        events = [] if baseline else diff_snapshots(old, new)
        rows = write_snapshot(conn, connection_id, old, new, now=finished_at)
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
