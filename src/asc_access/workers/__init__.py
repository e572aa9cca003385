"""Scale-out: the Celery worker process and its idempotent sync task.

- :mod:`.celery_app` - the workers' Celery app (``celery -A asc_access.workers.celery_app``).
- :mod:`.tasks` - the idempotent ``sync_connection_task``; :mod:`.idempotency` its answers.
- :mod:`.budget` - one rate budget per API key shared by every worker.

What senders share with the workers (settings, task names, dispatch, the
scheduler, health, locks, JSON logs) is :mod:`asc_access.queue`: no other shell
imports this package.
"""
