"""Budget admission in one process: syncs the budget cannot cover wait, they never fail.

Thirty connections share one key of a sandbox whose limit is 60 requests in a
rolling window shortened to a few seconds; the client keeps a reserve of 10, so
50 requests can be spent per window and each sync of the demo team costs 3:
sixteen fit. Sixteen complete, the others are deferred (nothing spent, no failed
run) and complete once the window has refilled.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from tests.workers._helpers import connect_sandbox_key

from asc_access.api import PacingBudget
from asc_access.cli.sync_run import run_syncs
from asc_access.config import Settings
from asc_access.runtime import open_store
from asc_access.store.refs import resolve_refs
from asc_access.store.runs import list_runs
from asc_access.sync.admission import MINIMUM_COST, expected_cost

WINDOW = 4.0


def test_sixteen_fit_the_rest_wait_for_the_next_window(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    team = sandbox_factory()
    team._call("POST", "rate-limit", {"limit": 60, "window_seconds": int(WINDOW)})
    settings = Settings.from_env({"ASC_ACCESS_HOME": str(tmp_path / "home")})
    engine = open_store(settings)
    names = [f"conn{i:02d}" for i in range(30)]
    for name in names:
        connect_sandbox_key(engine, settings, name, team, team.keys["admin"])
    team.reset_stats()
    budget = PacingBudget(reserve=10, window=WINDOW)

    def sync(targets: list[str]) -> list[Any]:
        return asyncio.run(
            run_syncs(
                engine,
                settings,
                resolve_refs(engine, targets),
                console=None,
                budget=budget,
            )
        )

    first = sync(names)
    done = [o.name for o in first if o.result is not None]
    deferred = [o for o in first if o.deferred is not None]
    assert [o for o in first if o.error is not None] == []
    assert len(done) == 16
    assert len(deferred) == 14
    assert team.stats()["requests"] == 16 * 3  # nothing spent on the deferred ones
    assert all(0 < o.deferred.wait_seconds <= WINDOW for o in deferred)
    assert all(o.as_dict()["status"] == "deferred" for o in deferred)
    assert "deferred until" in str(deferred[0].deferred)

    waiting = [o.name for o in deferred]
    for _ in range(6):  # the window refills as its oldest requests age out
        if not waiting:
            break
        time.sleep(max(o.deferred.wait_seconds for o in first if o.deferred) + 0.1)
        first = sync(waiting)
        assert [o for o in first if o.error is not None] == []
        waiting = [o.name for o in first if o.deferred is not None]
    assert waiting == []

    stats = team.stats()
    assert stats["requests"] == 30 * 3
    assert "429" not in stats["by_status"]
    with engine.connect() as conn:
        runs = list_runs(conn, limit=100)
    assert len(runs) == 30
    assert {r.status for r in runs} == {"succeeded"}
    assert all(expected_cost(engine, r.connection_id) == 3 for r in runs)


def test_expected_cost_is_the_last_runs_count_else_the_minimum(tmp_path: Path) -> None:
    settings = Settings.from_env({"ASC_ACCESS_HOME": str(tmp_path / "home")})
    engine = open_store(settings)
    assert expected_cost(engine, 12345) == MINIMUM_COST


def test_a_budget_holds_what_it_admitted() -> None:
    now = [1000.0]
    budget = PacingBudget(reserve=10, window=60.0, clock=lambda: now[0])
    from asc_access.errors import RateLimitSnapshot

    assert budget.admit("K", 30, "a") is None  # nothing known yet: admitted
    budget.observe("K", RateLimitSnapshot(limit=60, remaining=60))
    assert budget.admit("K", 20, "b") is None  # 60 - 10 reserve - 30 held = 20
    assert budget.admit("K", 1, "c") is not None  # all held
    budget.release("K", "a")
    assert budget.admit("K", 1, "c") is None
