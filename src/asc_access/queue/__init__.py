"""Scale-out without the workers: what the CLI, the service and the workers share.

Nothing here runs a task. Senders reach the workers through Celery by the
task's registered *name* (:data:`.app.SYNC_TASK`), never by importing
:mod:`asc_access.workers`:

- :mod:`.config` - the worker settings from the environment;
- :mod:`.app` - the Celery settings, a sending-only app, the task names;
- :mod:`.dispatch` - ``enqueue_sync`` (queue a sync, optionally wait for it);
- :mod:`.scheduler` - queue each connection's sync when its interval comes round;
- :mod:`.health` - workers' pings, queue depth, each connection's last runs;
- :mod:`.lock` / :mod:`.team_lock` - one sync or action step per team at a time;
- :mod:`.logging` - JSON log lines carrying connection and run ids.
"""
