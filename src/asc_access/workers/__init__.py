"""Scale-out: Celery workers, the scheduler, and what keeps them correct together.

- :mod:`.celery_app` - the Celery app (Redis broker, late acks, JSON).
- :mod:`.tasks` - the idempotent ``sync_connection_task``; :mod:`.idempotency` its run bookkeeping.
- :mod:`.lock` - one sync per connection at a time, expiring with a dead holder.
- :mod:`.budget` - one rate budget per API key shared by every worker.
- :mod:`.scheduler` - periodic dispatch with deterministic request keys.
- :mod:`.dispatch` - ``enqueue_sync`` for the CLI and the service.
- :mod:`.health` - workers, queue depth, each connection's last success and error.
- :mod:`.logging` - JSON log lines carrying connection and run ids.
"""
