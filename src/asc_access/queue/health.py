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
from sqlalchemy import Engine, func, select

from asc_access.config import Settings
from asc_access.store import schema
from asc_access.store.timeutil import as_utc_or_none
from asc_access.workers.config import WorkerConfig, redact_url

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
    value = as_utc_or_none(value)
    return value.isoformat() if value is not None else None


def connection_health(engine: Engine) -> list[dict[str, Any]]:
    """Each connection's last run, last success and last error (from ``sync_runs``)."""
    c = schema.connections.c
    r = schema.sync_runs.c
    last_ids = {
        status: select(r.connection_id, func.max(r.id).label("run_id"))
        .where(r.status == status)
        .group_by(r.connection_id)
        for status in ("succeeded", "failed", "running")
    }
    latest = select(r.connection_id, func.max(r.id).label("run_id")).group_by(r.connection_id)
    with engine.connect() as conn:
        connections = conn.execute(
            select(c.id, c.name, c.sync_interval_seconds).order_by(c.name)
        ).all()
        picks: dict[str, dict[int, int]] = {
            status: {row.connection_id: row.run_id for row in conn.execute(query)}
            for status, query in [*last_ids.items(), ("latest", latest)]
        }
        wanted = {run_id for by_conn in picks.values() for run_id in by_conn.values()}
        rows = (
            {row.id: row for row in conn.execute(select(schema.sync_runs).where(r.id.in_(wanted)))}
            if wanted
            else {}
        )
    out: list[dict[str, Any]] = []
    for connection in connections:
        cid = connection.id
        success = rows.get(picks["succeeded"].get(cid, -1))
        failure = rows.get(picks["failed"].get(cid, -1))
        last = rows.get(picks["latest"].get(cid, -1))
        out.append(
            {
                "id": cid,
                "name": connection.name,
                "interval_seconds": connection.sync_interval_seconds,
                "running": last is not None and last.status == "running",
                "last_run": None
                if last is None
                else {
                    "run_id": last.id,
                    "status": last.status,
                    "started_at": _iso(last.started_at),
                    "finished_at": _iso(last.finished_at),
                },
                "last_success": None
                if success is None
                else {
                    "at": _iso(success.finished_at),
                    "run_id": success.id,
                    "requests_used": success.requests_used,
                },
                "last_error": None
                if failure is None
                else {
                    "at": _iso(failure.finished_at),
                    "run_id": failure.id,
                    "code": failure.error_code,
                    "cause": failure.error_cause,
                    "message": failure.error_message,
                },
            }
        )
    return out


def status_report(
    app: Celery,
    redis: Redis[Any],
    engine: Engine,
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
    settings: Settings, engine: Engine, *, ping_timeout: float = 1.0
) -> dict[str, Any]:
    """:func:`status_report` for a process that has only ``settings`` and a store (the service).

    Blocking (it waits up to ``ping_timeout`` for pings): call it in a thread from async code.
    """
    from asc_access.workers.dispatch import app_for, worker_config_for

    config = worker_config_for(settings)
    redis: Redis[Any] = Redis.from_url(config.broker_url)
    try:
        return status_report(app_for(config), redis, engine, config, ping_timeout=ping_timeout)
    finally:
        redis.close()
