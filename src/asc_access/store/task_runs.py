"""The run questions queued syncs ask: finished, recent, stale, failed early, latest.

Named queries over ``sync_runs`` for the workers' idempotent task (the request
key is the unique idempotency key; see :mod:`asc_access.workers.tasks`) and
for the queue's health report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from asc_access.errors import AscAccessError
from asc_access.store import runs, schema
from asc_access.store.handle import Database

__all__ = [
    "LatestRuns",
    "finished_run",
    "latest_runs",
    "ran_recently",
    "reclaim_stale_run",
    "record_early_failure",
    "run_of_request",
]


def run_of_request(db: Database, request_key: str) -> runs.RunRecord | None:
    """The run recorded under ``request_key`` (running or ended), if any."""
    with db.connect() as conn:
        return runs.run_for_request_key(conn, request_key)


def finished_run(db: Database, request_key: str) -> runs.RunRecord | None:
    """The run of ``request_key`` if it has ended (succeeded or failed)."""
    run = run_of_request(db, request_key)
    return run if run is not None and run.status != runs.RUNNING else None


def ran_recently(
    db: Database, connection_id: int, interval: int, now: datetime
) -> runs.RunRecord | None:
    """A run of the connection started within half an interval of ``now``, if any."""
    r = schema.sync_runs.c
    with db.connect() as conn:
        row = conn.execute(
            select(r.id)
            .where(r.connection_id == connection_id)
            .where(r.started_at > now - timedelta(seconds=interval / 2))
            .order_by(r.id.desc())
            .limit(1)
        ).first()
        return runs.get_run(conn, row.id) if row is not None else None


def reclaim_stale_run(db: Database, request_key: str) -> int | None:
    """Remove the ``running`` row a dead delivery of this request left behind."""
    r = schema.sync_runs.c
    with db.begin() as conn:
        row = conn.execute(
            select(r.id).where(r.request_key == request_key, r.status == runs.RUNNING)
        ).first()
        if row is None:
            return None
        conn.execute(delete(schema.sync_runs).where(r.id == row.id))
        return int(row.id)


def record_early_failure(
    db: Database, connection_id: int, request_key: str, error: AscAccessError, at: datetime
) -> None:
    """Record a failed run for an error raised before the sync could record one."""
    if run_of_request(db, request_key) is not None:
        return  # the sync recorded it
    run_id = runs.start_run(db, connection_id, started_at=at, request_key=request_key)
    runs.fail_run(
        db,
        run_id,
        finished_at=at,
        code=error.code,
        cause=error.cause,
        message=error.message,
        stats=runs.RunStats(),
    )


@dataclass(frozen=True, slots=True)
class LatestRuns:
    """One connection's latest run, latest success and latest failure (``None``: none)."""

    id: int
    name: str
    interval_seconds: int | None
    last: runs.RunRecord | None
    success: runs.RunRecord | None
    failure: runs.RunRecord | None


def latest_runs(db: Database) -> list[LatestRuns]:
    """Every connection (by name) with its latest run, success and failure."""
    c, r = schema.connections.c, schema.sync_runs.c
    picks = {
        status: select(r.connection_id, func.max(r.id).label("run_id"))
        .where(r.status == status)
        .group_by(r.connection_id)
        for status in (runs.SUCCEEDED, runs.FAILED)
    }
    picks["latest"] = select(r.connection_id, func.max(r.id).label("run_id")).group_by(
        r.connection_id
    )
    with db.connect() as conn:
        rows = conn.execute(select(c.id, c.name, c.sync_interval_seconds).order_by(c.name)).all()
        ids = {
            status: {row.connection_id: row.run_id for row in conn.execute(query)}
            for status, query in picks.items()
        }
        wanted = {run_id for by_conn in ids.values() for run_id in by_conn.values()}
        query = runs.runs_query().where(r.id.in_(wanted))
        found = {run.id: run for run in map(runs.run_record, conn.execute(query))} if wanted else {}
    return [
        LatestRuns(
            id=row.id,
            name=row.name,
            interval_seconds=row.sync_interval_seconds,
            last=found.get(ids["latest"].get(row.id, -1)),
            success=found.get(ids[runs.SUCCEEDED].get(row.id, -1)),
            failure=found.get(ids[runs.FAILED].get(row.id, -1)),
        )
        for row in rows
    ]
