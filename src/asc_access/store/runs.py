"""Sync runs: one row per attempt, with what it cost and how it ended.

A run is opened (``running``) in its own small transaction, its progress is
updated now and then, and it is closed either inside the sync's snapshot
transaction (``succeeded``, :func:`finish_run`) or, when anything went wrong,
in another small transaction (``failed``, :func:`fail_run`) that touches
nothing else. A process killed mid-sync cannot close its run; the next sync of
the connection to commit closes it as failed with the cause ``interrupted``
(:func:`close_interrupted_runs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from asc_access.redaction import redact
from asc_access.store import schema
from asc_access.store.rows import json_view, record, values_of

__all__ = [
    "RunRecord",
    "RunStats",
    "close_interrupted_runs",
    "fail_run",
    "finish_run",
    "get_run",
    "last_succeeded_run",
    "list_runs",
    "run_for_request_key",
    "run_record",
    "runs_query",
    "start_run",
    "update_progress",
]

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
#: ``error_cause`` of a run whose process stopped (killed, crashed) before it could end it.
INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class RunStats:
    """What a run cost and found (any field may be unknown after a failure)."""

    requests_used: int = 0
    lower_bound: int | None = None
    follow_ups: int | None = None
    rate_limit: int | None = None
    rate_remaining: int | None = None
    users_count: int | None = None
    invitations_count: int | None = None
    apps_count: int | None = None
    changes_count: int | None = None
    baseline: bool | None = None
    progress: dict[str, Any] | None = None

    def values(self) -> dict[str, Any]:
        """Column values for the ``sync_runs`` row (``progress`` only when known)."""
        out = values_of(self)
        if self.progress is None:
            del out["progress"]
        return out


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A ``sync_runs`` row with its connection's name."""

    id: int
    connection_id: int
    connection: str
    request_key: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    error_code: str | None
    error_cause: str | None
    error_message: str | None
    stats: RunStats = field(default_factory=RunStats)

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to end, once finished."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` / REST shape."""
        s = self.stats
        shown = ("id", "connection", "status", "started_at", "finished_at", "duration_seconds")
        return {
            **json_view(
                self, *shown, "code=error_code", "cause=error_cause", "error=error_message"
            ),
            "requests_used": s.requests_used,
            "lower_bound": s.lower_bound,
            "follow_ups": s.follow_ups,
            "rate_limit": {"limit": s.rate_limit, "remaining": s.rate_remaining},
            "counts": {
                "users": s.users_count,
                "invitations": s.invitations_count,
                "apps": s.apps_count,
            },
            "changes": s.changes_count,
            "baseline": s.baseline,
            "progress": s.progress,
            "request_key": self.request_key,
        }


def start_run(
    engine: Engine, connection_id: int, *, started_at: datetime, request_key: str | None = None
) -> int:
    """Open a ``running`` run in its own transaction; returns its id."""
    with engine.begin() as conn:
        result = conn.execute(
            schema.sync_runs.insert().values(
                connection_id=connection_id,
                request_key=request_key,
                status=RUNNING,
                started_at=started_at,
                requests_used=0,
            )
        )
        (run_id,) = result.inserted_primary_key or (None,)
    if run_id is None:  # pragma: no cover - every supported dialect returns it
        raise RuntimeError("the database did not return the new run's id")
    return int(run_id)


def update_progress(engine: Engine, run_id: int, progress: dict[str, Any], requests: int) -> None:
    """Record how far a running sync got (its own tiny transaction)."""
    with engine.begin() as conn:
        conn.execute(
            update(schema.sync_runs)
            .where(schema.sync_runs.c.id == run_id, schema.sync_runs.c.status == RUNNING)
            .values(progress=progress, requests_used=requests)
        )


def finish_run(conn: Connection, run_id: int, *, finished_at: datetime, stats: RunStats) -> None:
    """Close a run as ``succeeded`` inside the caller's (snapshot) transaction."""
    conn.execute(
        update(schema.sync_runs)
        .where(schema.sync_runs.c.id == run_id)
        .values(status=SUCCEEDED, finished_at=finished_at, **stats.values())
    )


def close_interrupted_runs(
    conn: Connection, connection_id: int, *, before_run_id: int, at: datetime
) -> int:
    """Close as ``failed`` (cause ``interrupted``) the connection's older runs still ``running``.

    Called inside a later run's snapshot transaction: a run that started before
    it and never ended belongs to a process that was killed or crashed. Should
    that run in fact still be alive, its own :func:`finish_run` / :func:`fail_run`
    overwrites this verdict when it ends. Returns how many runs were closed.
    """
    r = schema.sync_runs.c
    result = conn.execute(
        update(schema.sync_runs)
        .where(r.connection_id == connection_id, r.id < before_run_id, r.status == RUNNING)
        .values(
            status=FAILED,
            finished_at=at,
            error_code=None,
            error_cause=INTERRUPTED,
            error_message=(
                f"interrupted: the process running this sync stopped before it ended "
                f"(killed or crashed); run {before_run_id} completed after it"
            ),
        )
    )
    return int(result.rowcount or 0)


def fail_run(
    engine: Engine,
    run_id: int,
    *,
    finished_at: datetime,
    code: str | None,
    cause: str | None,
    message: str,
    stats: RunStats,
) -> None:
    """Close a run as ``failed`` in its own transaction, touching nothing else."""
    with engine.begin() as conn:
        conn.execute(
            update(schema.sync_runs)
            .where(schema.sync_runs.c.id == run_id)
            .values(
                status=FAILED,
                finished_at=finished_at,
                error_code=code,
                error_cause=cause,
                error_message=redact(message)[:2000],
                **stats.values(),
            )
        )


def run_record(row: Any) -> RunRecord:
    """A run from a row of :func:`runs_query`."""
    stats = record(RunStats, row, requests_used=row.requests_used or 0)
    return record(RunRecord, row, connection=row.name, stats=stats)


def runs_query() -> Any:
    """Runs with their connection's name (narrow it; read rows with :func:`run_record`)."""
    r = schema.sync_runs
    return select(r, schema.connections.c.name).join(
        schema.connections, schema.connections.c.id == r.c.connection_id
    )


def _first_run(conn: Connection, query: Any) -> RunRecord | None:
    row = conn.execute(query).first()
    return run_record(row) if row is not None else None


def get_run(conn: Connection, run_id: int) -> RunRecord | None:
    """One run by id."""
    return _first_run(conn, runs_query().where(schema.sync_runs.c.id == run_id))


def run_for_request_key(conn: Connection, request_key: str) -> RunRecord | None:
    """The run started for an idempotency key (a queued sync's task id), if any."""
    return _first_run(conn, runs_query().where(schema.sync_runs.c.request_key == request_key))


def last_succeeded_run(conn: Connection, connection_id: int) -> RunRecord | None:
    """The newest complete sync of a connection (its picture is the mirror)."""
    r = schema.sync_runs.c
    query = runs_query().where(r.connection_id == connection_id, r.status == SUCCEEDED)
    return _first_run(conn, query.order_by(r.id.desc()).limit(1))


def list_runs(
    conn: Connection,
    *,
    connection_ids: list[int] | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[RunRecord]:
    """Runs, newest first."""
    r = schema.sync_runs.c
    query = runs_query()
    if connection_ids is not None:
        query = query.where(r.connection_id.in_(connection_ids))
    if status is not None:
        query = query.where(r.status == status)
    return [run_record(row) for row in conn.execute(query.order_by(r.id.desc()).limit(limit))]
