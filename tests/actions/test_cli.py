"""The provisioning commands through typer's CliRunner, against sandboxes over real HTTP.

Connections are saved with the real ``connect`` command (doctor included) and
synced with the sync engine, so the commands run exactly as a user's would.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from actions.helpers import apple_picture, client_for, demo, mirror_picture
from asc_access.cli.main import app
from asc_access.config import Settings
from asc_access.runtime import open_store
from asc_access.store.connections import get_connection
from asc_access.sync import sync_connection

WRITES = ("POST", "PATCH", "DELETE")


def cli(*args: str, answer: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=answer)


def as_json(result: Any) -> Any:
    return json.loads(result.stdout)


def writes(running: Any) -> dict[str, int]:
    routes: dict[str, int] = running.stats()["by_route"]
    return {r: n for r, n in routes.items() if r.split(" ")[0] in WRITES}


def connect(name: str, running: Any) -> int:
    key = running.keys["admin"]
    result = cli(
        "connect",
        name,
        "--key-id",
        key.key_id,
        "--issuer-id",
        key.issuer_id,
        "--private-key-file",
        str(key.private_key_file),
        "--api-url",
        running.base_url,
        "--json",
    )
    assert result.exit_code == 0, result.output
    engine = open_store(Settings.from_env())
    connection_id = get_connection(engine, name).id

    async def sync() -> None:
        async with client_for(running) as client:
            await sync_connection(engine, client, connection_id)

    asyncio.run(sync())
    return connection_id


@pytest.fixture
def acme(sandbox: Any) -> Any:
    connect("acme", sandbox)
    sandbox.reset_stats()
    return sandbox


def test_invite_dry_run_changes_nothing(acme: Any) -> None:
    result = cli(
        "invite",
        "new@northwindlabs.example.com",
        "--first-name",
        "New",
        "--last-name",
        "Hire",
        "--role",
        "DEVELOPER",
        "--app",
        "com.northwindlabs.weather",
        "--dry-run",
        "--json",
    )
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert doc["dry_run"] is True
    assert doc["plan"]["steps"][0]["kind"] == "invite"
    assert doc["plan"]["steps"][0]["reason"] == "new@northwindlabs.example.com is not on team acme"
    assert writes(acme) == {}
    assert as_json(cli("audit", "--json"))["entries"] == []


def test_invite_yes_json_then_already_and_audit(acme: Any) -> None:
    args = (
        "invite",
        "new@northwindlabs.example.com",
        "--first-name",
        "New",
        "--last-name",
        "Hire",
        "--role",
        "developer",
        "--app",
        "com.northwindlabs.weather",
        "--yes",
        "--json",
    )
    first = cli(*args)
    assert first.exit_code == 0, first.output
    doc = as_json(first)
    assert doc["ok"] is True
    assert doc["status"] == "done"
    assert [s["outcome"] for s in doc["steps"]] == ["done"]
    second = as_json(cli(*args))
    assert [s["outcome"] for s in second["steps"]] == ["already"]
    entries = as_json(cli("audit", "--json"))["entries"]
    assert [e["id"] for e in entries] == [second["audit_id"], doc["audit_id"]]
    assert entries[1]["actor"] == getpass.getuser()
    assert entries[1]["connections"] == ["acme"]
    assert entries[1]["steps"][0]["request_ids"]
    human = cli("audit")
    assert human.exit_code == 0
    assert f"#{doc['audit_id']}" in human.stdout
    assert "invite new@northwindlabs.example.com" in human.stdout
    assert "[acme]" in human.stdout  # printed, not eaten as markup


def test_plan_is_shown_before_the_prompt_and_no_means_nothing(acme: Any) -> None:
    args = ("remove", demo("kenji"))
    declined = cli(*args, answer="n\n")
    assert declined.exit_code == 1
    assert "remove kenji.watanabe@northwindlabs.example.com from the team" in declined.stdout
    assert "Make these 1 change(s)" in declined.stderr
    assert "Cancelled: nothing was changed." in declined.stderr
    assert writes(acme) == {}
    accepted = cli(*args, answer="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "done" in accepted.stdout
    assert writes(acme) == {"DELETE /v1/users/{id}": 1}


def test_refusals_exit_1_and_send_nothing(acme: Any) -> None:
    holder = cli("remove", demo("ava"), "--yes", "--json")
    assert holder.exit_code == 1
    doc = as_json(holder)
    assert doc["ok"] is False
    assert doc["plan"]["refusals"][0]["rule"] == "account_holder"
    admin = cli("set-apps", demo("priya"), "--app", "com.northwindlabs.weather", "--yes")
    assert admin.exit_code == 1
    assert "always see all apps" in admin.stdout
    assert "Refused" in admin.stdout
    assert writes(acme) == {}


def test_set_roles_set_apps_cancel_invitation(acme: Any) -> None:
    sofia = demo("sofia")
    roles = as_json(
        cli("set-roles", sofia, "--role", "DEVELOPER", "--role", "MARKETING", "--yes", "--json")
    )
    assert roles["steps"][0]["outcome"] == "done"
    apps = as_json(
        cli(
            "set-apps",
            sofia,
            "--add",
            "com.northwindlabs.lumen",
            "--remove",
            "com.northwindlabs.trailmix",
            "--yes",
            "--json",
        )
    )
    assert apps["steps"][0]["outcome"] == "done"
    cancel = as_json(cli("cancel-invitation", demo("ella"), "--yes", "--json"))
    assert cancel["steps"][0]["outcome"] == "done"
    again = as_json(cli("cancel-invitation", demo("ella"), "--yes", "--json"))
    assert again["steps"][0]["outcome"] == "already"


def test_failed_step_exits_with_its_code(acme: Any) -> None:
    acme.add_fault(status=500, count=10, path_prefix="/v1/userInvitations", method="POST")
    result = cli(
        "invite",
        "new@northwindlabs.example.com",
        "--first-name",
        "N",
        "--last-name",
        "H",
        "--role",
        "SALES",
        "--all-apps",
        "--yes",
        "--json",
    )
    assert result.exit_code == 105, result.output
    doc = as_json(result)
    assert doc["status"] == "failed"
    assert doc["steps"][0]["code"] == "APP-105"
    assert doc["steps"][0]["error"]["status"] == 500


def test_usage_errors_exit_2(acme: Any, sandbox_factory: Callable[..., Any]) -> None:
    bad_role = cli(
        "invite", "x@y.z", "--first-name", "X", "--last-name", "Y", "--role", "BOSS", "--json"
    )
    assert bad_role.exit_code == 2
    assert "unknown role BOSS" in as_json(bad_role)["error"]
    connect("second", sandbox_factory())
    which = cli("remove", demo("kenji"), "--yes")
    assert which.exit_code == 2
    assert "name one with --connection (acme, second)" in which.stderr


def test_offboard_every_connected_team(sandbox_factory: Callable[..., Any]) -> None:
    running = {name: sandbox_factory() for name in ("north", "south", "east")}
    ids = {name: connect(name, sb) for name, sb in running.items()}
    result = cli("offboard", demo("omar"), "--yes", "--json")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert doc["plan"]["connections"] == ["east", "north", "south"]
    assert [(s["connection"], s["outcome"]) for s in doc["steps"]] == [
        ("east", "done"),
        ("north", "done"),
        ("south", "done"),
    ]
    only = as_json(cli("offboard", demo("omar"), "-c", "north", "--yes", "--json"))
    assert [(s["connection"], s["outcome"]) for s in only["steps"]] == [("north", "already")]
    engine = open_store(Settings.from_env())
    for name, sb in running.items():
        assert mirror_picture(engine, ids[name]) == asyncio.run(apple_picture(sb))
    (newest, first) = as_json(cli("audit", "--json"))["entries"]
    assert newest["connections"] == ["north"]
    assert first["action"] == "offboard"
    assert [s["outcome"] for s in first["steps"]] == ["done", "done", "done"]


def test_plan_and_apply_file(acme: Any, tmp_path: Path) -> None:
    file = tmp_path / "team.yaml"
    # only the Account Holder's colleagues who are admins stay, plus one new person
    file.write_text(
        yaml.safe_dump(
            {
                "remove_unlisted": True,
                "connections": {
                    "acme": [
                        {
                            "email": demo("priya"),
                            "first_name": "Priya",
                            "last_name": "Raman",
                            "roles": ["ADMIN"],
                            "provisioning": True,
                        },
                        {
                            "email": demo("marcus"),
                            "first_name": "Marcus",
                            "last_name": "Okafor",
                            "roles": ["ADMIN"],
                        },
                        {
                            "email": "new@northwindlabs.example.com",
                            "first_name": "N",
                            "last_name": "W",
                            "roles": ["DEVELOPER"],
                            "apps": ["com.northwindlabs.weather"],
                        },
                    ]
                },
            }
        )
    )
    shown = cli("plan", str(file))
    assert shown.exit_code == 0, shown.output
    assert "1 to invite, 0 to change, 11 to remove" in shown.stdout
    assert "+ invite new@northwindlabs.example.com" in shown.stdout
    assert "- remove sofia.rossi@northwindlabs.example.com" in shown.stdout
    assert "ava.thompson" not in shown.stdout
    assert writes(acme) == {}
    planned = as_json(cli("plan", str(file), "--json"))
    assert planned["plan"]["counts"] == {"invite": 1, "change": 0, "remove": 11}
    applied = cli("apply", str(file), "--yes", "--json")
    assert applied.exit_code == 0, applied.output
    assert as_json(applied)["status"] == "done"
    again = cli("apply", str(file), "--yes")
    assert again.exit_code == 0
    assert "Nothing to change." in again.stdout
    assert as_json(cli("plan", str(file), "--json"))["plan"]["empty"] is True


def test_json_with_a_prompt_keeps_stdout_one_document(acme: Any) -> None:
    result = cli("remove", demo("kenji"), "--json", answer="y\n")
    assert result.exit_code == 0, result.output
    assert as_json(result)["steps"][0]["outcome"] == "done"
    assert "Make these 1 change(s)" in result.stderr


def test_offboard_goes_on_when_one_team_cannot_be_read(
    sandbox_factory: Callable[..., Any],
) -> None:
    running = {name: sandbox_factory() for name in ("north", "south")}
    for name, sb in running.items():
        connect(name, sb)
    running["south"].revoke_key(running["south"].keys["admin"].key_id)
    result = cli("offboard", demo("omar"), "--yes", "--json")
    assert result.exit_code == 101, result.output
    doc = as_json(result)
    assert doc["ok"] is False
    assert [(s["connection"], s["outcome"]) for s in doc["steps"]] == [("north", "done")]
    (refusal,) = doc["plan"]["refusals"]
    assert (refusal["connection"], refusal["rule"], refusal["code"]) == (
        "south",
        "unreadable",
        "APP-101",
    )
    assert "may still have access there" in refusal["reason"]
    human = cli("offboard", demo("omar"), "--dry-run")
    assert human.exit_code == 101
    assert "! not covered (unreadable)" in human.stdout
