"""Desired-state files: parsing, Terraform-like plans, apply twice, safety."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from asc_access.actions import (
    Outcome,
    Rule,
    StepKind,
    Team,
    execute_plan,
    load_desired_state,
    parse_desired_state,
    plan_desired_state,
)
from asc_access.errors import NotFoundLocallyError, UsageError


def current_people() -> list[dict[str, Any]]:
    """The demo fake team exactly as it is (Account Holder left out)."""
    return [
        {"email": "admin1@example.com", "first_name": "A", "last_name": "1", "roles": ["ADMIN"]},
        {"email": "admin2@example.com", "first_name": "A", "last_name": "2", "roles": ["ADMIN"]},
        {
            "email": "dev@example.com",
            "first_name": "D",
            "last_name": "V",
            "roles": ["DEVELOPER"],
            "apps": ["com.example.app1", "1002"],
        },
        {
            "email": "many@example.com",
            "first_name": "M",
            "last_name": "Y",
            "roles": ["DEVELOPER"],
            "apps": [str(1000 + n) for n in range(1, 56)],
        },
        {"email": "finance@example.com", "first_name": "F", "last_name": "N", "roles": ["FINANCE"]},
        {
            "email": "pending@example.com",
            "first_name": "P",
            "last_name": "Q",
            "roles": ["DEVELOPER"],
            "apps": ["1001"],
        },
    ]


def doc(people: list[dict[str, Any]]) -> dict[str, Any]:
    return {"remove_unlisted": True, "connections": {"acme": {"people": people}}}


async def plan_for(apple: Any, people: list[dict[str, Any]], force: bool = False) -> Any:
    desired = parse_desired_state(doc(people), "team.yaml")
    return await plan_desired_state(desired, {"acme": Team("acme", apple.source)}, force=force)


async def test_file_matching_the_team_plans_nothing_even_for_capped_lists(apple: Any) -> None:
    plan = await plan_for(apple, current_people())
    assert plan.is_empty, plan.describe()
    assert plan.counts_text() == "no changes"


async def test_plan_shows_invites_changes_and_removals(apple: Any) -> None:
    people = current_people()
    people = [p for p in people if p["email"] != "finance@example.com"]
    people[2]["roles"] = ["DEVELOPER", "MARKETING"]  # dev: change
    people[4]["apps"] = ["1001", "1003"]  # pending: cancel + re-invite
    people.append(
        {
            "email": "new@example.com",
            "first_name": "N",
            "last_name": "W",
            "roles": ["SALES"],
            "all_apps": True,
        }
    )
    plan = await plan_for(apple, people)
    summary = [(s.kind, s.email) for s in plan.steps]
    assert summary == [
        (StepKind.UPDATE_USER, "dev@example.com"),
        (StepKind.CANCEL_INVITATION, "pending@example.com"),
        (StepKind.INVITE, "pending@example.com"),
        (StepKind.INVITE, "new@example.com"),
        (StepKind.REMOVE_USER, "finance@example.com"),
    ]
    assert plan.counts() == {"invite": 2, "change": 1, "remove": 2}
    lines = plan.describe()
    assert lines[0].endswith("2 to invite, 1 to change, 2 to remove")
    assert any(line.strip().startswith("- remove finance@example.com") for line in lines)
    assert any(line.strip().startswith("~ change dev@example.com") for line in lines)


async def test_apply_twice_second_plan_is_empty(apple: Any) -> None:
    people = current_people()[:4]  # finance and the invitation go
    people.append(
        {
            "email": "new@example.com",
            "first_name": "N",
            "last_name": "W",
            "roles": ["DEVELOPER"],
            "apps": ["com.example.app7"],
            "provisioning": True,
        }
    )
    plan = await plan_for(apple, people)
    assert plan.changes
    execution = await execute_plan(plan, {"acme": Team("acme", apple.source)}, actor="t")
    assert {r.outcome for r in execution.results} == {Outcome.DONE}
    again = await plan_for(apple, people)
    assert again.is_empty, again.describe()


async def test_unlisted_account_holder_is_never_removed(apple: Any) -> None:
    plan = await plan_for(apple, current_people())
    assert all(s.email != "holder@example.com" for s in plan.steps)


async def test_account_holder_in_file_is_rejected(apple: Any) -> None:
    people = [
        *current_people(),
        {"email": "holder@example.com", "first_name": "H", "last_name": "O", "roles": ["ADMIN"]},
    ]
    with pytest.raises(UsageError, match="Account Holder is never in a desired-state file"):
        await plan_for(apple, people)
    with pytest.raises(UsageError, match="never in a desired-state file"):
        parse_desired_state(
            doc(
                [
                    {
                        "email": "a@b.c",
                        "first_name": "a",
                        "last_name": "b",
                        "roles": ["ACCOUNT_HOLDER"],
                    }
                ]
            ),
            "f",
        )


async def test_removing_every_admin_is_refused_unless_forced(apple: Any) -> None:
    people = current_people()[2:]
    plan = await plan_for(apple, people)
    assert [r.rule for r in plan.refusals] == [Rule.LAST_ADMIN]
    assert plan.blocking_refusals
    assert all("admin" not in s.email for s in plan.steps)
    forced = await plan_for(apple, people, force=True)
    assert not forced.blocking_refusals
    assert sum(1 for s in forced.steps if s.kind is StepKind.REMOVE_USER) == 2


async def test_limiting_an_admin_in_the_file_is_refused(apple: Any) -> None:
    people = current_people()
    people[0]["apps"] = ["1001"]
    plan = await plan_for(apple, people)
    assert [r.rule for r in plan.refusals] == [Rule.ALL_APPS_ROLE]
    assert all(s.email != "admin1@example.com" for s in plan.steps)


@pytest.mark.parametrize(
    ("person", "message"),
    [
        ({"email": "x@y.z", "first_name": "a", "last_name": "b"}, "roles must be"),
        (
            {"email": "x@y.z", "first_name": "a", "last_name": "b", "roles": ["DEVELOPER"]},
            "say which apps",
        ),
        ({"email": "x", "first_name": "a", "last_name": "b", "roles": ["ADMIN"]}, "not an e-mail"),
        ({"email": "x@y.z", "last_name": "b", "roles": ["ADMIN"]}, "first_name is missing"),
        (
            {
                "email": "x@y.z",
                "first_name": "a",
                "last_name": "b",
                "roles": ["ADMIN"],
                "colour": 1,
            },
            "unknown key colour",
        ),
        (
            {
                "email": "x@y.z",
                "first_name": "a",
                "last_name": "b",
                "roles": ["DEVELOPER"],
                "apps": [],
                "all_apps": True,
            },
            "not both",
        ),
    ],
)
def test_bad_people_are_named(person: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        parse_desired_state(doc([person]), "team.yaml")
    assert "team.yaml: connections.acme.people[0]" in str(info.value)


def test_load_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "t.yaml"
    yaml_file.write_text(
        "connections:\n  acme:\n    - email: A@B.C\n      first_name: a\n      last_name: b\n"
        "      roles: ADMIN\n"
    )
    state = load_desired_state(yaml_file)
    assert state.teams["acme"][0].email == "a@b.c"
    assert state.teams["acme"][0].roles == ("ADMIN",)
    json_file = tmp_path / "t.json"
    json_file.write_text(json.dumps(doc(current_people())))
    assert len(load_desired_state(json_file).teams["acme"]) == 6
    broken = tmp_path / "b.yaml"
    broken.write_text("connections: [\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        load_desired_state(broken)
    with pytest.raises(UsageError, match="cannot read"):
        load_desired_state(tmp_path / "missing.yaml")


async def test_unknown_connection_and_unknown_app(apple: Any) -> None:
    desired = parse_desired_state({"connections": {"other": []}}, "f.yaml")
    with pytest.raises(UsageError, match="unknown connection other"):
        await plan_desired_state(desired, {"acme": Team("acme", apple.source)})
    people = current_people()
    people[2]["apps"] = ["com.nope"]
    with pytest.raises(NotFoundLocallyError, match=r"com\.nope"):
        await plan_for(apple, people)
