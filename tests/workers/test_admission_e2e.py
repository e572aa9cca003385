"""Budget admission across two worker processes sharing one key through Redis.

Thirty connections on ONE key of a sandbox whose limit is 60 in a window shortened
to a few seconds (the workers' budget window too), with a reserve of 10: 50
requests a window, 3 a sync, so sixteen fit. The first sixteen complete, the
others are deferred (queued again with a countdown, nothing spent, no failed run)
and complete once the window has refilled.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from _support.sandbox import RunningSandbox
from workers._helpers import connect_sandbox_key, run_rows
from workers.test_celery_e2e import Cluster, cluster, cluster_overrides  # noqa: F401

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

WINDOW = 6


@pytest.mark.parametrize(
    "cluster_overrides",
    [{"ASC_ACCESS_KEY_RESERVE": "10", "ASC_ACCESS_KEY_WINDOW": str(WINDOW)}],
)
def test_two_workers_admit_sixteen_then_the_rest_in_the_next_window(
    cluster: Cluster,  # noqa: F811
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    team = sandbox_factory(latency_ms=10)
    team._call("POST", "rate-limit", {"limit": 60, "window_seconds": WINDOW})
    names = [f"conn{i:02d}" for i in range(30)]
    for name in names:
        connect_sandbox_key(cluster.engine, cluster.settings, name, team, team.keys["admin"])
    team.reset_stats()
    cluster.start_workers(2, concurrency=2)

    started = time.monotonic()
    results: list[dict[str, Any]] = cluster.enqueue(None, wait=True, timeout=120)
    elapsed = time.monotonic() - started

    assert sorted(r["connection"] for r in results) == names
    assert {r["status"] for r in results} == {"succeeded"}, cluster.logs()
    rows = run_rows(cluster.engine)
    assert len(rows) == 30
    assert {row.status for row in rows} == {"succeeded"}  # none failed, none spent in vain
    stats = team.stats()
    assert stats["requests"] == 30 * 3 == sum(row.requests_used for row in rows)
    assert "429" not in stats["by_status"]
    # At most sixteen fit the first window; the others waited for it to refill.
    logs = "\n".join(w.log_path.read_text(errors="replace") for w in cluster.workers)
    deferred = set(re.findall(r"(conn\d\d): deferred until \d\d:\d\d", logs))
    assert len(deferred) >= 14, logs[-3000:]
    assert elapsed > WINDOW / 2
