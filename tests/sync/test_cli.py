"""The mirror commands through the real command line, against the sandbox.

SQLite and PostgreSQL both, through ``ASC_ACCESS_DATABASE_URL``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from asc_access.cli.main import app
from asc_access.cli.sync_cmd import parse_since
from asc_access.errors import UsageError

DOMAIN = "northwindlabs.example.com"


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def as_json(result: Any) -> Any:
    return json.loads(result.stdout)


def connect(running: Any, name: str = "northwind", key: str = "admin", *extra: str) -> None:
    k = running.keys[key]
    result = cli(
        "connect",
        name,
        "--key-id",
        k.key_id,
        "--issuer-id",
        k.issuer_id,
        "--private-key-file",
        str(k.private_key_file),
        "--api-url",
        running.base_url,
        "--json",
        *extra,
    )
    assert result.exit_code == 0, result.output


@pytest.fixture
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the command line at the test database (SQLite file or PostgreSQL schema)."""
    monkeypatch.setenv("ASC_ACCESS_DATABASE_URL", db_url)
    return db_url


def test_sync_and_every_reading_command(database: str, sandbox: Any, tmp_path: Path) -> None:
    connect(sandbox)
    first = cli("sync", "northwind", "--json")
    assert first.exit_code == 0, first.output
    doc = as_json(first)
    assert doc["ok"] is True
    assert doc["baseline"] is True
    assert doc["counts"] == {"users": 12, "invitations": 2, "apps": 6}
    assert doc["requests_used"] == doc["lower_bound"] == 3
    assert doc["rate_limit"]["limit"] == 3600

    users = as_json(cli("users", "--json"))
    assert users["count"] == 12
    admins = as_json(cli("users", "--role", "ADMIN", "--json"))
    assert {u["email"].split("@")[0] for u in admins["users"]} == {
        "ava.thompson",
        "priya.raman",
        "marcus.okafor",
    }
    sofia = as_json(cli("users", "--email", "sofia", "--json"))["users"][0]
    assert sorted(a["name"] for a in sofia["apps"]) == ["Northwind Weather", "Trailmix Hiking"]
    lumen = as_json(cli("users", "--app", "com.northwindlabs.lumen", "--json"))["users"]
    assert f"omar.haddad@{DOMAIN}" in {u["email"] for u in lumen}
    assert f"sofia.rossi@{DOMAIN}" not in {u["email"] for u in lumen}
    everyone = as_json(cli("users", "--all-apps", "--json"))["users"]
    assert all(u["all_apps_visible"] or "FINANCE" in u["roles"] for u in everyone)
    expired = as_json(cli("invitations", "--expired", "--json"))["invitations"]
    assert [i["email"] for i in expired] == [f"lucas.moreau@{DOMAIN}"]
    pending = as_json(cli("invitations", "--pending", "--json"))["invitations"]
    assert [i["email"] for i in pending] == [f"ella.johansson@{DOMAIN}"]
    assert as_json(cli("apps", "--json"))["count"] == 6
    assert as_json(cli("changes", "--json"))["changes"] == []

    sandbox.accept_invitation(pending[0]["id"])
    second = cli("sync")  # the only connection: no name needed
    assert second.exit_code == 0, second.output
    assert "accepted" in second.stdout
    assert "changes: 2" in second.stdout
    changes = as_json(cli("changes", "--since", "1h", "--json"))["changes"]
    assert sorted(c["type"] for c in changes) == ["invitation_accepted", "user_added"]
    human = cli("changes")
    assert "ella.johansson" in human.stdout

    exported = as_json(cli("export", "--format", "json"))
    assert len(exported) == 14  # 13 members and the expired invitation
    assert {row["status"] for row in exported} == {"member", "invited"}
    assert set(exported[0]) == {
        "connection",
        "email",
        "first_name",
        "last_name",
        "status",
        "roles",
        "all_apps_visible",
        "provisioning_allowed",
        "apps",
        "synced_at",
    }
    csv_text = cli("export", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("connection,email,first_name,last_name,status")
    assert len(csv_text.splitlines()) == 15

    staff = tmp_path / "staff.csv"
    staff.write_text("email\n" + "\n".join(r["email"] for r in exported[:5]) + "\n")
    review = as_json(cli("review", "--directory", str(staff), "--json"))
    assert review["counts"]["privileged"] == 3
    assert review["counts"]["not_in_directory"] == 14 - 5 - 1  # the expired invitation aside
    assert "Account Holder" in cli("review").stdout


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        pytest.param({"status": 500}, 105, "APP-105", id="500"),
        pytest.param({"status": 429}, 104, "APP-104", id="429"),
        pytest.param({"drop": True}, 106, "APP-106", id="dropped"),
        pytest.param({"malformed": True}, 107, "APP-107", id="malformed"),
    ],
)
def test_a_failed_sync_exits_with_its_code_and_keeps_the_picture(
    tmp_path: Path, sandbox: Any, fault: dict[str, Any], status: int, code: str
) -> None:
    connect(sandbox)
    assert cli("sync", "northwind").exit_code == 0
    before = as_json(cli("export", "--format", "json"))
    sandbox.add_fault(path_prefix="/v1/userInvitations", **fault)
    failed = cli("sync", "northwind", "--json")
    assert failed.exit_code == status, failed.output
    doc = as_json(failed)
    assert (doc["ok"], doc["code"]) == (False, code)
    if status == 105:  # the human summary once (each failing sync waits out the retries)
        human = cli("sync", "northwind")
        assert human.exit_code == status
        assert code in human.stdout
        assert "untouched" in human.stdout
    assert as_json(cli("export", "--format", "json")) == before
    assert as_json(cli("changes", "--json"))["changes"] == []
    sandbox.clear_faults()
    assert cli("sync", "northwind").exit_code == 0


@pytest.mark.parametrize("offset", [-3600, 3600])
def test_a_sync_refused_for_a_wrong_clock_says_so(sandbox: Any, offset: int) -> None:
    """Apple's 401 is opaque; its Date header on the refusal names the clock."""
    connect(sandbox)
    assert cli("sync", "northwind").exit_code == 0
    sandbox.set_clock_offset(offset)
    failed = cli("sync", "northwind", "--json")
    assert failed.exit_code == 101, failed.output
    doc = as_json(failed)
    assert (doc["code"], doc["cause"]) == ("APP-101", "clock_skew")
    human = cli("sync", "northwind")
    assert human.exit_code == 101
    assert "clock_skew" in human.stdout
    assert ("ahead of" if offset < 0 else "behind") in human.stdout
    sandbox.set_clock_offset(0)
    assert cli("sync", "northwind").exit_code == 0


def test_usage_errors_exit_2(sandbox: Any) -> None:
    assert cli("sync").exit_code == 2  # no connection yet
    connect(sandbox, "one")
    connect(sandbox, "two", "admin", "--force")  # the same key again: forced (issue 11)
    nameless = cli("sync")
    assert nameless.exit_code == 2
    assert "--all" in nameless.stderr
    assert cli("sync", "nope").exit_code == 2
    assert cli("users", "--app", "com.nowhere").exit_code == 2
    assert cli("invitations", "--pending", "--expired").exit_code == 2
    assert cli("export", "--format", "xml").exit_code == 2
    assert cli("changes", "--since", "yesterday").exit_code == 2
    both = cli("sync", "--all", "--json")
    assert both.exit_code == 0
    assert [s["connection"] for s in as_json(both)["syncs"]] == ["one", "two"]


def test_parse_since() -> None:
    now = datetime(2030, 1, 10, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2w", now) == now - timedelta(weeks=2)
    assert parse_since(" 30M ", now) == now - timedelta(minutes=30)
    assert parse_since("2030-01-01", now) == datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(UsageError):
        parse_since("last week", now)


def test_the_demo_tour_runs_end_to_end_twice() -> None:
    first = cli("demo")
    assert first.exit_code == 0, first.output
    out = first.stdout
    for expected in (
        "All good",
        "APP-102",
        "key_role_insufficient",
        "APP-101",
        "saved connection northwind",
        "first sync: this is the baseline",
        "accepted their invitation",
        "Account Holder and Admins",
    ):
        assert expected in out, expected
    again = cli("demo")  # same home: the connection gets the new sandbox's key
    assert again.exit_code == 0, again.output


def test_with_a_broker_sync_is_queued_for_the_workers(
    sandbox: Any, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    from redis import Redis

    connect(sandbox)
    sandbox.reset_stats()
    unique = f"test-sync-cli-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ASC_ACCESS_BROKER_URL", redis_url)
    monkeypatch.setenv("ASC_ACCESS_QUEUE", unique)  # no worker listens here
    monkeypatch.setenv("ASC_ACCESS_KEY_PREFIX", f"{unique}:")
    try:
        result = cli("sync", "northwind", "--json")
        assert result.exit_code == 0, result.output
        doc = as_json(result)
        assert doc["queued"] is True
        assert [(s["connection"], s["status"]) for s in doc["syncs"]] == [("northwind", "queued")]
        assert sandbox.stats()["requests"] == 0  # nothing synced in this process
    finally:
        redis = Redis.from_url(redis_url)
        for key in redis.scan_iter(f"*{unique}*"):
            redis.delete(key)
        redis.close()
