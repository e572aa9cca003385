"""End to end: desired-state apply (with a fault part-way, and twice) and offboarding
across three sandbox teams in one command. The fault and offboard tests run on SQLite
and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from actions.helpers import apple_picture, client_for, demo, mirror_picture, synced_connection
from asc_access.actions import (
    Outcome,
    StepKind,
    Team,
    execute_plan,
    load_desired_state,
    plan_desired_state,
    plan_offboard,
)
from asc_access.actions.reads import complete_team
from asc_access.store import audit

NEW = [f"new{n}@northwindlabs.example.com" for n in (1, 2, 3)]


async def current_file(running: Any) -> dict[str, Any]:
    """The demo team as a desired-state document (Account Holder left out)."""
    async with client_for(running) as client:
        users, invitations = await complete_team(client)
    people: list[dict[str, Any]] = []
    for user in users:
        if user.is_account_holder:
            continue
        person: dict[str, Any] = {
            "email": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "roles": list(user.roles),
            "provisioning": user.provisioning_allowed,
        }
        if user.all_apps_visible:
            person["all_apps"] = True
        else:
            person["apps"] = list(user.visible_app_ids or ())
        people.append(person)
    for inv in invitations:
        people.append(
            {
                "email": inv.email,
                "first_name": inv.first_name,
                "last_name": inv.last_name,
                "roles": list(inv.roles),
                "provisioning": inv.provisioning_allowed,
                **(
                    {"all_apps": True}
                    if inv.all_apps_visible
                    else {"apps": list(inv.visible_app_ids or ())}
                ),
            }
        )
    return {"remove_unlisted": True, "connections": {"acme": {"people": people}}}


def write_file(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


async def plan_file(path: Path, team: Team) -> Any:
    return await plan_desired_state(load_desired_state(path), {"acme": team})


async def test_apply_with_a_fault_part_way_then_resume_then_empty(
    any_store: Engine, sandbox: Any, tmp_path: Path
) -> None:
    conn_id = await synced_connection(any_store, sandbox, "acme")
    document = await current_file(sandbox)
    people = document["connections"]["acme"]["people"]
    for person in people:
        if person["email"] == demo("sofia"):
            person["roles"] = ["DEVELOPER", "MARKETING"]
    keep = {demo("kenji"), demo("ella"), demo("lucas")}
    people[:] = [p for p in people if p["email"] not in keep]
    people.extend(
        {
            "email": email,
            "first_name": "New",
            "last_name": f"Person{n}",
            "roles": ["DEVELOPER"],
            "apps": ["com.northwindlabs.weather"],
        }
        for n, email in enumerate(NEW, 1)
    )
    path = write_file(tmp_path, document)

    async with client_for(sandbox) as client:
        team = Team("acme", client, conn_id)
        plan = await plan_file(path, team)
        summary = [(s.kind, s.email) for s in plan.steps]
        assert summary == [
            (StepKind.UPDATE_USER, demo("sofia")),
            (StepKind.INVITE, NEW[0]),
            (StepKind.INVITE, NEW[1]),
            (StepKind.INVITE, NEW[2]),
            (StepKind.REMOVE_USER, demo("kenji")),
            (StepKind.CANCEL_INVITATION, demo("ella")),
            (StepKind.CANCEL_INVITATION, demo("lucas")),
        ]
        # the second invitation POST (and any after it) fails with a 500
        sandbox.add_fault(
            status=500, count=100, after=1, path_prefix="/v1/userInvitations", method="POST"
        )
        execution = await execute_plan(plan, {"acme": team}, engine=any_store, actor="ops")
        sandbox.clear_faults()
    assert execution.status == "partial"

    (entry,) = audit.list_entries(any_store)
    assert entry.status == "partial"
    assert [(s["email"], s["state"], s["outcome"]) for s in entry.steps] == [
        (demo("sofia"), "finished", "done"),
        (NEW[0], "finished", "done"),
        (NEW[1], "finished", "failed"),
        (NEW[2], "not_run", None),
        (demo("kenji"), "not_run", None),
        (demo("ella"), "not_run", None),
        (demo("lucas"), "not_run", None),
    ]
    failed = entry.steps[2]
    assert failed["code"] == "APP-105"
    assert failed["error"]["status"] == 500
    assert failed["request_ids"]
    # exactly those steps reached Apple, and the mirror says the same without a sync
    members, invitations = await apple_picture(sandbox)
    invited = {inv[0] for inv in invitations}
    assert NEW[0] in invited
    assert NEW[1] not in invited
    assert demo("kenji") in {m[0] for m in members}
    assert mirror_picture(any_store, conn_id) == (members, invitations)

    async with client_for(sandbox) as client:
        team = Team("acme", client, conn_id)
        rest = await plan_file(path, team)
        assert [(s.kind, s.email) for s in rest.steps] == summary[2:]
        again = await execute_plan(rest, {"acme": team}, engine=any_store, actor="ops")
        assert {r.outcome for r in again.results} == {Outcome.DONE}
        assert (await plan_file(path, team)).is_empty
    assert mirror_picture(any_store, conn_id) == await apple_picture(sandbox)


async def test_apply_twice_second_plan_is_empty(
    store: Engine, sandbox: Any, tmp_path: Path
) -> None:
    conn_id = await synced_connection(store, sandbox, "acme")
    document = await current_file(sandbox)
    people = document["connections"]["acme"]["people"]
    for person in people:
        if person["email"] == demo("chloe"):
            person["apps"] = ["com.northwindlabs.studio"]
        if person["email"] == demo("ella"):  # pending: access differs -> cancel + re-invite
            person["apps"] = ["com.northwindlabs.weather", "com.northwindlabs.lumen"]
    people[:] = [p for p in people if p["email"] != demo("omar")]
    path = write_file(tmp_path, document)
    async with client_for(sandbox) as client:
        team = Team("acme", client, conn_id)
        first = await plan_file(path, team)
        # Chloe changes; Ella's invitation differs and Lucas's expired: both re-sent; Omar goes
        assert first.counts() == {"invite": 2, "change": 1, "remove": 3}
        assert "expired" in next(s.reason for s in first.steps if s.email == demo("lucas"))
        execution = await execute_plan(first, {"acme": team}, engine=store, actor="ops")
        assert execution.status == "done"
        second = await plan_file(path, team)
        assert second.is_empty, second.describe()
        assert second.steps == ()
    assert mirror_picture(store, conn_id) == await apple_picture(sandbox)


async def test_offboard_across_three_teams_in_one_command(
    any_store: Engine, sandbox_factory: Any
) -> None:
    kenji = demo("kenji")
    running = {name: sandbox_factory(seed="demo") for name in ("north", "south", "east")}
    ids = {name: await synced_connection(any_store, sb, name) for name, sb in running.items()}
    # on "east" Kenji left and was invited back: there he is a pending invitation
    async with client_for(running["east"]) as client:
        (user,) = await client.users.list(username=kenji)
        await client.users.delete(user.id)
        await client.invitations.create(
            email=kenji,
            first_name="Kenji",
            last_name="Watanabe",
            roles=["DEVELOPER"],
            all_apps_visible=True,
        )
    clients = {name: client_for(sb) for name, sb in running.items()}
    try:
        teams = {name: Team(name, clients[name], ids[name]) for name in running}
        plan = await plan_offboard(list(teams.values()), kenji)
        assert [(s.connection, s.kind) for s in plan.steps] == [
            ("north", StepKind.REMOVE_USER),
            ("south", StepKind.REMOVE_USER),
            ("east", StepKind.CANCEL_INVITATION),
        ]
        execution = await execute_plan(plan, teams, engine=any_store, actor="hr-bot")
        assert [r.outcome for r in execution.results] == [Outcome.DONE] * 3
        again = await plan_offboard(list(teams.values()), kenji)
        repeat = await execute_plan(again, teams, engine=any_store, actor="hr-bot")
        assert [r.outcome for r in repeat.results] == [Outcome.ALREADY] * 3
    finally:
        for client in clients.values():
            await client.aclose()

    for name, sb in running.items():
        members, invitations = await apple_picture(sb)
        assert kenji not in {m[0] for m in members} | {i[0] for i in invitations}
        assert mirror_picture(any_store, ids[name]) == (members, invitations)
    first, second = reversed(audit.list_entries(any_store))
    assert first.action == "offboard"
    assert first.actor == "hr-bot"
    assert first.connections == ("north", "south", "east")
    assert first.status == "done"
    assert [(s["connection"], s["kind"], s["outcome"]) for s in first.steps] == [
        ("north", "remove_user", "done"),
        ("south", "remove_user", "done"),
        ("east", "cancel_invitation", "done"),
    ]
    assert all(s["request_ids"] for s in first.steps)
    assert [s["outcome"] for s in second.steps] == ["already"] * 3


async def test_desired_plan_notes_a_stale_mirror(
    store: Engine, sandbox: Any, tmp_path: Path
) -> None:
    conn_id = await synced_connection(store, sandbox, "acme")
    path = write_file(tmp_path, await current_file(sandbox))
    async with client_for(sandbox) as client:
        team = Team("acme", client, conn_id, store)
        assert (await plan_file(path, team)).notes == ()
        await client.invitations.create(
            email="walk.in@northwindlabs.example.com",
            first_name="W",
            last_name="I",
            roles=["SALES"],
            all_apps_visible=True,
        )
        plan = await plan_file(path, team)
    expected = (
        "the mirror of team acme was out of date for 1 person "
        "(walk.in@northwindlabs.example.com); this plan follows Apple"
    )
    assert plan.notes == (expected,)
    walk_in = (StepKind.CANCEL_INVITATION, "walk.in@northwindlabs.example.com")
    assert walk_in in [(s.kind, s.email) for s in plan.steps]


async def test_offboard_failure_on_one_team_is_partial(store: Engine, sandbox_factory: Any) -> None:
    sofia = demo("sofia")
    running = {name: sandbox_factory() for name in ("north", "south")}
    ids = {name: await synced_connection(store, sb, name) for name, sb in running.items()}
    running["north"].add_fault(status=500, count=20, path_prefix="/v1/users/", method="DELETE")
    async with client_for(running["north"]) as north, client_for(running["south"]) as south:
        teams = {
            "north": Team("north", north, ids["north"]),
            "south": Team("south", south, ids["south"]),
        }
        plan = await plan_offboard(list(teams.values()), sofia)
        execution = await execute_plan(plan, teams, engine=store, actor="hr")
    assert [(r.step.connection, r.outcome) for r in execution.results] == [
        ("north", Outcome.FAILED),
        ("south", Outcome.DONE),
    ]
    assert execution.results[0].code == "APP-105"
    (entry,) = audit.list_entries(store)
    assert entry.status == "partial"
    running["north"].clear_faults()
    for name, sb in running.items():
        assert mirror_picture(store, ids[name]) == await apple_picture(sb)
