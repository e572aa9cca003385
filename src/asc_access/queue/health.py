"""What an operator needs to see: workers alive, queue depth, each connection's syncs.

:func:`status_report` is shared by ``asc-access workers status`` and the service.
Its document::

    {"ok": bool, "broker": "redis://…" (password masked), "queue": {"name", "depth",
     "unacked"}, "workers": [{"name", "ok", "active"}],
     "connections": [{"id", "name", "interval_seconds", "running", "last_run":
       {"status", "started_at", "finished_at"}, "last_success": {"at", "run_id",
       "requests_used"} | None, "last_error": {"at", "run_id", "code", "cause",
       "message"} | None}]}

``ok`` is true when at least one worker answered the ping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import Celery
from redis import Redis

from asc_access.config import Settings
from asc_access.queue.app import sender_for, worker_config_for
from asc_access.queue.config import WorkerConfig, redact_url
from asc_access.store.handle import Database
from asc_access.store.runs import RUNNING, RunRecord
from asc_access.store.task_runs import latest_runs

__all__ = [
    "connection_health",
    "queue_depth",
    "status_for_settings",
    "status_report",
    "worker_health",
]

#: kombu's Redis transport keeps one list per priority step: ``queue`` and
#: ``queue\x06\x16<p>`` for p in 3, 6, 9 (its default steps).
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def worker_health(app: Celery, timeout: float = 1.0) -> list[dict[str, Any]]:
    """The workers that answer a ping within ``timeout``, with their running task count."""
    inspect = app.control.inspect(timeout=timeout)
    pongs = inspect.ping() or {}
    active = (inspect.active() or {}) if pongs else {}
    return [
        {
            "name": name,
            "ok": reply.get("ok") == "pong",
            "active": len(active.get(name) or []),
        }
        for name, reply in sorted(pongs.items())
    ]


def queue_depth(redis: Redis[Any], config: WorkerConfig) -> dict[str, Any]:
    """Tasks waiting in the queue, and tasks delivered but not yet acknowledged."""
    base = config.key_prefix + config.queue
    pipe = redis.pipeline()
    for suffix in _PRIORITY_SUFFIXES:
        pipe.llen(base + suffix)
    pipe.hlen(config.key_prefix + "unacked")
    *depths, unacked = pipe.execute()
    return {"name": config.queue, "depth": int(sum(depths)), "unacked": int(unacked)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _last_run(run: RunRecord | None) -> dict[str, Any] | None:
    if run is None:
        return None
    started, finished = _iso(run.started_at), _iso(run.finished_at)
    return {"run_id": run.id, "status": run.status, "started_at": started, "finished_at": finished}


def _success(run: RunRecord | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"at": _iso(run.finished_at), "run_id": run.id, "requests_used": run.stats.requests_used}


def _failure(run: RunRecord | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "at": _iso(run.finished_at),
        "run_id": run.id,
        "code": run.error_code,
        "cause": run.error_cause,
        "message": run.error_message,
    }


def connection_health(engine: Database) -> list[dict[str, Any]]:
    """Each connection's last run, last success and last error (from ``sync_runs``)."""
    return [
        {
            "id": latest.id,
            "name": latest.name,
            "interval_seconds": latest.interval_seconds,
            "running": latest.last is not None and latest.last.status == RUNNING,
            "last_run": _last_run(latest.last),
            "last_success": _success(latest.success),
            "last_error": _failure(latest.failure),
        }
        for latest in latest_runs(engine)
    ]


def status_report(
    app: Celery,
    redis: Redis[Any],
    engine: Database,
    config: WorkerConfig,
    *,
    ping_timeout: float = 1.0,
) -> dict[str, Any]:
    """Workers, queue and connections in one JSON-ready document."""
    workers = worker_health(app, timeout=ping_timeout)
    return {
        "ok": any(w["ok"] for w in workers),
        "broker": redact_url(config.broker_url),
        "queue": queue_depth(redis, config),
        "workers": workers,
        "connections": connection_health(engine),
    }


def status_for_settings(
    settings: Settings, engine: Database, *, ping_timeout: float = 1.0
) -> dict[str, Any]:
    """:func:`status_report` for a process that has only ``settings`` and a store (the service).

    Blocking (it waits up to ``ping_timeout`` for pings): call it in a thread from async code.
    """
    config = worker_config_for(settings)
    redis: Redis[Any] = Redis.from_url(config.broker_url)
    try:
        return status_report(sender_for(config), redis, engine, config, ping_timeout=ping_timeout)
    finally:
        redis.close()
