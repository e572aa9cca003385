"""Real ``asc-access worker`` processes for the end-to-end worker tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from celery import Celery

from asc_access.queue.health import worker_health

ASC_ACCESS = str(Path(sys.executable).parent / "asc-access")


class WorkerProcess:
    """One ``asc-access worker`` in its own process group (main process and pool)."""

    def __init__(self, env: dict[str, str], log_path: Path, *, concurrency: int = 2) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        self.proc = subprocess.Popen(
            [ASC_ACCESS, "worker", "--concurrency", str(concurrency), "--loglevel", "info"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.name = f"asc-access-{self.proc.pid}@"

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool children, no goodbye."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL for anything left in the group."""
        try:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            if self.proc.poll() is None:
                self.proc.wait(timeout=10)
        finally:
            self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        """The end of the worker's log (for failure messages)."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def wait_for_workers(app: Celery, workers: list[WorkerProcess], timeout: float = 45.0) -> None:
    """Block until every worker answers a ping."""
    deadline = time.monotonic() + timeout
    while True:
        names = [w["name"] for w in worker_health(app, timeout=0.5)]
        if all(any(n.startswith(w.name) for n in names) for w in workers):
            return
        for worker in workers:
            if worker.proc.poll() is not None:
                raise AssertionError(f"worker exited early:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            tails = "\n---\n".join(w.log_tail() for w in workers)
            raise AssertionError(f"workers did not answer within {timeout} s:\n{tails}")
        time.sleep(0.3)


def subprocess_env(extra: dict[str, str]) -> dict[str, Any]:
    """This environment minus asc-access settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASC_", "APP_STORE_"))}
    env.update(extra)
    return env
