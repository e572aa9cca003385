"""``workers status`` and ``scheduler --once`` through the command line (no worker running)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from asc_access.cli.main import app
from workers._helpers import add_connection


def test_commands_need_a_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["workers", "status", "--json"])
    assert result.exit_code == 2
    assert "ASC_ACCESS_BROKER_URL" in json.loads(result.stdout)["error"]


def test_status_and_scheduler_once(
    worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in worker_env.items():
        monkeypatch.setenv(name, value)
    from asc_access.config import Settings
    from asc_access.store.db import open_engine

    engine = open_engine(Settings.from_env())
    add_connection(engine, "acme", interval=900)
    add_connection(engine, "manual-only", interval=0)
    engine.dispose()
    runner = CliRunner()

    queued = runner.invoke(app, ["scheduler", "--once", "--json"])
    assert queued.exit_code == 0, queued.output
    (doc,) = json.loads(queued.stdout)["queued"]
    assert doc["connection"] == "acme"
    assert doc["request_key"] == f"schedule:{doc['connection_id']}:0"
    again = runner.invoke(app, ["scheduler", "--once", "--json"])
    assert json.loads(again.stdout) == {"queued": []}

    status = runner.invoke(app, ["workers", "status", "--json", "--timeout", "0.3"])
    assert status.exit_code == 1  # no worker answers: a probe must fail
    report = json.loads(status.stdout)
    assert report["ok"] is False
    assert report["workers"] == []
    assert report["queue"]["depth"] == 1
    assert "@" not in report["broker"] or "***" in report["broker"]
    assert [c["name"] for c in report["connections"]] == ["acme", "manual-only"]
    assert report["connections"][0]["last_success"] is None
