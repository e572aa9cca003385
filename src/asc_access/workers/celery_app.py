"""The Celery application: Redis broker and result backend, at-least-once delivery.

Delivery is *at least once*: ``task_acks_late`` acknowledges a task only after it
ran, ``task_reject_on_worker_lost`` hands it back when its pool process dies, and
a task whose whole worker vanished (SIGKILL, machine lost) becomes visible again
after ``visibility_timeout``. The tasks are idempotent (see :mod:`.tasks`), so a
second delivery never duplicates a run. ``worker_prefetch_multiplier=1`` keeps
one long sync from holding other tasks hostage in a busy worker's buffer.

``celery -A asc_access.workers.celery_app worker`` works too (the module-level
``app`` is built from the environment on first access); ``asc-access worker`` is
the supported entry point.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from asc_access.workers.config import WorkerConfig

__all__ = ["ALERTS_TASK", "SYNC_TASK", "create_app"]

#: The registered name of the sync task (senders use it without importing the task).
SYNC_TASK = "asc_access.sync_connection"
#: Delivers pending policy alerts (queued after each sync that opened or resolved one).
ALERTS_TASK = "asc_access.deliver_alerts"


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


def create_app(config: WorkerConfig | None = None) -> Celery:
    """A configured Celery app with the sync task registered."""
    config = config or WorkerConfig.from_env()
    app = Celery("asc_access")
    app.conf.update(celery_config(config))
    app.conf.asc_access_config = config
    from asc_access.workers.tasks import register_tasks

    register_tasks(app)
    return app


def config_of(app: Celery) -> WorkerConfig:
    """The :class:`WorkerConfig` an app was built from."""
    config = app.conf.get("asc_access_config")
    if not isinstance(config, WorkerConfig):
        raise TypeError("this Celery app was not built by asc_access.workers.create_app")
    return config


_app: Celery | None = None


def __getattr__(name: str) -> Any:
    # ``celery -A asc_access.workers.celery_app`` looks up ``app`` (or ``celery``).
    global _app
    if name in {"app", "celery"}:
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(name)
