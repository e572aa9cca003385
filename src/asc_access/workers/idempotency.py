"""Run bookkeeping for idempotent tasks: finished runs, stale runs, early failures.

Helpers of :mod:`.tasks` over ``sync_runs`` (the request key is the unique
idempotency key); see that module for when each is used.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select

from asc_access.errors import AscAccessError
from asc_access.store import runs, schema

__all__ = [
    "finished_run",
    "ran_recently",
    "reclaim_stale_run",
    "record_early_failure",
    "run_summary",
    "time_limit_summary",
]


def run_summary(run: runs.RunRecord, **extra: Any) -> dict[str, Any]:
    """The task's JSON answer for a recorded run."""
    doc: dict[str, Any] = {
        "connection": run.connection,
        "connection_id": run.connection_id,
        "request_key": run.request_key,
        "status": run.status,
        "run_id": run.id,
        "code": run.error_code,
        "cause": run.error_cause,
        "run": run.as_dict(),
    }
    doc.update(extra)
    return doc


def finished_run(engine: Engine, request_key: str) -> runs.RunRecord | None:
    """The run of ``request_key`` if it has ended (succeeded or failed)."""
    with engine.connect() as conn:
        run = runs.run_for_request_key(conn, request_key)
    return run if run is not None and run.status != runs.RUNNING else None


def ran_recently(
    engine: Engine, connection_id: int, interval: int, now: datetime
) -> runs.RunRecord | None:
    """A run of the connection started within half an interval of ``now``, if any."""
    r = schema.sync_runs.c
    with engine.connect() as conn:
        row = conn.execute(
            select(r.id)
            .where(r.connection_id == connection_id)
            .where(r.started_at > now - timedelta(seconds=interval / 2))
            .order_by(r.id.desc())
            .limit(1)
        ).first()
        return runs.get_run(conn, row.id) if row is not None else None


def reclaim_stale_run(engine: Engine, request_key: str) -> int | None:
    """Remove the ``running`` row a dead delivery of this request left behind."""
    r = schema.sync_runs.c
    with engine.begin() as conn:
        row = conn.execute(
            select(r.id).where(r.request_key == request_key, r.status == runs.RUNNING)
        ).first()
        if row is None:
            return None
        conn.execute(delete(schema.sync_runs).where(r.id == row.id))
        return int(row.id)


def record_early_failure(
    engine: Engine, connection_id: int, request_key: str, error: AscAccessError, at: datetime
) -> None:
    """Record a failed run for an error raised before the sync could record one."""
    with engine.connect() as conn:
        if runs.run_for_request_key(conn, request_key) is not None:
            return  # the sync recorded it
    run_id = runs.start_run(engine, connection_id, started_at=at, request_key=request_key)
    runs.fail_run(
        engine,
        run_id,
        finished_at=at,
        code=error.code,
        cause=error.cause,
        message=error.message,
        stats=runs.RunStats(),
    )


def time_limit_summary(engine: Engine, connection: str | int, key: str) -> dict[str, Any]:
    """The answer of a task whose sync the time limit interrupted."""
    with engine.connect() as conn:
        run = runs.run_for_request_key(conn, key)
    if run is not None:
        return run_summary(run, time_limit_exceeded=True)
    return {
        "connection": connection,
        "request_key": key,
        "status": "failed",
        "cause": "time_limit",
        "time_limit_exceeded": True,
    }
