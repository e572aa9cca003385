"""With a broker, policy alerts are delivered by the workers: a real ``asc-access worker``
syncs a sandbox team, evaluates the policies, queues the alerts task, and delivers it to a
real local webhook receiver (HMAC checked) — once, however many syncs find the violation."""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from asc_access.config import Settings
from asc_access.queue.config import WorkerConfig
from asc_access.queue.dispatch import enqueue_sync
from asc_access.store.db import open_engine
from asc_access.store.notifications import list_deliveries
from asc_access.workers.celery_app import create_app
from governance.support import SECRET, WebhookReceiver
from workers._cluster import WorkerProcess, subprocess_env, wait_for_workers
from workers._helpers import connect_sandbox_key

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def _wait(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def test_alerts_go_out_through_the_workers(
    worker_env: dict[str, str], sandbox: Any, tmp_path: Path
) -> None:
    with WebhookReceiver() as receiver:
        env = worker_env | {
            "ASC_ACCESS_HOME": str(tmp_path / "home"),
            "ASC_ACCESS_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "ASC_ACCESS_NOTIFY_WEBHOOKS": receiver.url,
            "ASC_ACCESS_NOTIFY_WEBHOOK_SECRET": SECRET,
            "ASC_ACCESS_NOTIFY_BACKOFF": "0.01",
        }
        settings, config = Settings.from_env(env), WorkerConfig.from_env(env)
        engine = open_engine(settings)
        settings.ensure_home()
        (settings.home / "policies.yaml").write_text(
            "policies:\n  - id: one-admin\n    kind: max_admins\n    max: 1\n"
        )
        connect_sandbox_key(engine, settings, "acme", sandbox, sandbox.keys["admin"])
        app = create_app(config)
        worker = WorkerProcess(subprocess_env(env), tmp_path / "worker.log", concurrency=1)
        try:
            wait_for_workers(app, [worker])
            for _ in range(2):
                (result,) = enqueue_sync(
                    settings, ["acme"], True, timeout=60, engine=engine, config=config
                )
                assert result["status"] == "succeeded", worker.log_tail()
            _wait(lambda: len(receiver.received) >= 1)
            _wait(lambda: [d.status for d in list_deliveries(engine)] == ["delivered"])
            time.sleep(1.0)  # the second sync's task, if any, has had time to run
            assert receiver.events() == [("violation.opened", "one-admin", "acme", None)]
            assert receiver.rejected == 0
            # delivered by the alerts task, not inside the sync task
            _wait(lambda: "asc_access.deliver_alerts" in worker.log_path.read_text())
        finally:
            worker.stop()
            app.pool.force_close_all()
            engine.dispose()
