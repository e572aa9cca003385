"""The Celery side every process shares: settings, task names, a sending-only app.

Delivery is *at least once*: ``task_acks_late`` acknowledges a task only after it
ran, ``task_reject_on_worker_lost`` hands it back when its pool process dies, and
a task whose whole worker vanished (SIGKILL, machine lost) becomes visible again
after ``visibility_timeout``. The tasks are idempotent (see
:mod:`asc_access.workers.tasks`), so a second delivery never duplicates a run.
``worker_prefetch_multiplier=1`` keeps one long sync from holding other tasks
hostage in a busy worker's buffer.

Senders (the CLI, the service, the scheduler) use :func:`sender_for`: the same
settings, no task registered; they send by name (:data:`SYNC_TASK`). The worker
app (:mod:`asc_access.workers.celery_app`) is built from :func:`celery_config` too.
"""

from __future__ import annotations

import os
import uuid
from functools import cache
from typing import Any

from celery import Celery, current_app

from asc_access.config import Settings
from asc_access.errors import UsageError
from asc_access.queue.config import WorkerConfig

__all__ = [
    "ALERTS_TASK",
    "SYNC_TASK",
    "WORKER_APP",
    "celery_config",
    "config_of",
    "configured_app",
    "new_request_key",
    "send_alerts",
    "sender_for",
    "worker_config_for",
]

#: The registered name of the sync task (senders use it without importing the task).
SYNC_TASK = "asc_access.sync_connection"
#: Delivers pending policy alerts (queued after each sync that opened or resolved one).
ALERTS_TASK = "asc_access.deliver_alerts"
#: Celery's import string of the workers' app (``celery -A`` / ``asc-access worker``).
WORKER_APP = "asc_access.workers.celery_app"


def celery_config(config: WorkerConfig) -> dict[str, Any]:
    """The Celery settings for ``config`` (a plain dict, easy to inspect in tests)."""
    transport = {
        "visibility_timeout": config.visibility_timeout,
        "global_keyprefix": config.key_prefix,
        # Sweep for abandoned (unacknowledged) messages about every
        # min(10 s, visibility timeout / 2) rather than kombu's default 100 s.
        "unacked_restore_interval": max(1, min(10, int(config.visibility_timeout // 2))),
        "unacked_restore_throttle": 1,
    }
    return {
        "broker_url": config.broker_url,
        "result_backend": config.result_backend,
        "broker_transport_options": transport,
        "result_backend_transport_options": {"global_keyprefix": config.key_prefix},
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": config.queue,
        "task_track_started": True,
        # The soft limit interrupts a runaway sync, which then records its run as
        # failed; the hard limit kills the process a little later if it did not stop.
        "task_soft_time_limit": config.sync_time_limit,
        "task_time_limit": config.sync_time_limit + 30,
        "result_expires": 86400,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "worker_send_task_events": False,
        "enable_utc": True,
        "timezone": "UTC",
    }


def configured_app(config: WorkerConfig) -> Celery:
    """A new Celery app with ``config``'s settings and no task registered."""
    app = Celery("asc_access")
    app.conf.update(celery_config(config))
    app.conf.asc_access_config = config
    return app


@cache
def sender_for(config: WorkerConfig) -> Celery:
    """One sending app per worker configuration in this process (send by name, ping)."""
    return configured_app(config)


def config_of(app: Celery) -> WorkerConfig:
    """The :class:`WorkerConfig` an app was built from."""
    config = app.conf.get("asc_access_config")
    if not isinstance(config, WorkerConfig):
        raise TypeError("this Celery app was not built by asc_access.queue.app")
    return config


def worker_config_for(settings: Settings) -> WorkerConfig:
    """The worker settings from the environment, with ``settings``' broker."""
    if not settings.broker_url:
        raise UsageError("no broker configured: set ASC_ACCESS_BROKER_URL")
    env = dict(os.environ)
    env["ASC_ACCESS_BROKER_URL"] = settings.broker_url
    return WorkerConfig.from_env(env)


def new_request_key(kind: str = "manual") -> str:
    """A fresh request key (also the Celery task id) for an on-demand sync."""
    return f"{kind}:{uuid.uuid4().hex}"


def send_alerts() -> None:
    """Queue the delivery of pending policy alerts (from inside a worker)."""
    current_app.send_task(ALERTS_TASK)
