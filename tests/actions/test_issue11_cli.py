"""Issue 11 (provisioning commands), through the real command line against the sandbox:
unknown leavers are errors, every attempt is audited, the desired-state file needs an explicit
``remove_unlisted``, filters and app references are checked, and the prompt reads right."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.helpers import demo
from actions.test_cli import as_json, cli, connect, writes


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The command line's store: the default SQLite file, then a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    from _support.service import postgres_schema

    with postgres_schema(str(request.getfixturevalue("postgres_url"))) as url:
        monkeypatch.setenv("ASC_ACCESS_DATABASE_URL", url)
        yield url


@pytest.fixture
def acme(sandbox: Any, store_url: str) -> Any:
    connect("acme", sandbox)
    sandbox.reset_stats()
    return sandbox


def test_the_prompt_shows_its_default_and_the_plan_title_names_the_file(
    acme: Any, tmp_path: Path
) -> None:
    declined = cli("remove", demo("kenji"), answer="n\n")
    assert "Make these 1 change(s) on App Store Connect? [y/N]" in declined.stderr
    file = tmp_path / "desired.yaml"
    file.write_text(yaml.safe_dump({"connections": {"acme": []}}))
    shown = cli("plan", str(file))
    assert shown.exit_code == 0, shown.output
    assert f"Plan: make the teams match {file}" in shown.stdout
    assert "Plan: plan" not in shown.stdout
    assert writes(acme) == {}
    assert json.loads(cli("plan", str(file), "--json").stdout)["plan"]["action"] == "plan"


def test_a_mistyped_leaver_is_an_error_with_the_closest_address(acme: Any) -> None:
    typo = "sofia.rosi@northwindlabs.example.com"
    result = cli("offboard", typo, "--yes")
    assert result.exit_code == 2, result.output
    assert "no mirrored team has ever had that address" in result.stderr
    assert f"did you mean {demo('sofia')}" in result.stderr
    assert "done" not in result.stdout
    nobody = cli("remove", "nobody@example.com", "--yes", "--json")
    assert nobody.exit_code == 2
    assert "no mirrored team has ever had that address" in as_json(nobody)["error"]
    assert writes(acme) == {}
    assert as_json(cli("audit", "--json"))["entries"] == []


def test_someone_seen_and_gone_is_already_removed(acme: Any) -> None:
    first = cli("offboard", demo("omar"), "--yes", "--json")
    assert first.exit_code == 0, first.output
    again = cli("remove", demo("omar"), "--yes", "--json")
    assert again.exit_code == 0, again.output
    assert [s["outcome"] for s in as_json(again)["steps"]] == ["already"]
    newest = as_json(cli("audit", "--json"))["entries"][0]
    assert (newest["action"], newest["target"], newest["actor"]) == (
        "remove",
        demo("omar"),
        getpass.getuser(),
    )
    assert [s["outcome"] for s in newest["steps"]] == ["already"]
    typo = cli("set-roles", "sofia.rosi@northwindlabs.example.com", "--role", "DEVELOPER")
    assert typo.exit_code == 2
    assert f"did you mean {demo('sofia')}" in typo.stderr


def test_every_attempt_is_audited_refused_and_already_too(acme: Any, tmp_path: Path) -> None:
    holder = cli("remove", demo("ava"), "--yes", "--json")
    assert holder.exit_code == 1
    assert as_json(holder)["audit_id"] is not None
    assert cli("remove", demo("priya"), "--yes").exit_code == 0
    last = cli("remove", demo("marcus"), "--yes")
    assert last.exit_code == 1
    assert "Refused: nothing was changed. Recorded as audit entry" in last.stdout
    assert cli("remove", demo("marcus"), "--dry-run").exit_code == 1  # a dry run is no attempt
    file = tmp_path / "same.yaml"
    file.write_text(yaml.safe_dump({"connections": {"acme": []}}))
    unchanged = cli("apply", str(file), "--yes")
    assert unchanged.exit_code == 0, unchanged.output
    assert "Nothing to change. Recorded as audit entry" in unchanged.stdout
    entries = as_json(cli("audit", "--json"))["entries"]
    assert [(e["action"], e["status"]) for e in entries] == [
        ("apply", "already"),
        ("remove", "refused"),
        ("remove", "done"),
        ("remove", "refused"),
    ]
    applied, marcus, _, ava = entries
    assert {e["actor"] for e in entries} == {getpass.getuser()}
    assert "last Admin" in marcus["reason"]
    assert marcus["plan"]["refusals"][0]["rule"] == "last_admin"
    assert "Account Holder" in ava["reason"]
    assert applied["reason"] is None
    human = cli("audit")
    assert "refused  " in human.stdout
    assert "is the Account Holder of team acme" in human.stdout
    assert writes(acme) == {"DELETE /v1/users/{id}": 1}


def test_unlisted_people_are_left_alone_unless_the_file_says_remove_unlisted(
    acme: Any, tmp_path: Path
) -> None:
    keep = [
        {
            "email": demo("priya"),
            "first_name": "Priya",
            "last_name": "Raman",
            "roles": ["ADMIN"],
            "provisioning": True,
        }
    ]
    file = tmp_path / "team.yaml"
    file.write_text(yaml.safe_dump({"connections": {"acme": keep}}))
    alone = cli("plan", str(file), "--json")
    assert alone.exit_code == 0, alone.output
    plan = as_json(alone)["plan"]
    assert plan["counts"]["remove"] == 0
    assert any(
        "12 people on team acme are not in the file and left alone" in n
        and "remove_unlisted: true" in n
        for n in plan["notes"]
    ), plan["notes"]
    file.write_text(
        yaml.safe_dump({"connections": {"acme": {"people": keep, "remove_unlisted": True}}})
    )
    removing = as_json(cli("plan", str(file), "--json"))["plan"]
    assert removing["counts"]["remove"] == 12
    file.write_text(yaml.safe_dump({"remove_unlisetd": True, "connections": {"acme": keep}}))
    typo = cli("plan", str(file))
    assert typo.exit_code == 2
    assert "unknown key remove_unlisetd" in typo.stderr
    assert writes(acme) == {}


def test_export_desired_writes_a_starting_file_that_plans_nothing(
    acme: Any, tmp_path: Path
) -> None:
    file = tmp_path / "today.yaml"
    written = cli("export-desired", "--output", str(file))
    assert written.exit_code == 0, written.output
    assert f"Wrote 12 people on 1 team(s) to {file}" in written.stderr
    text = file.read_text()
    assert text.startswith("# Desired state for asc-access")
    document = yaml.safe_load(text)
    assert document["remove_unlisted"] is False
    emails = [p["email"] for p in document["connections"]["acme"]["people"]]
    assert demo("ava") not in emails  # the Account Holder is never listed
    assert demo("lucas") not in emails  # an expired invitation is not carried forward
    assert demo("ella") in emails  # a pending one is
    sofia = next(
        p for p in document["connections"]["acme"]["people"] if p["email"] == demo("sofia")
    )
    assert sorted(sofia["apps"]) == ["com.northwindlabs.trailmix", "com.northwindlabs.weather"]
    planned = cli("plan", str(file), "--json")
    assert planned.exit_code == 0, planned.output
    assert as_json(planned)["plan"]["empty"] is True
    document["remove_unlisted"] = True
    file.write_text(yaml.safe_dump(document))
    strict = as_json(cli("plan", str(file), "--json"))["plan"]
    assert strict["counts"] == {"invite": 0, "change": 0, "remove": 1}  # the expired invitation
    as_file = tmp_path / "today.json"
    assert cli("export-desired", "-c", "acme", "-o", str(as_file)).exit_code == 0
    assert json.loads(as_file.read_text())["connections"]["acme"]["people"]
    stdout = cli("export-desired")
    assert yaml.safe_load(stdout.stdout)["connections"]["acme"]["people"]
    assert writes(acme) == {}


def test_export_desired_needs_a_synced_mirror(sandbox: Any) -> None:
    assert cli("export-desired").exit_code == 2
    key = sandbox.keys["admin"]
    saved = cli(
        "connect", "fresh", "--key-id", key.key_id, "--issuer-id", key.issuer_id,
        "--private-key-file", str(key.private_key_file), "--api-url", sandbox.base_url,
    )  # fmt: skip
    assert saved.exit_code == 0, saved.output
    never = cli("export-desired")
    assert never.exit_code == 2
    assert "run `asc-access sync fresh` first" in never.stderr


def test_an_app_may_be_named_by_id_bundle_id_or_name_in_every_command(
    acme: Any, tmp_path: Path
) -> None:
    invited = cli(
        "invite", "new@northwindlabs.example.com", "--first-name", "N", "--last-name", "H",
        "--role", "DEVELOPER", "-a", "Northwind Weather", "-a", "COM.NORTHWINDLABS.LEDGER",
        "--dry-run", "--json",
    )  # fmt: skip
    assert invited.exit_code == 0, invited.output
    step = as_json(invited)["plan"]["steps"][0]
    assert sorted(step["app_labels"].values()) == [
        "com.northwindlabs.ledger",
        "com.northwindlabs.weather",
    ]
    changed = cli(
        "set-apps", demo("sofia"), "--add", "lumen reader", "--remove", "Trailmix Hiking",
        "--yes", "--json",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert as_json(changed)["steps"][0]["outcome"] == "done"
    sofia = as_json(cli("users", "--email", "sofia", "--json"))["users"][0]
    assert sorted(a["bundle_id"] for a in sofia["apps"]) == [
        "com.northwindlabs.lumen",
        "com.northwindlabs.weather",
    ]
    file = tmp_path / "team.yaml"
    file.write_text(
        yaml.safe_dump(
            {
                "connections": {
                    "acme": [
                        {
                            "email": demo("sofia"),
                            "first_name": "Sofia",
                            "last_name": "Rossi",
                            "roles": ["DEVELOPER"],
                            "apps": ["Lumen Reader", "com.northwindlabs.weather"],
                            "provisioning": True,
                        }
                    ]
                }
            }
        )
    )
    planned = cli("plan", str(file), "--json")
    assert planned.exit_code == 0, planned.output
    assert as_json(planned)["plan"]["empty"] is True, planned.stdout
    missing = cli("set-apps", demo("sofia"), "--add", "No Such App", "--yes")
    assert missing.exit_code == 2
    assert "give an app id, a bundle id or an app name" in missing.stderr
