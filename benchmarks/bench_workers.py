"""Workers benchmark: connections synced per minute by 1 and 2 worker processes, and
per-key pacing holding under ``user-hour-lim``.

Needs the machine's Redis and PostgreSQL (the same variables as the tests)::

    ASC_ACCESS_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \\
    ASC_ACCESS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
    .venv/bin/python benchmarks/bench_workers.py [--connections 24] [--latency-ms 300]

Everything runs as real processes: ``asc-access sandbox`` teams (one per team,
``--latency-ms`` on every call), ``asc-access worker`` processes, and this script
queueing syncs through ``enqueue_sync`` (what ``asc-access sync --all --wait`` does).
Each phase uses a fresh PostgreSQL schema and Redis key prefix, removed at the end.

Throughput: every connection has its own key (as when each organisation brings
its own); a round is the first sync of every connection (the whole team is
written), then a second round (re-sync, nothing new). Pacing: ``--paced``
connections share ONE key of a sandbox whose hourly limit is ``--rate-limit``,
synced by two workers; more syncs are asked for than the budget allows. The
shared budget must stop them (APP-104) before Apple would answer 429, leaving the
reserve unspent, while connections on another key are not slowed at all.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from redis import Redis
from sqlalchemy import create_engine, text

from asc_access.config import Settings
from asc_access.queue.config import WorkerConfig
from asc_access.queue.dispatch import enqueue_sync
from asc_access.queue.health import worker_health
from asc_access.runtime import KEY_PURPOSE, vault_for
from asc_access.store.connections import add_connection
from asc_access.store.db import open_engine
from asc_access.store.keycheck import binding_for
from asc_access.workers.celery_app import create_app

ASC_ACCESS = str(Path(sys.executable).parent / "asc-access")


@dataclass
class Team:
    proc: subprocess.Popen[bytes]
    base_url: str
    state: dict[str, Any]

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.base_url}/_sandbox/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def issue_key(self) -> dict[str, Any]:
        key: dict[str, Any] = self.control("POST", "keys", {"key_type": "team", "role": "ADMIN"})
        return key

    def admin_key(self) -> dict[str, Any]:
        entry = next(k for k in self.state["keys"] if k["name"] == "admin")
        return {**entry, "private_key": Path(entry["private_key_file"]).read_text()}


@contextlib.contextmanager
def sandbox_team(
    tmp: Path, *, latency_ms: int, rate_limit: int, size: dict[str, int]
) -> Iterator[Team]:
    state_dir = Path(tempfile.mkdtemp(dir=tmp, prefix="team-"))
    args = [
        ASC_ACCESS,
        "sandbox",
        "--port",
        "0",
        "--state-dir",
        str(state_dir),
        "--latency-ms",
        str(latency_ms),
        "--rate-limit",
        str(rate_limit),
    ]
    for name, value in size.items():
        args += [f"--{name}", str(value)]
    proc = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=_clean_env({}),
    )
    try:
        state_file = state_dir / "sandbox.json"
        deadline = time.monotonic() + 30
        while not state_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.1)
        time.sleep(0.1)
        state = json.loads(state_file.read_text())
        yield Team(proc, state["base_url"], state)
    finally:
        _stop(proc)


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASC_", "APP_STORE_"))}
    env.update(extra)
    return env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait(timeout=10)


class Phase:
    """A fresh schema + key prefix, settings for this script and for the workers."""

    def __init__(self, redis_url: str, postgres_url: str, tmp: Path, **worker_env: str) -> None:
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"
        self.prefix = f"asc-bench-{uuid.uuid4().hex[:10]}:"
        self.redis_url = redis_url
        self.postgres_url = postgres_url
        admin = create_engine(postgres_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        admin.dispose()
        sep = "&" if "?" in postgres_url else "?"
        self.env = {
            "ASC_ACCESS_HOME": str(tmp / self.schema),
            "ASC_ACCESS_DATABASE_URL": f"{postgres_url}{sep}options=-csearch_path%3D{self.schema}",
            "ASC_ACCESS_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "ASC_ACCESS_BROKER_URL": redis_url,
            "ASC_ACCESS_KEY_PREFIX": self.prefix,
            "ASC_ACCESS_QUEUE": f"{self.prefix}sync",
            **worker_env,
        }
        self.settings = Settings.from_env(self.env)
        self.config = WorkerConfig.from_env(self.env)
        self.engine = open_engine(self.settings)
        self.app = create_app(self.config)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.tmp = tmp

    def connect(self, name: str, team: Team, key: dict[str, Any]) -> None:
        add_connection(
            self.engine,
            name=name,
            key_id=key["key_id"],
            issuer_id=key["issuer_id"],
            key_type="team",
            api_url=team.base_url,
            encrypted_private_key=vault_for(self.settings, self.engine).encrypt(
                key["private_key"].encode(), purpose=KEY_PURPOSE, bound_to=binding_for(name)
            ),
            healthy=True,
        )

    def start_workers(self, count: int, concurrency: int) -> None:
        for i in range(count):
            log = (self.tmp / f"{self.schema}-worker{i}.log").open("ab")
            self.workers.append(
                subprocess.Popen(
                    [
                        ASC_ACCESS,
                        "worker",
                        "--concurrency",
                        str(concurrency),
                        "--loglevel",
                        "warning",
                    ],
                    env=_clean_env(self.env),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 60
        while len(worker_health(self.app, timeout=0.5)) < count:
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start")
            time.sleep(0.3)

    def sync_all(self) -> tuple[float, list[dict[str, Any]]]:
        started = time.monotonic()
        docs = enqueue_sync(
            self.settings, None, wait=True, timeout=900, engine=self.engine, config=self.config
        )
        return time.monotonic() - started, docs

    def close(self) -> None:
        for proc in self.workers:
            _stop(proc)
        self.app.pool.force_close_all()
        self.engine.dispose()
        admin = create_engine(self.postgres_url)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        admin.dispose()
        redis: Redis[Any] = Redis.from_url(self.redis_url)
        keys = list(redis.scan_iter(match=self.prefix + "*", count=1000))
        if keys:
            redis.delete(*keys)
        redis.close()


def throughput(args: argparse.Namespace, tmp: Path, workers: int) -> dict[str, Any]:
    size = {"users": args.users, "apps": args.apps, "invitations": args.invitations}
    phase = Phase(args.redis_url, args.postgres_url, tmp)
    try:
        with contextlib.ExitStack() as stack:
            teams = [
                stack.enter_context(
                    sandbox_team(tmp, latency_ms=args.latency_ms, rate_limit=3600, size=size)
                )
                for _ in range(args.teams)
            ]
            for i in range(args.connections):
                team = teams[i % len(teams)]
                phase.connect(f"org-{i:04d}", team, team.issue_key())
            phase.start_workers(workers, args.concurrency)
            first_s, first = phase.sync_all()
            again_s, again = phase.sync_all()
            requests = sum(t.control("GET", "stats")["requests"] for t in teams)
        ok = [d for d in first + again if d["status"] == "succeeded"]
        return {
            "workers": workers,
            "concurrency": args.concurrency,
            "connections": args.connections,
            "first_sync_s": round(first_s, 2),
            "first_per_min": round(args.connections / first_s * 60),
            "resync_s": round(again_s, 2),
            "resync_per_min": round(args.connections / again_s * 60),
            "succeeded": len(ok),
            "requests": requests,
        }
    finally:
        phase.close()


def pacing(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    reserve = args.reserve
    phase = Phase(args.redis_url, args.postgres_url, tmp, ASC_ACCESS_KEY_RESERVE=str(reserve))
    try:
        with (
            sandbox_team(
                tmp, latency_ms=args.latency_ms, rate_limit=args.rate_limit, size={}
            ) as limited,
            sandbox_team(tmp, latency_ms=args.latency_ms, rate_limit=3600, size={}) as other,
        ):
            shared = limited.admin_key()
            for i in range(args.paced):
                phase.connect(f"paced-{i:03d}", limited, shared)
            other_key = other.admin_key()
            for i in range(args.paced // 2):
                phase.connect(f"other-{i:03d}", other, other_key)
            phase.start_workers(2, args.concurrency)
            elapsed, docs = phase.sync_all()
            served = limited.control("GET", "stats")
            other_served = other.control("GET", "stats")
        paced = [d for d in docs if d["connection"].startswith("paced-")]
        others = [d for d in docs if d["connection"].startswith("other-")]
        return {
            "limit": args.rate_limit,
            "reserve": reserve,
            "syncs_asked": len(paced),
            "succeeded": sum(d["status"] == "succeeded" for d in paced),
            "stopped_app_104": sum(d.get("code") == "APP-104" for d in paced),
            "requests_served": served["requests"],
            "http_429": served["by_status"].get("429", 0),
            "other_key_succeeded": f"{sum(d['status'] == 'succeeded' for d in others)}"
            f"/{len(others)}",
            "other_key_429": other_served["by_status"].get("429", 0),
            "elapsed_s": round(elapsed, 2),
        }
    finally:
        phase.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default=os.environ.get("ASC_ACCESS_TEST_REDIS_URL"))
    parser.add_argument("--postgres-url", default=os.environ.get("ASC_ACCESS_TEST_POSTGRES_URL"))
    parser.add_argument("--connections", type=int, default=24)
    parser.add_argument("--teams", type=int, default=3)
    parser.add_argument("--users", type=int, default=0, help="0: the demo team")
    parser.add_argument("--apps", type=int, default=0)
    parser.add_argument("--invitations", type=int, default=0)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rate-limit", type=int, default=60)
    parser.add_argument("--reserve", type=int, default=10)
    parser.add_argument(
        "--paced",
        type=int,
        default=30,
        help="connections on the limited key (0: no pacing run; deferred syncs wait an hour)",
    )
    args = parser.parse_args()
    if not args.redis_url or not args.postgres_url:
        parser.error("set ASC_ACCESS_TEST_REDIS_URL and ASC_ACCESS_TEST_POSTGRES_URL")
    tmp = Path(tempfile.mkdtemp(prefix="asc-bench-workers-"))
    try:
        team = (
            f"generated teams of {args.users} users, {args.apps} apps, "
            f"{args.invitations} invitations"
            if args.users or args.apps or args.invitations
            else "demo teams"
        )
        print(
            f"{args.teams} {team}; "
            f"{args.latency_ms} ms per API call; {args.concurrency} syncs per worker process"
        )
        print(
            f"{'workers':>7} {'conns':>5} {'first sync':>11} {'conn/min':>8} "
            f"{'re-sync':>8} {'conn/min':>8} {'ok':>4} {'requests':>8}"
        )
        for workers in (1, 2):
            r = throughput(args, tmp, workers)
            print(
                f"{r['workers']:>7} {r['connections']:>5} {r['first_sync_s']:>10}s "
                f"{r['first_per_min']:>8} {r['resync_s']:>7}s {r['resync_per_min']:>8} "
                f"{r['succeeded']:>4} {r['requests']:>8}",
                flush=True,
            )
        if not args.paced:
            return
        p = pacing(args, tmp)
        print()
        print(
            f"pacing: one key, user-hour-lim {p['limit']}, reserve {p['reserve']}, "
            f"{p['syncs_asked']} syncs asked by 2 workers x {args.concurrency}"
        )
        print(
            f"  succeeded {p['succeeded']}, stopped with APP-104 {p['stopped_app_104']}, "
            f"requests served {p['requests_served']} (limit {p['limit']}), "
            f"429s {p['http_429']}, in {p['elapsed_s']} s"
        )
        print(
            f"  another key meanwhile: {p['other_key_succeeded']} succeeded, "
            f"429s {p['other_key_429']}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
