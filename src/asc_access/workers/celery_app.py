"""The workers' Celery application: the shared settings with the tasks registered.

Settings and task names live in :mod:`asc_access.queue.app` (senders use them
without importing this package); see there for the delivery guarantees.

``asc-access worker`` starts Celery on this module by its import string
(``celery -A asc_access.workers.celery_app worker`` works too): the module-level
``app`` is built from the environment on first access, and its worker logs JSON
lines (:mod:`asc_access.queue.logging`) instead of Celery's own handlers.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import setup_logging

from asc_access.queue.app import configured_app
from asc_access.queue.config import WorkerConfig
from asc_access.queue.logging import configure_json_logging
from asc_access.workers.tasks import register_tasks

__all__ = ["create_app"]


def create_app(config: WorkerConfig | None = None) -> Celery:
    """A configured Celery app with the sync and alerts tasks registered."""
    app = configured_app(config or WorkerConfig.from_env())
    register_tasks(app)
    return app


def _json_logging(loglevel: str | int | None = None, **_: Any) -> None:
    """Celery's ``setup_logging``: JSON lines on stderr; Celery installs no handler of its own."""
    configure_json_logging(loglevel or "INFO")


_app: Celery | None = None


def __getattr__(name: str) -> Any:
    # ``celery -A asc_access.workers.celery_app`` looks up ``app`` (or ``celery``).
    global _app
    if name in {"app", "celery"}:
        if _app is None:
            setup_logging.connect(_json_logging, weak=False)
            _app = create_app()
        return _app
    raise AttributeError(name)
