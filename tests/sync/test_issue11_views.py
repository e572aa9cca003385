"""Issue 11 (mirror views): review freshness after a failed sync, readable `connections show`,
filters that refuse unknown values, and one app resolver for every command."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from asc_access.cli.main import app


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def as_json(result: Any) -> Any:
    return json.loads(result.stdout)


def connect(running: Any, name: str = "northwind", key: str = "admin", *extra: str) -> Any:
    k = running.keys[key]
    return cli(
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


def test_review_after_a_failed_sync_names_the_failure_and_the_real_time(sandbox: Any) -> None:
    assert connect(sandbox).exit_code == 0
    assert cli("sync", "northwind").exit_code == 0
    sandbox.revoke_key(sandbox.keys["admin"].key_id)
    assert cli("sync", "northwind").exit_code == 101
    shown = cli("review")
    assert shown.exit_code == 0, shown.output
    print(shown.stdout)
    assert "the latest sync failed" in shown.stdout
    doc = as_json(cli("review", "--json"))
    assert doc["latest_sync"]["northwind"]["status"] == "failed"
    assert doc["connections"]["northwind"] is not None
    never = cli("review", "--connection", "northwind")
    assert "last complete sync just now" in never.stdout


def test_review_without_any_complete_sync_says_none(sandbox: Any) -> None:
    assert connect(sandbox).exit_code == 0
    shown = cli("review")
    assert "northwind: no complete sync yet" in shown.stdout


def test_connections_show_prints_values_not_python_reprs(sandbox: Any) -> None:
    assert connect(sandbox).exit_code == 0
    shown = cli("connections", "show", "northwind")
    assert shown.exit_code == 0, shown.output
    for repr_text in ("{'", "None", "True", "False"):
        assert repr_text not in shown.stdout
    assert "read apps yes" in shown.stdout
    assert "manage users yes" in shown.stdout
    assert "issuer id" in shown.stdout


def test_an_error_off_a_terminal_has_a_colon() -> None:
    result = cli("users", "--app", "nosuchapp")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")


def test_filters_refuse_unknown_values_naming_the_known_ones(sandbox: Any) -> None:
    assert connect(sandbox).exit_code == 0
    assert cli("sync", "northwind").exit_code == 0
    role = cli("users", "--role", "BOGUS")
    assert role.exit_code == 2
    assert "unknown role BOGUS" in role.stderr
    assert "DEVELOPER" in role.stderr
    assert as_json(cli("users", "--role", "developer", "--json"))["count"] > 0
    kind = cli("changes", "--type", "bogus", "--json")
    assert kind.exit_code == 2
    assert "unknown change type bogus" in as_json(kind)["error"]
    assert "user_added" in as_json(kind)["error"]
    assert cli("changes", "--type", "USER_ADDED").exit_code == 0
    assert cli("changes", "--limit", "-1").exit_code == 2
    assert cli("audit", "--connection", "nosuch").exit_code == 2
    assert cli("audit", "--connection", "northwind").exit_code == 0


def test_a_role_apple_sent_that_the_model_does_not_know_is_still_filterable(
    sandbox: Any,
) -> None:
    from asc_access.config import Settings
    from asc_access.runtime import open_store
    from asc_access.store import schema

    assert connect(sandbox).exit_code == 0
    assert cli("sync", "northwind").exit_code == 0
    engine = open_store(Settings.from_env())
    with engine.begin() as conn:
        conn.execute(
            schema.users.update()
            .where(schema.users.c.username.like("kenji%"))
            .values(roles=["DEVELOPER", "NEW_APPLE_ROLE"])
        )
    found = as_json(cli("users", "--role", "NEW_APPLE_ROLE", "--json"))
    assert [u["email"].split("@")[0] for u in found["users"]] == ["kenji.watanabe"]
    other = cli("users", "--role", "NEW_APPLE_ROLE", "--email", "sofia", "--json")
    assert other.exit_code == 0, other.output
    assert as_json(other)["count"] == 0


def test_users_app_takes_an_id_a_bundle_id_or_a_name_any_case(sandbox: Any) -> None:
    assert connect(sandbox).exit_code == 0
    assert cli("sync", "northwind").exit_code == 0
    apps = as_json(cli("apps", "--json"))["apps"]
    ledger = next(a for a in apps if a["bundle_id"] == "com.northwindlabs.ledger")
    results = [
        {u["email"] for u in as_json(cli("users", "--app", ref, "--json"))["users"]}
        for ref in (ledger["id"], "COM.northwindlabs.Ledger", ledger["name"].upper())
    ]
    assert results[0] == results[1] == results[2]
    assert "kenji.watanabe@northwindlabs.example.com" in results[0]


def test_the_same_key_twice_is_refused_unless_forced_and_review_counts_once(
    sandbox: Any,
) -> None:
    assert connect(sandbox).exit_code == 0
    assert cli("sync", "northwind").exit_code == 0
    once = as_json(cli("review", "--json"))
    twice = connect(sandbox, "northwind-again")
    assert twice.exit_code == 2, twice.output
    assert "already saved as connection 'northwind'" in as_json(twice)["error"]
    assert [c["name"] for c in as_json(cli("connections", "--json"))["connections"]] == [
        "northwind"
    ]
    forced = connect(sandbox, "northwind-again", "admin", "--force")
    assert forced.exit_code == 0, forced.output
    assert "already saved as connection 'northwind'" in as_json(forced)["warnings"][0]
    human = cli("connect", "third", "--key-id", sandbox.keys["admin"].key_id,
                "--issuer-id", sandbox.keys["admin"].issuer_id, "--private-key-file",
                str(sandbox.keys["admin"].private_key_file), "--api-url", sandbox.base_url,
                "--force")  # fmt: skip
    assert human.exit_code == 0
    assert "Warning:" in human.stderr
    assert cli("sync", "--all").exit_code == 0
    review = as_json(cli("review", "--json"))
    assert review["people"] == once["people"]
    assert review["counts"] == once["counts"]
    assert review["same_team"] == {"northwind-again": "northwind", "third": "northwind"}
    assert "is the same team as northwind" in cli("review").stdout


def test_same_team_means_the_same_issuer_at_the_same_api_url() -> None:
    from datetime import UTC, datetime

    from asc_access.config import Settings
    from asc_access.runtime import open_store
    from asc_access.store import schema
    from asc_access.store.queries import resolve_connections
    from asc_access.store.review import same_team_aliases

    engine = open_store(Settings.from_env())
    now = datetime.now(UTC)
    rows = [
        ("a", "K1", "ISS", "https://api.appstoreconnect.apple.com"),
        ("b", "K2", "ISS", "https://api.appstoreconnect.apple.com/"),  # another key, same team
        ("c", "K1", "ISS", "http://127.0.0.1:8787"),  # a sandbox with that issuer: not Apple
        ("d", "I1", None, "https://api.appstoreconnect.apple.com"),  # individual keys
        ("e", "I2", None, "https://api.appstoreconnect.apple.com"),
        ("f", "I1", None, "https://api.appstoreconnect.apple.com"),
    ]
    with engine.begin() as conn:
        for name, key_id, issuer, url in rows:
            conn.execute(
                schema.connections.insert().values(
                    name=name, key_id=key_id, issuer_id=issuer, key_type="team", api_url=url,
                    sync_interval_seconds=0, healthy=True, created_at=now, updated_at=now,
                )
            )  # fmt: skip
        assert same_team_aliases(conn, resolve_connections(conn)) == {"b": "a", "f": "d"}
