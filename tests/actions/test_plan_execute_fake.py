"""Planner and executor against the in-memory Apple (conftest.FakeApple).

These pin the logic: plans, outcomes, safety refusals before any write,
verification, dependency skipping and the audit trail. The same behaviours
are exercised end to end against the sandbox in test_e2e_*.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from asc_access.actions import (
    Access,
    Outcome,
    Plan,
    Rule,
    StepKind,
    Team,
    execute_plan,
    plan_cancel_invitation,
    plan_invite,
    plan_offboard,
    plan_remove,
    plan_set_apps,
    plan_set_roles,
)
from asc_access.errors import (
    ActionError,
    AppleError,
    ConflictError,
    NotFoundLocallyError,
    ResourceNotFoundError,
    ServerError,
    UsageError,
)
from asc_access.store import audit
from asc_access.store.db import ensure_schema, make_engine


def team(apple: Any, name: str = "acme") -> Team:
    return Team(name, apple.source)


async def run(plan: Plan, apple: Any, engine: Engine | None = None, name: str = "acme") -> Any:
    return await execute_plan(plan, {name: team(apple, name)}, engine=engine, actor="tester")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    ensure_schema(eng)
    return eng


def server_error(method: str, path: str) -> ServerError:
    return ServerError(
        "boom",
        method=method,
        path=path,
        status=500,
        errors=(AppleError(status="500", code="UNEXPECTED_ERROR"),),
        request_id="req-500",
    )


# -- invite --


async def test_invite_new_person_is_done_verified_and_carries_request_ids(apple: Any) -> None:
    plan = await plan_invite(
        team(apple),
        "New@Example.com",
        first_name="New",
        last_name="Person",
        roles=["developer"],
        apps=["com.example.app1", "1003"],
    )
    assert [s.kind for s in plan.steps] == [StepKind.INVITE]
    step = plan.steps[0]
    assert step.email == "new@example.com"
    assert step.after == Access.of(["DEVELOPER"], all_apps_visible=False, app_ids=["1001", "1003"])
    assert "not on team acme" in step.reason
    execution = await run(plan, apple)
    result = execution.results[0]
    assert result.outcome is Outcome.DONE, result.message
    assert "verified" in result.message
    assert result.request_ids  # Apple's request id of the POST
    assert apple.writes == [("POST", "/v1/userInvitations")]
    invs = [i for i in apple.invitations.values() if i.email == "new@example.com"]
    assert len(invs) == 1
    assert invs[0].visible_app_ids == ("1001", "1003")
    assert execution.status == "done"


async def test_invite_pending_with_same_access_is_already(apple: Any) -> None:
    plan = await plan_invite(
        team(apple),
        "pending@example.com",
        first_name="P",
        last_name="Q",
        roles=["DEVELOPER"],
        apps=["1001"],
    )
    assert plan.steps[0].satisfied
    assert plan.steps[0].reason == "already invited with the same access"
    assert not plan.changes
    execution = await run(plan, apple)
    assert execution.results[0].outcome is Outcome.ALREADY
    assert apple.writes == []


async def test_invite_pending_with_different_access_cancels_and_reinvites(apple: Any) -> None:
    plan = await plan_invite(
        team(apple),
        "pending@example.com",
        first_name="P",
        last_name="Q",
        roles=["DEVELOPER"],
        apps=["1001", "1002"],
    )
    kinds = [s.kind for s in plan.steps]
    assert kinds == [StepKind.CANCEL_INVITATION, StepKind.INVITE]
    assert "cancelled and sent again" in plan.steps[0].reason
    assert plan.steps[1].after_steps == (0,)
    execution = await run(plan, apple)
    assert [r.outcome for r in execution.results] == [Outcome.DONE, Outcome.DONE]
    (inv,) = [i for i in apple.invitations.values() if i.email == "pending@example.com"]
    assert inv.visible_app_ids == ("1001", "1002")


async def test_invite_over_expired_invitation_cancels_it_first(apple: Any) -> None:
    apple.add_invitation(
        "late@example.com", ["DEVELOPER"], None, expires=datetime.now(UTC) - timedelta(days=1)
    )
    plan = await plan_invite(
        team(apple),
        "late@example.com",
        first_name="L",
        last_name="A",
        roles=["DEVELOPER"],
        all_apps=True,
    )
    assert [s.kind for s in plan.steps] == [StepKind.CANCEL_INVITATION, StepKind.INVITE]
    assert "expired" in plan.steps[0].reason


async def test_invite_member_with_other_access_is_refused_without_writing(apple: Any) -> None:
    plan = await plan_invite(
        team(apple), "dev@example.com", first_name="D", last_name="V", roles=["ADMIN"]
    )
    assert plan.steps == ()
    assert [r.rule for r in plan.refusals] == [Rule.MEMBER_EXISTS]
    with pytest.raises(ActionError, match="already a member"):
        await run(plan, apple)
    assert apple.writes == []


async def test_invite_member_with_same_access_is_already(apple: Any) -> None:
    plan = await plan_invite(
        team(apple), "admin1@example.com", first_name="A", last_name="B", roles=["ADMIN"]
    )
    execution = await run(plan, apple)
    assert execution.results[0].outcome is Outcome.ALREADY
    assert "already a member" in execution.results[0].message


async def test_invite_limiting_apps_of_admin_is_refused_before_apple(apple: Any) -> None:
    reads_before = apple.reads
    plan = await plan_invite(
        team(apple), "x@example.com", first_name="X", last_name="Y", roles=["ADMIN"], apps=["1001"]
    )
    (refusal,) = plan.refusals
    assert refusal.rule is Rule.ALL_APPS_ROLE
    assert "ADMIN always see all apps" in refusal.reason
    assert apple.reads == reads_before  # refused without asking Apple anything
    with pytest.raises(ActionError):
        await run(plan, apple)
    assert apple.writes == []


async def test_invite_as_account_holder_is_refused(apple: Any) -> None:
    plan = await plan_invite(
        team(apple), "x@example.com", first_name="X", last_name="Y", roles=["ACCOUNT_HOLDER"]
    )
    assert [r.rule for r in plan.refusals] == [Rule.ACCOUNT_HOLDER]


async def test_invite_bad_input_is_a_usage_error(apple: Any) -> None:
    t = team(apple)
    with pytest.raises(UsageError, match="unknown role"):
        await plan_invite(t, "x@example.com", first_name="X", last_name="Y", roles=["BOSS"])
    with pytest.raises(UsageError, match="which apps"):
        await plan_invite(t, "x@example.com", first_name="X", last_name="Y", roles=["DEVELOPER"])
    with pytest.raises(UsageError, match="not an e-mail"):
        await plan_invite(t, "nobody", first_name="X", last_name="Y", roles=["ADMIN"])
    with pytest.raises(NotFoundLocallyError, match=r"no such app on team acme: com\.nope"):
        await plan_invite(
            t,
            "x@example.com",
            first_name="X",
            last_name="Y",
            roles=["DEVELOPER"],
            apps=["com.nope"],
        )


async def test_invite_race_same_invitation_appears_is_already(apple: Any) -> None:
    plan = await plan_invite(
        team(apple),
        "x@example.com",
        first_name="X",
        last_name="Y",
        roles=["DEVELOPER"],
        apps=["1001"],
    )
    apple.add_invitation("x@example.com", ["DEVELOPER"], ["1001"])  # out of band
    execution = await run(plan, apple)
    assert execution.results[0].outcome is Outcome.ALREADY
    assert apple.writes == []


async def test_invite_race_other_invitation_appears_is_refused_as_stale(apple: Any) -> None:
    plan = await plan_invite(
        team(apple),
        "x@example.com",
        first_name="X",
        last_name="Y",
        roles=["DEVELOPER"],
        apps=["1001"],
    )
    apple.add_invitation("x@example.com", ["MARKETING"], ["1002"])
    execution = await run(plan, apple)
    result = execution.results[0]
    assert result.outcome is Outcome.FAILED
    assert result.cause == "changed_since_plan"
    assert apple.writes == []


async def test_apple_conflict_is_failed_with_its_context(apple: Any) -> None:
    plan = await plan_invite(
        team(apple),
        "x@example.com",
        first_name="X",
        last_name="Y",
        roles=["DEVELOPER"],
        apps=["1001"],
    )
    apple.fail["POST /v1/userInvitations"] = ConflictError(
        "duplicate",
        method="POST",
        path="/v1/userInvitations",
        status=409,
        errors=(AppleError("409", "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"),),
        request_id="req-409",
    )
    execution = await run(plan, apple)
    result = execution.results[0]
    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert result.error["status"] == 409
    assert result.error["errors"][0]["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"
    assert result.request_ids == ["req-409"]
    assert execution.status == "failed"


async def test_server_error_after_the_write_landed_is_done_after_read_back(apple: Any) -> None:
    plan = await plan_invite(
        team(apple),
        "x@example.com",
        first_name="X",
        last_name="Y",
        roles=["DEVELOPER"],
        apps=["1001"],
    )
    apple.fail_after["POST /v1/userInvitations"] = server_error("POST", "/v1/userInvitations")
    execution = await run(plan, apple)
    result = execution.results[0]
    assert result.outcome is Outcome.DONE
    assert "read-back shows the change landed" in result.message
    assert apple.writes.count(("POST", "/v1/userInvitations")) == 1  # never retried


async def test_server_error_on_write_is_failed_and_not_retried(apple: Any) -> None:
    plan = await plan_invite(
        team(apple),
        "x@example.com",
        first_name="X",
        last_name="Y",
        roles=["DEVELOPER"],
        apps=["1001"],
    )
    apple.fail["POST /v1/userInvitations"] = server_error("POST", "/v1/userInvitations")
    execution = await run(plan, apple)
    result = execution.results[0]
    assert result.outcome is Outcome.FAILED
    assert result.code == "APP-105"
    assert apple.writes == []


async def test_write_that_does_not_land_is_reported(apple: Any) -> None:
    plan = await plan_remove(team(apple), "dev@example.com")
    uid = plan.steps[0].subject_id
    apple.lose_writes.add(f"DELETE /v1/users/{uid}")
    execution = await run(plan, apple)
    result = execution.results[0]
    assert result.outcome is Outcome.FAILED
    assert result.cause == "not_verified"
    assert "does not show it" in result.message


# -- cancel / remove --


async def test_cancel_invitation_done_then_already(apple: Any) -> None:
    plan = await plan_cancel_invitation(team(apple), "pending@example.com")
    assert [s.kind for s in plan.steps] == [StepKind.CANCEL_INVITATION]
    assert (await run(plan, apple)).results[0].outcome is Outcome.DONE
    again = await plan_cancel_invitation(team(apple), "pending@example.com")
    assert again.steps[0].satisfied
    assert (await run(again, apple)).results[0].outcome is Outcome.ALREADY
    # the first plan run again: its invitation is gone -> already, nothing sent
    writes = list(apple.writes)
    assert (await run(plan, apple)).results[0].outcome is Outcome.ALREADY
    assert apple.writes == writes


async def test_remove_done_then_already(apple: Any) -> None:
    plan = await plan_remove(team(apple), "dev@example.com")
    assert plan.steps[0].kind is StepKind.REMOVE_USER
    assert (await run(plan, apple)).results[0].outcome is Outcome.DONE
    assert not any(u.username == "dev@example.com" for u in apple.users.values())
    again = await plan_remove(team(apple), "dev@example.com")
    assert again.steps[0].satisfied
    execution = await run(again, apple)
    assert execution.results[0].outcome is Outcome.ALREADY
    assert "already removed" in execution.results[0].message


async def test_remove_account_holder_is_refused_before_apple(apple: Any) -> None:
    plan = await plan_remove(team(apple), "holder@example.com")
    assert [r.rule for r in plan.refusals] == [Rule.ACCOUNT_HOLDER]
    assert plan.steps == ()
    with pytest.raises(ActionError, match="Account Holder"):
        await run(plan, apple)
    assert apple.writes == []


async def test_remove_last_admin_needs_force(apple: Any) -> None:
    first = await plan_remove(team(apple), "admin1@example.com")
    assert not first.refusals
    await run(first, apple)
    plan = await plan_remove(team(apple), "admin2@example.com")
    (refusal,) = plan.refusals
    assert refusal.rule is Rule.LAST_ADMIN
    assert refusal.forceable
    with pytest.raises(ActionError, match="last Admin"):
        await run(plan, apple)
    forced = await plan_remove(team(apple), "admin2@example.com", force=True)
    assert forced.changes
    assert (await run(forced, apple)).results[0].outcome is Outcome.DONE


async def test_stale_plan_against_account_holder_fails_at_execution(apple: Any) -> None:
    """A plan made when the person was a developer, executed after they became Account Holder."""
    plan = await plan_remove(team(apple), "dev@example.com")
    uid = plan.steps[0].subject_id
    assert uid is not None
    apple.users[uid] = replace(apple.users[uid], roles=("ACCOUNT_HOLDER",))
    result = (await run(plan, apple)).results[0]
    assert result.outcome is Outcome.FAILED
    assert result.cause == "account_holder"
    assert apple.writes == []


# -- set-roles / set-apps --


async def test_set_roles_done_already_and_last_admin(apple: Any) -> None:
    plan = await plan_set_roles(team(apple), "dev@example.com", ["DEVELOPER", "MARKETING"])
    step = plan.steps[0]
    assert step.before is not None
    assert step.after is not None
    assert step.after.roles == ("DEVELOPER", "MARKETING")
    assert step.after.app_ids == step.before.app_ids
    assert (await run(plan, apple)).results[0].outcome is Outcome.DONE
    again = await plan_set_roles(team(apple), "dev@example.com", ["MARKETING", "DEVELOPER"])
    assert again.steps[0].satisfied
    await run(await plan_remove(team(apple), "admin1@example.com"), apple)
    demote = await plan_set_roles(team(apple), "admin2@example.com", ["DEVELOPER"])
    assert [r.rule for r in demote.refusals] == [Rule.LAST_ADMIN]


async def test_set_roles_on_account_holder_and_invitee(apple: Any) -> None:
    plan = await plan_set_roles(team(apple), "holder@example.com", ["DEVELOPER"])
    assert [r.rule for r in plan.refusals] == [Rule.ACCOUNT_HOLDER]
    with pytest.raises(NotFoundLocallyError, match="pending invitation"):
        await plan_set_roles(team(apple), "pending@example.com", ["DEVELOPER"])


async def test_set_apps_add_on_capped_user_keeps_every_app(apple: Any) -> None:
    """many@ sees 55 apps; the include carries 50. Adding one must keep all 55."""
    plan = await plan_set_apps(team(apple), "many@example.com", add=["com.example.app60"])
    step = plan.steps[0]
    assert step.before is not None
    assert len(step.before.app_ids) == 55
    execution = await run(plan, apple)
    assert execution.results[0].outcome is Outcome.DONE
    (user,) = [u for u in apple.users.values() if u.username == "many@example.com"]
    assert len(user.visible_app_ids) == 56
    assert apple.writes == [("POST", f"/v1/users/{user.id}/relationships/visibleApps")]


async def test_set_apps_remove_and_full_list_on_capped_user(apple: Any) -> None:
    plan = await plan_set_apps(team(apple), "many@example.com", remove=["1055"])
    await run(plan, apple)
    (user,) = [u for u in apple.users.values() if u.username == "many@example.com"]
    assert len(user.visible_app_ids) == 54
    assert "1055" not in user.visible_app_ids
    full = await plan_set_apps(team(apple), "many@example.com", apps=["1001", "1002"])
    assert full.steps[0].after is not None
    assert full.steps[0].after.app_ids == ("1001", "1002")
    await run(full, apple)
    (user,) = [u for u in apple.users.values() if u.username == "many@example.com"]
    assert set(user.visible_app_ids) == {"1001", "1002"}


async def test_set_apps_already_and_all_apps(apple: Any) -> None:
    same = await plan_set_apps(team(apple), "dev@example.com", add=["1001"])
    assert same.steps[0].satisfied
    assert (await run(same, apple)).results[0].outcome is Outcome.ALREADY
    allp = await plan_set_apps(team(apple), "dev@example.com", all_apps=True)
    assert (await run(allp, apple)).results[0].outcome is Outcome.DONE
    with pytest.raises(UsageError, match="sees all apps"):
        await plan_set_apps(team(apple), "dev@example.com", add=["1003"])


async def test_set_apps_for_admin_is_refused_saying_why(apple: Any) -> None:
    plan = await plan_set_apps(team(apple), "admin1@example.com", apps=["1001"])
    (refusal,) = plan.refusals
    assert refusal.rule is Rule.ALL_APPS_ROLE
    assert "always see all apps" in refusal.reason
    plan = await plan_set_apps(team(apple), "finance@example.com", add=["1001"])
    assert plan.refusals[0].rule is Rule.ALL_APPS_ROLE


async def test_set_apps_modes_are_exclusive(apple: Any) -> None:
    with pytest.raises(UsageError):
        await plan_set_apps(team(apple), "dev@example.com", apps=["1001"], add=["1002"])
    with pytest.raises(UsageError):
        await plan_set_apps(team(apple), "dev@example.com")


async def test_update_adapts_relative_step_to_fresh_apps(apple: Any) -> None:
    plan = await plan_set_apps(team(apple), "dev@example.com", add=["1003"])
    (user,) = [u for u in apple.users.values() if u.username == "dev@example.com"]
    await apple.users_api.add_visible_apps(user.id, ["1004"])  # out of band
    apple.writes.clear()
    await run(plan, apple)
    (user,) = [u for u in apple.users.values() if u.username == "dev@example.com"]
    assert set(user.visible_app_ids) == {"1001", "1002", "1003", "1004"}


async def test_absolute_update_refuses_when_stale(apple: Any) -> None:
    plan = await plan_set_roles(team(apple), "dev@example.com", ["MARKETING"])
    (user,) = [u for u in apple.users.values() if u.username == "dev@example.com"]
    await apple.users_api.update(user.id, roles=["SALES"])
    apple.writes.clear()
    result = (await run(plan, apple)).results[0]
    assert result.outcome is Outcome.FAILED
    assert result.cause == "changed_since_plan"
    assert apple.writes == []


# -- offboard, dependencies, systemic failures, audit --


async def test_offboard_across_teams_with_audit(make_apple: Any, engine: Engine) -> None:
    apples = {name: make_apple() for name in ("a", "b", "c")}
    apples["a"].add_invitation("dev2@example.com", ["DEVELOPER"], None)
    apples["b"].add_user("dev2@example.com", ["DEVELOPER"], ["1001"])
    apples["b"].add_invitation("other@example.com", ["DEVELOPER"], None)
    teams = {name: Team(name, a.source) for name, a in apples.items()}
    plan = await plan_offboard(list(teams.values()), "dev2@example.com")
    kinds = [(s.connection, s.kind, s.satisfied) for s in plan.steps]
    assert kinds == [
        ("a", StepKind.CANCEL_INVITATION, False),
        ("b", StepKind.REMOVE_USER, False),
        ("c", StepKind.REMOVE_USER, True),
    ]
    execution = await execute_plan(plan, teams, engine=engine, actor="alice")
    assert [r.outcome for r in execution.results] == [Outcome.DONE, Outcome.DONE, Outcome.ALREADY]
    (entry,) = audit.list_entries(engine)
    assert entry.actor == "alice"
    assert entry.action == "offboard"
    assert entry.connections == ("a", "b", "c")
    assert entry.status == "done"
    assert [s["outcome"] for s in entry.steps] == ["done", "done", "already"]
    assert all(s["request_ids"] for s in entry.steps[:2])
    assert entry.plan["steps"][0]["reason"].startswith("pending invitation")


async def test_offboard_refuses_account_holder(apple: Any) -> None:
    plan = await plan_offboard([team(apple)], "holder@example.com")
    assert plan.refusals[0].rule is Rule.ACCOUNT_HOLDER


async def test_failed_cancel_skips_its_reinvite(apple: Any) -> None:
    plan = await plan_invite(
        team(apple),
        "pending@example.com",
        first_name="P",
        last_name="Q",
        roles=["DEVELOPER"],
        apps=["1002"],
    )
    inv_id = plan.steps[0].subject_id
    apple.fail[f"DELETE /v1/userInvitations/{inv_id}"] = ConflictError(
        "nope", method="DELETE", path="/x", status=409
    )
    execution = await run(plan, apple)
    assert execution.results[0].outcome is Outcome.FAILED
    assert execution.results[1].state == "not_run"
    assert execution.results[1].outcome is None
    assert "did not succeed" in execution.results[1].message


async def test_apple_failure_stops_that_team_only(make_apple: Any) -> None:
    a, b = make_apple(), make_apple()
    teams = {"a": Team("a", a.source), "b": Team("b", b.source)}
    a.add_user("x@example.com", ["DEVELOPER"], ["1001"])
    b.add_user("x@example.com", ["DEVELOPER"], ["1001"])
    a.add_invitation("y@example.com", ["DEVELOPER"], None)
    plan_x = await plan_offboard(list(teams.values()), "x@example.com")
    plan_y = await plan_cancel_invitation(teams["a"], "y@example.com")
    plan = Plan(
        "offboard",
        "x",
        ("a", "b"),
        steps=(
            plan_x.steps[0],
            replace(plan_y.steps[0], index=1),
            replace(plan_x.steps[1], index=2),
        ),
    )
    a.fail["DELETE /v1/users"] = server_error("DELETE", "/v1/users")
    execution = await execute_plan(plan, teams, actor="t")
    assert [r.state for r in execution.results] == ["finished", "not_run", "finished"]
    assert execution.results[0].code == "APP-105"
    assert execution.results[2].outcome is Outcome.DONE
    assert execution.status == "partial"


async def test_audit_shows_running_while_the_write_is_in_flight(apple: Any, engine: Engine) -> None:
    plan = await plan_remove(team(apple), "dev@example.com")
    seen: list[tuple[str, str]] = []
    real_delete = apple.users_api.delete

    async def spying_delete(user_id: Any) -> None:
        (entry,) = audit.list_entries(engine)
        seen.append((entry.status, entry.steps[0]["state"]))
        await real_delete(user_id)

    apple.users_api.delete = spying_delete
    await run(plan, apple, engine)
    assert seen == [("running", "running")]
    (entry,) = audit.list_entries(engine)
    assert (entry.status, entry.steps[0]["state"], entry.steps[0]["outcome"]) == (
        "done",
        "finished",
        "done",
    )
    assert entry.finished_at is not None


async def test_plan_round_trips_through_json(apple: Any) -> None:
    plan = await plan_invite(
        team(apple),
        "pending@example.com",
        first_name="P",
        last_name="Q",
        roles=["DEVELOPER"],
        apps=["1002"],
    )
    again = Plan.from_dict(plan.as_dict())
    assert again == plan
    assert (
        plan.describe()[0]
        == "Plan: invite pending@example.com — 1 to invite, 0 to change, 1 to remove"
    )


async def test_lost_answer_then_404_on_the_repeat_is_done(apple: Any) -> None:
    """The client repeats a DELETE whose answer was lost; the repeat's 404 means it worked."""
    plan = await plan_remove(team(apple), "dev@example.com")
    apple.fail_after["DELETE /v1/users/"] = ResourceNotFoundError(
        "not found",
        method="DELETE",
        path="/v1/users/x",
        status=404,
        context={"after_retry": True},
    )
    result = (await run(plan, apple)).results[0]
    assert result.outcome is Outcome.DONE
    assert "answer was lost" in result.message


async def test_plans_name_apps_by_bundle_id(apple: Any) -> None:
    plan = await plan_set_apps(team(apple), "dev@example.com", add=["1003"], remove=["1002"])
    assert plan.steps[0].summary() == (
        "change dev@example.com: add com.example.app3; remove com.example.app2"
    )
    invite = await plan_invite(
        team(apple),
        "x@example.com",
        first_name="X",
        last_name="Y",
        roles=["DEVELOPER"],
        apps=["1001"],
    )
    assert "DEVELOPER; apps com.example.app1" in invite.describe()[2]
    assert Plan.from_dict(invite.as_dict()) == invite


async def test_crash_mid_step_leaves_an_accurate_audit(make_apple: Any, engine: Engine) -> None:
    a, b, c = make_apple(), make_apple(), make_apple()
    teams = {"a": Team("a", a.source), "b": Team("b", b.source), "c": Team("c", c.source)}
    plan = await plan_offboard(list(teams.values()), "dev@example.com")

    async def crash(user_id: Any) -> None:
        raise RuntimeError("power cut")

    b.users_api.delete = crash
    with pytest.raises(RuntimeError, match="power cut"):
        await execute_plan(plan, teams, engine=engine, actor="t")
    (entry,) = audit.list_entries(engine)
    assert [(s["connection"], s["state"], s["outcome"]) for s in entry.steps] == [
        ("a", "finished", "done"),
        ("b", "running", None),  # may or may not have reached Apple
        ("c", "not_run", None),
    ]
    assert entry.status == "partial"
    assert entry.steps[2]["message"] == "not run: execution was interrupted"
