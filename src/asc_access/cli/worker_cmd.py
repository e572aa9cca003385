"""``asc-access worker``, ``asc-access scheduler`` and ``asc-access workers status``.

The scale-out processes (see docs/deploy.md): Celery workers that run syncs from
the Redis queue, and the scheduler that queues each connection's sync at its
interval. Both need ``ASC_ACCESS_BROKER_URL`` and share the store named by
``ASC_ACCESS_DATABASE_URL`` (PostgreSQL when several machines take part).
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any

import typer
from click.exceptions import Exit as ClickExit

from asc_access.cli.common import JSON_OPTION, console, emit_json, err_console, handle_errors
from asc_access.cli.main import command_group
from asc_access.config import Settings
from asc_access.errors import UsageError

__all__ = ["register"]

workers_app = command_group("workers", no_args_is_help=True)


def worker(
    concurrency: int = typer.Option(
        2, "--concurrency", "-c", min=1, help="Syncs this worker runs at once (processes)."
    ),
    loglevel: str = typer.Option("info", "--loglevel", "-l", help="debug, info, warning, error."),
) -> None:
    """Run a Celery worker that takes syncs from the queue (JSON logs on stderr)."""
    # lazy: the [workers] extra (Celery, Redis) loads only when this command runs
    from celery.bin.celery import celery as celery_command

    # lazy: the [workers] extra (Celery, Redis) loads only when this command runs
    from asc_access.queue.app import WORKER_APP
    from asc_access.queue.config import WorkerConfig
    from asc_access.queue.logging import configure_json_logging
    from asc_access.store.db import open_engine

    with handle_errors():
        config = WorkerConfig.from_env()
        settings = Settings.from_env()
        open_engine(settings).dispose()  # migrate once, before the pool forks
    configure_json_logging(loglevel)
    # Celery loads the workers' app by its import string: the CLI never imports that package.
    with contextlib.suppress(ClickExit):  # Celery's own "done" (as app.worker_main does)
        celery_command.main(
            args=[
                f"--app={WORKER_APP}",
                "worker",
                f"--concurrency={concurrency}",
                f"--loglevel={loglevel.upper()}",
                f"--queues={config.queue}",
                f"--hostname=asc-access-{os.getpid()}@%h",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
            ],
            prog_name="asc-access worker",
            standalone_mode=False,
        )


def scheduler(
    tick: float = typer.Option(15.0, "--tick", min=0.1, help="Seconds between checks."),
    once: bool = typer.Option(False, "--once", help="Queue what is due now, then exit."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue each connection's sync when its interval comes round (run one or more)."""
    # lazy: the [workers] extra (Celery, Redis) loads only when this command runs
    from redis import Redis

    # lazy: the [workers] extra (Celery, Redis) loads only when this command runs
    from asc_access.queue.app import sender_for
    from asc_access.queue.config import WorkerConfig
    from asc_access.queue.logging import configure_json_logging
    from asc_access.queue.scheduler import Scheduler
    from asc_access.store.db import open_engine

    with handle_errors(as_json=as_json):
        config = WorkerConfig.from_env()
        engine = open_engine(Settings.from_env())
    redis: Redis[Any] = Redis.from_url(config.broker_url)
    loop = Scheduler(sender_for(config), engine, redis, config, tick=tick)
    if once:
        sent = loop.tick_once()
        docs = [
            {
                "connection": s.connection,
                "connection_id": s.connection_id,
                "request_key": s.request_key,
            }
            for s in sent
        ]
        if as_json:
            emit_json({"queued": docs})
        else:
            console.print(f"{len(docs)} sync(s) queued")
            for doc in docs:
                console.print(f"  {doc['connection']}  {doc['request_key']}")
        return
    configure_json_logging("info")
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    signal.signal(signal.SIGINT, lambda *_: loop.stop())
    loop.run_forever()


def status(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(1.0, "--timeout", min=0.1, help="Seconds to wait for pings."),
) -> None:
    """Workers alive, queue depth, and each connection's last success and last error."""
    # lazy: the [workers] extra (Celery, Redis) loads only when this command runs
    from asc_access.queue.health import status_for_settings
    from asc_access.store.db import open_engine

    with handle_errors(as_json=as_json):
        settings = Settings.from_env()
        if not settings.broker_url:
            raise UsageError(
                "no broker configured: set ASC_ACCESS_BROKER_URL to the workers' Redis URL"
            )
        engine = open_engine(settings)
        try:
            report = status_for_settings(settings, engine, ping_timeout=timeout)
        finally:
            engine.dispose()
    if as_json:
        emit_json(report)
    else:
        _print_status(report)
    if not report["ok"]:
        raise typer.Exit(1)


def _print_status(report: dict[str, Any]) -> None:
    queue = report["queue"]
    workers = report["workers"]
    console.print(f"broker   {report['broker']}")
    console.print(
        f"queue    {queue['name']}: {queue['depth']} waiting, {queue['unacked']} delivered"
    )
    if workers:
        for w in workers:
            console.print(
                f"worker   {w['name']}: {'ok' if w['ok'] else 'NOT OK'}, {w['active']} running"
            )
    else:
        err_console.print("[bold red]no worker answered[/] - start one with `asc-access worker`")
    for c in report["connections"]:
        success = c["last_success"]
        error = c["last_error"]
        line = f"{c['name']:<24} "
        line += "running  " if c["running"] else "         "
        line += f"last success {success['at'] if success else 'never'}"
        if error and (not success or (error["run_id"] > success["run_id"])):
            line += f"  last error {error['at']} {error['code'] or ''} {error['cause'] or ''}"
        console.print(line)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    workers_app.command("status")(status)
    app.add_typer(workers_app)
