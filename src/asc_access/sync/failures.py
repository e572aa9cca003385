"""How a failed sync is recorded and told.

The run is closed as ``failed`` with the error's code and cause in its own small
transaction (the mirror and change log stay as they were); a failure that says
the key or the team is wrong (APP-101 to APP-103) marks the connection unhealthy,
and a complete sync marks it healthy; the caller raises :class:`SyncError`.
"""

from __future__ import annotations

from datetime import datetime

from asc_access.errors import AscAccessError, SyncError
from asc_access.store.connections import update_health
from asc_access.store.handle import Database
from asc_access.store.refs import ConnectionRef
from asc_access.store.runs import RunStats, fail_run
from asc_access.sync.rotation import after_failed_sync

__all__ = ["first_error", "record_failed", "record_health", "sync_error"]


def first_error(error: BaseException) -> BaseException:
    """The error to report from a task group: ours first, else the first one."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending:
        item = pending.pop(0)
        if isinstance(item, BaseExceptionGroup):
            pending.extend(item.exceptions)
        else:
            leaves.append(item)
    ours = (leaf for leaf in leaves if isinstance(leaf, AscAccessError))
    return next(ours, leaves[0] if leaves else error)


def record_failed(
    engine: Database,
    run_id: int,
    ref: ConnectionRef,
    raised: BaseException,
    at: datetime,
    stats: RunStats,
) -> BaseException:
    """Close the run as failed and record the verdict on the key; the error to report."""
    error = first_error(raised)
    _record_failure(engine, run_id, error, at, stats)
    record_health(engine, ref.name, error, at)
    after_failed_sync(engine, ref.id, error)
    return error


def sync_error(error: Exception, name: str, run_id: int) -> SyncError:
    """The error a failed sync raises: the underlying one's code and cause, and the run."""
    ours = error if isinstance(error, AscAccessError) else None
    return SyncError(
        f"the sync of {name!r} failed: {ours.message if ours else type(error).__name__}",
        code=ours.code if ours else None,
        cause=ours.cause if ours else None,
        context={"run_id": run_id, "connection": name},
    )


#: Failures that say the key or the team is wrong (not a passing problem at Apple's end).
_HEALTH_CODES = frozenset({"APP-101", "APP-102", "APP-103"})


def record_health(engine: Database, name: str, error: BaseException | None, at: datetime) -> None:
    """A sync's verdict on the connection: Apple accepted the key, or refused it."""
    try:
        if error is None:
            update_health(engine, name, healthy=True, accepted=True, now=at)
        elif isinstance(error, AscAccessError) and error.code in _HEALTH_CODES:
            update_health(engine, name, healthy=False, code=error.code, cause=error.cause, now=at)
    except Exception:  # noqa: BLE001 - health is a side note; the run row holds the outcome
        return


def _record_failure(
    engine: Database, run_id: int, error: BaseException, at: datetime, stats: RunStats
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
