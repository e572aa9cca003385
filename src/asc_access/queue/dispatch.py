"""Sending syncs to the workers: what ``sync`` and the service call when a broker is set.

Note for the ``sync`` command (cli/sync_cmd.py) and the service: when
``settings.broker_url`` is set (``ASC_ACCESS_BROKER_URL``), call
``enqueue_sync(settings, names, wait=...)`` instead of syncing in-process.
``names=None`` means every connection. It returns one document per connection::

    {"connection": "acme", "connection_id": 3, "request_key": "manual:…",
     "status": "queued" | "succeeded" | "failed" | "coalesced" | "missing" | "timeout",
     "run_id": 12 | None, "code": "APP-104" | None, "cause": … | None,
     "run": {RunRecord.as_dict()} | None, "into_request_key": … (coalesced only)}

With ``wait=False`` every status is ``queued``. With ``wait=True`` it blocks until
each sync ends (or ``timeout``), and a trigger that joined a sync already running
(``coalesced``) reports that sync's run. Unknown names raise
``NotFoundLocallyError`` before anything is queued.

For the service's health page: :func:`asc_access.workers.health.status_for_settings`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

from celery import Celery
from sqlalchemy import Engine, select

from asc_access.config import Settings
from asc_access.errors import NotFoundLocallyError, UsageError
from asc_access.store import runs, schema
from asc_access.workers.celery_app import SYNC_TASK, create_app
from asc_access.workers.config import WorkerConfig

__all__ = [
    "app_for",
    "broker_configured",
    "enqueue_sync",
    "new_request_key",
    "worker_config_for",
]


def broker_configured(settings: Settings) -> bool:
    """Whether syncs go through the queue (a broker URL is set)."""
    return bool(settings.broker_url)


def worker_config_for(settings: Settings) -> WorkerConfig:
    """The worker settings from the environment, with ``settings``' broker."""
    if not settings.broker_url:
        raise UsageError("no broker configured: set ASC_ACCESS_BROKER_URL")

    env = dict(os.environ)
    env["ASC_ACCESS_BROKER_URL"] = settings.broker_url
    return WorkerConfig.from_env(env)


@cache
def app_for(config: WorkerConfig) -> Celery:
    """One Celery app per worker configuration in this process (for sending and pinging)."""
    return create_app(config)


def new_request_key(kind: str = "manual") -> str:
    """A fresh request key (also the Celery task id) for an on-demand sync."""
    return f"{kind}:{uuid.uuid4().hex}"


def _resolve(engine: Engine, names: Sequence[str] | None) -> list[tuple[int, str]]:
    c = schema.connections.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.id, c.name).order_by(c.name)).all()
    by_name = {row.name: int(row.id) for row in rows}
    if names is None:
        return [(by_name[n], n) for n in sorted(by_name)]
    missing = [n for n in names if n not in by_name]
    if missing:
        raise NotFoundLocallyError(
            f"no connection named {', '.join(missing)}; see `asc-access connections`"
        )
    return [(by_name[n], n) for n in dict.fromkeys(names)]


def enqueue_sync(
    settings: Settings,
    names: Sequence[str] | None,
    wait: bool,
    *,
    timeout: float | None = None,
    engine: Engine | None = None,
    config: WorkerConfig | None = None,
    kind: str = "manual",
    request_key: str | None = None,
) -> list[dict[str, Any]]:
    """Queue a sync of each named connection (``None``: all); optionally wait for them.

    ``config`` defaults to the worker settings in the environment (queue name, key
    prefix...: they must match the workers'), with ``settings``' broker.
    ``request_key`` names the one run a caller (the service) will look for; it
    needs exactly one connection.
    """
    config = config or worker_config_for(settings)
    if engine is None:
        from asc_access.store.db import open_engine

        engine = open_engine(settings)
    targets = _resolve(engine, names)
    if request_key is not None and len(targets) != 1:
        raise ValueError("request_key names the run of exactly one connection")
    app = app_for(config)
    sent: list[tuple[dict[str, Any], Any]] = []
    for connection_id, name in targets:
        key = request_key or new_request_key(kind)
        result = app.send_task(SYNC_TASK, args=[connection_id, key], task_id=key)
        doc: dict[str, Any] = {
            "connection": name,
            "connection_id": connection_id,
            "request_key": key,
            "status": "queued",
            "run_id": None,
            "code": None,
            "cause": None,
            "run": None,
        }
        sent.append((doc, result))
    if not wait:
        return [doc for doc, _ in sent]
    limit = timeout if timeout is not None else config.sync_time_limit + 60
    deadline = time.monotonic() + limit
    return [_await_one(engine, doc, result, deadline) for doc, result in sent]


def _await_one(engine: Engine, doc: dict[str, Any], result: Any, deadline: float) -> dict[str, Any]:
    try:
        outcome = result.get(timeout=max(0.1, deadline - time.monotonic()), propagate=False)
    except Exception:  # noqa: BLE001 - celery's TimeoutError and backend hiccups alike
        return {**doc, "status": "timeout"}
    if not isinstance(outcome, dict):
        return {**doc, "status": "failed", "cause": "worker_error", "error": str(outcome)}
    doc = {**doc, **outcome}
    if doc.get("status") == "coalesced" and doc.get("into_request_key"):
        joined = _wait_for_run(engine, str(doc["into_request_key"]), deadline)
        if joined is not None:
            doc.update(
                run_id=joined.id,
                code=joined.error_code,
                cause=joined.error_cause,
                run=joined.as_dict(),
            )
    return doc


def _wait_for_run(engine: Engine, request_key: str, deadline: float) -> runs.RunRecord | None:
    """The run of another request once it has finished (``None`` at the deadline)."""
    while True:
        with engine.connect() as conn:
            run = runs.run_for_request_key(conn, request_key)
        if run is not None and run.status != runs.RUNNING:
            return run
        if time.monotonic() > deadline:
            return run
        time.sleep(0.25)
