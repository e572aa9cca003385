"""The sync task's JSON answers for recorded runs.

The run bookkeeping itself (finished, recent and stale runs, early failures) is
named store queries (:mod:`asc_access.store.task_runs`); see :mod:`.tasks` for
when each is used.
"""

from __future__ import annotations

from typing import Any

from asc_access.store import runs
from asc_access.store.handle import Database
from asc_access.store.task_runs import run_of_request

__all__ = ["run_summary", "time_limit_summary"]


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


def time_limit_summary(engine: Database, connection: str | int, key: str) -> dict[str, Any]:
    """The answer of a task whose sync the time limit interrupted."""
    run = run_of_request(engine, key)
    if run is not None:
        return run_summary(run, time_limit_exceeded=True)
    return {
        "connection": connection,
        "request_key": key,
        "status": "failed",
        "cause": "time_limit",
        "time_limit_exceeded": True,
    }
