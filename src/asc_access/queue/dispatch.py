"""Sending syncs to the workers (what :func:`asc_access.syncs.request_syncs` does with a broker).

``enqueue_sync(settings, refs, wait=...)`` queues the sync task by its name
(:data:`~asc_access.queue.app.SYNC_TASK`) for each connection: resolved
:class:`~asc_access.store.refs.ConnectionRef` values, names, or ``None`` for every
connection. It returns one document per connection::

    {"connection": "acme", "connection_id": 3, "request_key": "manual:…",
     "status": "queued" | "succeeded" | "failed" | "coalesced" | "missing" | "timeout",
     "run_id": 12 | None, "code": "APP-104" | None, "cause": … | None,
     "run": {RunRecord.as_dict()} | None, "into_request_key": … (coalesced only)}

With ``wait=False`` every status is ``queued``. With ``wait=True`` it blocks until
each sync ends (or ``timeout``), and a trigger that joined a sync already running
(``coalesced``) reports that sync's run. Unknown names raise
``NotFoundLocallyError`` before anything is queued.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from asc_access.config import Settings
from asc_access.queue.app import SYNC_TASK, new_request_key, sender_for, worker_config_for
from asc_access.queue.config import WorkerConfig
from asc_access.store import runs
from asc_access.store.handle import Database
from asc_access.store.refs import ConnectionRef, resolve_refs
from asc_access.store.task_runs import run_of_request

__all__ = ["enqueue_sync"]


def _targets(
    db: Database, connections: Sequence[ConnectionRef | str] | None
) -> list[ConnectionRef]:
    if connections is None:
        return resolve_refs(db)
    refs = [c for c in connections if isinstance(c, ConnectionRef)]
    names = [c for c in connections if isinstance(c, str)]
    if names:
        refs += resolve_refs(db, names)
    return list({ref.id: ref for ref in refs}.values())


def enqueue_sync(
    settings: Settings,
    connections: Sequence[ConnectionRef | str] | None,
    wait: bool,
    *,
    timeout: float | None = None,
    engine: Database | None = None,
    config: WorkerConfig | None = None,
    kind: str = "manual",
    request_key: str | None = None,
) -> list[dict[str, Any]]:
    """Queue a sync of each connection (``None``: all); optionally wait for them.

    ``config`` defaults to the worker settings in the environment (queue name, key
    prefix...: they must match the workers'), with ``settings``' broker.
    ``request_key`` names the one run a caller (the service) will look for; it
    needs exactly one connection.
    """
    config = config or worker_config_for(settings)
    if engine is None:
        from asc_access.store.db import open_engine  # lazy: alembic only without an engine

        engine = open_engine(settings)
    targets = _targets(engine, connections)
    if request_key is not None and len(targets) != 1:
        raise ValueError("request_key names the run of exactly one connection")
    app = sender_for(config)
    sent: list[tuple[dict[str, Any], Any]] = []
    for ref in targets:
        key = request_key or new_request_key(kind)
        result = app.send_task(SYNC_TASK, args=[ref.id, key], task_id=key)
        doc: dict[str, Any] = {
            "connection": ref.name,
            "connection_id": ref.id,
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


def _await_one(db: Database, doc: dict[str, Any], result: Any, deadline: float) -> dict[str, Any]:
    try:
        outcome = result.get(timeout=max(0.1, deadline - time.monotonic()), propagate=False)
    except Exception:  # noqa: BLE001 - celery's TimeoutError and backend hiccups alike
        return {**doc, "status": "timeout"}
    if not isinstance(outcome, dict):
        return {**doc, "status": "failed", "cause": "worker_error", "error": str(outcome)}
    doc = {**doc, **outcome}
    if doc.get("status") == "coalesced" and doc.get("into_request_key"):
        joined = _wait_for_run(db, str(doc["into_request_key"]), deadline)
        if joined is not None:
            doc.update(
                run_id=joined.id,
                code=joined.error_code,
                cause=joined.error_cause,
                run=joined.as_dict(),
            )
    return doc


def _wait_for_run(db: Database, request_key: str, deadline: float) -> runs.RunRecord | None:
    """The run of another request once it has finished (``None`` at the deadline)."""
    while True:
        run = run_of_request(db, request_key)
        if run is not None and run.status != runs.RUNNING:
            return run
        if time.monotonic() > deadline:
            return run
        time.sleep(0.25)
