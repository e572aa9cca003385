"""End to end: every action and every outcome against the sandbox over real HTTP.

The real API client talks to a demo sandbox on a loopback port; the store is
SQLite, synced once first so the mirror holds the team. After each action the
mirror must agree with the sandbox without another sync, and the audit log
must hold the plan, each step's outcome and Apple's request ids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import Engine

from actions.helpers import (
    RacingSource,
    apple_picture,
    client_for,
    demo,
    mirror_picture,
    once,
    synced_connection,
)
from asc_access.actions import (
    Outcome,
    Plan,
    Rule,
    StepKind,
    Team,
    execute_plan,
    plan_cancel_invitation,
    plan_invite,
    plan_remove,
    plan_set_apps,
    plan_set_roles,
)
from asc_access.errors import ActionError
from asc_access.store import audit
from asc_access.store.changes import list_changes

WEATHER, TRAILMIX, LUMEN = (
    "com.northwindlabs.weather",
    "com.northwindlabs.trailmix",
    "com.northwindlabs.lumen",
)
WRITE_ROUTES = ("POST", "PATCH", "DELETE")


@asynccontextmanager
async def acme(running: Any, connection_id: int) -> AsyncIterator[Team]:
    async with client_for(running) as client:
        yield Team("acme", client, connection_id)


async def execute(plan: Plan, team: Team, store: Engine) -> Any:
    return await execute_plan(plan, {team.name: team}, engine=store, actor="tester")


async def assert_mirror_agrees(store: Engine, running: Any, connection_id: int) -> None:
    assert mirror_picture(store, connection_id) == await apple_picture(running)


def action_changes(store: Engine, connection_id: int) -> list[Any]:
    with store.connect() as conn:
        found = list_changes(conn, connection_ids=[connection_id])
    return [c for c in found if c.audit_id is not None]


def writes(running: Any) -> dict[str, int]:
    routes: dict[str, int] = running.stats()["by_route"]
    return {r: n for r, n in routes.items() if r.split(" ")[0] in WRITE_ROUTES}


@pytest.fixture
async def conn_id(store: Engine, sandbox: Any) -> int:
    return await synced_connection(store, sandbox, "acme")


async def test_invite_done_then_already_then_cancel_and_reinvite(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    email = "new.hire@northwindlabs.example.com"
    async with acme(sandbox, conn_id) as team:
        args = {"first_name": "New", "last_name": "Hire", "roles": ["DEVELOPER"]}
        plan = await plan_invite(team, email, apps=[WEATHER], **args)
        first = await execute(plan, team, store)
        assert first.results[0].outcome is Outcome.DONE, first.results[0].message
        await assert_mirror_agrees(store, sandbox, conn_id)

        again = await plan_invite(team, email, apps=[WEATHER], **args)
        assert again.steps[0].satisfied
        second = await execute(again, team, store)
        assert second.results[0].outcome is Outcome.ALREADY
        assert second.results[0].message == "already invited with the same access"

        other = await plan_invite(team, email, apps=[WEATHER, TRAILMIX], **args)
        assert [s.kind for s in other.steps] == [StepKind.CANCEL_INVITATION, StepKind.INVITE]
        third = await execute(other, team, store)
        assert [r.outcome for r in third.results] == [Outcome.DONE, Outcome.DONE]
    await assert_mirror_agrees(store, sandbox, conn_id)
    entries = audit.list_entries(store)
    assert [e.status for e in entries] == ["done", "done", "done"]
    newest = entries[0]
    assert newest.actor == "tester"
    assert newest.connections == ("acme",)
    assert [s["outcome"] for s in newest.steps] == ["done", "done"]
    for step in newest.steps:
        assert len(step["request_ids"]) == 1
        assert len(step["request_ids"][0]) == 36  # the sandbox's X-Request-ID
    changes = action_changes(store, conn_id)
    assert {c.change_type for c in changes} >= {"invitation_created", "invitation_cancelled"}


async def test_cancel_invitation_done_then_already(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    async with acme(sandbox, conn_id) as team:
        plan = await plan_cancel_invitation(team, demo("ella"))
        assert (await execute(plan, team, store)).results[0].outcome is Outcome.DONE
        again = await plan_cancel_invitation(team, demo("ella"))
        assert (await execute(again, team, store)).results[0].outcome is Outcome.ALREADY
        # the expired invitation is cancelled too
        expired = await plan_cancel_invitation(team, demo("lucas"))
        assert "expired invitation" in expired.steps[0].reason
        assert (await execute(expired, team, store)).results[0].outcome is Outcome.DONE
    await assert_mirror_agrees(store, sandbox, conn_id)


async def test_remove_done_then_already(store: Engine, sandbox: Any, conn_id: int) -> None:
    async with acme(sandbox, conn_id) as team:
        plan = await plan_remove(team, demo("kenji"))
        done = await execute(plan, team, store)
        assert done.results[0].outcome is Outcome.DONE
        assert done.results[0].message == "done and verified by reading it back"
        # the same plan again: already removed, nothing sent
        sandbox.reset_stats()
        repeat = await execute(plan, team, store)
        assert repeat.results[0].outcome is Outcome.ALREADY
        assert writes(sandbox) == {}
    await assert_mirror_agrees(store, sandbox, conn_id)


async def test_set_roles_and_set_apps_every_outcome(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    sofia = demo("sofia")
    async with acme(sandbox, conn_id) as team:
        roles = await plan_set_roles(team, sofia, ["DEVELOPER", "MARKETING"])
        assert (await execute(roles, team, store)).results[0].outcome is Outcome.DONE
        same = await plan_set_roles(team, sofia, ["MARKETING", "DEVELOPER"])
        assert (await execute(same, team, store)).results[0].outcome is Outcome.ALREADY

        add = await plan_set_apps(team, sofia, add=[LUMEN], remove=[TRAILMIX])
        assert (await execute(add, team, store)).results[0].outcome is Outcome.DONE
        await assert_mirror_agrees(store, sandbox, conn_id)
        again = await plan_set_apps(team, sofia, add=[LUMEN])
        assert (await execute(again, team, store)).results[0].outcome is Outcome.ALREADY

        full = await plan_set_apps(team, sofia, apps=[WEATHER])
        assert (await execute(full, team, store)).results[0].outcome is Outcome.DONE
        every = await plan_set_apps(team, sofia, all_apps=True)
        assert (await execute(every, team, store)).results[0].outcome is Outcome.DONE
        back = await plan_set_apps(team, sofia, apps=[TRAILMIX, LUMEN])
        assert (await execute(back, team, store)).results[0].outcome is Outcome.DONE
    await assert_mirror_agrees(store, sandbox, conn_id)
    kinds = {c.change_type for c in action_changes(store, conn_id)}
    assert {"user_roles_changed", "user_apps_changed", "user_flags_changed"} <= kinds


# -- our safety rules refuse before anything reaches Apple --------------------------


async def test_duplicate_invitation_refused_before_apple(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    async with acme(sandbox, conn_id) as team:
        sandbox.reset_stats()
        plan = await plan_invite(
            team, demo("sofia"), first_name="S", last_name="R", roles=["ADMIN"]
        )
        assert [r.rule for r in plan.refusals] == [Rule.MEMBER_EXISTS]
        with pytest.raises(ActionError, match="already a member"):
            await execute(plan, team, store)
    assert writes(sandbox) == {}
    assert audit.list_entries(store) == []


async def test_restricting_an_admin_refused_before_apple(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    async with acme(sandbox, conn_id) as team:
        sandbox.reset_stats()
        plan = await plan_set_apps(team, demo("priya"), apps=[WEATHER])
        (refusal,) = plan.refusals
        assert refusal.rule is Rule.ALL_APPS_ROLE
        assert "ADMIN always see all apps" in refusal.reason
        with pytest.raises(ActionError):
            await execute(plan, team, store)
        invite = await plan_invite(
            team,
            "x@northwindlabs.example.com",
            first_name="X",
            last_name="Y",
            roles=["FINANCE"],
            apps=[WEATHER],
        )
        assert invite.refusals[0].rule is Rule.ALL_APPS_ROLE
    assert writes(sandbox) == {}


async def test_removing_the_account_holder_refused_before_apple(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    async with acme(sandbox, conn_id) as team:
        sandbox.reset_stats()
        plan = await plan_remove(team, demo("ava"))
        assert [r.rule for r in plan.refusals] == [Rule.ACCOUNT_HOLDER]
        with pytest.raises(ActionError, match="Account Holder"):
            await execute(plan, team, store)
        roles = await plan_set_roles(team, demo("ava"), ["ADMIN"])
        assert roles.refusals[0].rule is Rule.ACCOUNT_HOLDER
    assert writes(sandbox) == {}


async def test_last_admin_needs_force(store: Engine, sandbox: Any, conn_id: int) -> None:
    async with acme(sandbox, conn_id) as team:
        await execute(await plan_remove(team, demo("marcus")), team, store)
        plan = await plan_remove(team, demo("priya"))
        assert plan.refusals[0].rule is Rule.LAST_ADMIN
        with pytest.raises(ActionError, match="last Admin"):
            await execute(plan, team, store)
        forced = await plan_remove(team, demo("priya"), force=True)
        assert (await execute(forced, team, store)).results[0].outcome is Outcome.DONE
    await assert_mirror_agrees(store, sandbox, conn_id)


# -- Apple's own refusals (a change raced in between our read and our write) ---------


async def test_apple_duplicate_invitation_conflict_is_failed(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    email = "racer@northwindlabs.example.com"
    async with client_for(sandbox) as client, client_for(sandbox) as other:

        async def someone_else_invites() -> None:
            await other.invitations.create(
                email=email, first_name="R", last_name="C", roles=["SALES"], all_apps_visible=True
            )

        plain = Team("acme", client, conn_id)
        plan = await plan_invite(
            plain, email, first_name="R", last_name="C", roles=["DEVELOPER"], apps=[WEATHER]
        )
        racing = RacingSource(client, invitations=once(someone_else_invites))
        team = Team("acme", racing, conn_id)  # type: ignore[arg-type]
        execution = await execute(plan, team, store)
    result = execution.results[0]
    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert result.error["status"] == 409
    assert result.error["errors"][0]["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"
    assert result.request_ids  # Apple's request id of the refused POST
    (entry,) = audit.list_entries(store)
    assert entry.status == "failed"
    assert entry.steps[0]["error"]["errors"][0]["source"] == {"pointer": "/data/attributes/email"}
    await assert_mirror_agrees(store, sandbox, conn_id)  # the racer's invitation is mirrored


async def test_apple_refuses_limiting_an_admin_is_failed(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    sofia = demo("sofia")
    async with client_for(sandbox) as client:
        (user,) = await client.users.list(username=sofia)
        plan = await plan_set_apps(Team("acme", client, conn_id), sofia, apps=[LUMEN])
        made_admin = once(lambda: sandbox.set_roles(user.id, ["ADMIN"]))
        team = Team("acme", RacingSource(client, users=made_admin), conn_id)  # type: ignore[arg-type]
        execution = await execute(plan, team, store)
    result = execution.results[0]
    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert result.error["method"] == "PATCH"
    assert result.error["errors"][0]["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID"
    assert result.code is None  # a conflict is not a catalogue failure
    await assert_mirror_agrees(store, sandbox, conn_id)


async def test_apple_refuses_removing_the_account_holder_is_failed(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    marcus = demo("marcus")
    async with client_for(sandbox) as client:
        (user,) = await client.users.list(username=marcus)
        plan = await plan_remove(Team("acme", client, conn_id), marcus)
        promoted = once(lambda: sandbox.set_roles(user.id, ["ACCOUNT_HOLDER", "ADMIN"]))
        team = Team("acme", RacingSource(client, users=promoted), conn_id)  # type: ignore[arg-type]
        execution = await execute(plan, team, store)
    result = execution.results[0]
    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert result.error["errors"][0]["code"] == "STATE_ERROR.ENTITY_STATE_INVALID"
    assert "Account Holder cannot be removed" in result.error["errors"][0]["detail"]
    await assert_mirror_agrees(store, sandbox, conn_id)


async def test_stale_plan_is_refused_not_written_over(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    kenji = demo("kenji")
    async with acme(sandbox, conn_id) as team:
        plan = await plan_set_roles(team, kenji, ["MARKETING"])
        (user,) = await team.source.users.list(username=kenji)
        sandbox.set_roles(user.id, ["SALES"])  # changed in App Store Connect's web UI
        sandbox.reset_stats()
        execution = await execute(plan, team, store)
    result = execution.results[0]
    assert result.outcome is Outcome.FAILED
    assert result.cause == "changed_since_plan"
    assert writes(sandbox) == {}
    # the mirror was stale (it still said DEVELOPER); the fresh read repaired it
    await assert_mirror_agrees(store, sandbox, conn_id)


async def test_plan_notes_a_stale_mirror_and_follows_apple(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    kenji = demo("kenji")
    async with client_for(sandbox) as client:
        team = Team("acme", client, conn_id, store)
        assert (await plan_remove(team, kenji)).notes == ()
        (user,) = await client.users.list(username=kenji)
        sandbox.set_roles(user.id, ["SALES"])  # out of band, after the sync
        plan = await plan_remove(team, kenji)
        (note,) = plan.notes
        assert "the mirror of team acme was out of date for " + kenji in note
        assert "mirror: member DEVELOPER; apps com.northwindlabs.ledger" in note
        assert "Apple now: member SALES; apps com.northwindlabs.ledger)" in note
        assert plan.steps[0].before is not None
        assert plan.steps[0].before.roles == ("SALES",)
        assert (await execute(plan, team, store)).results[0].outcome is Outcome.DONE
    await assert_mirror_agrees(store, sandbox, conn_id)


async def test_cancel_invitation_failed_when_apple_keeps_failing(
    store: Engine, sandbox: Any, conn_id: int
) -> None:
    async with acme(sandbox, conn_id) as team:
        plan = await plan_cancel_invitation(team, demo("ella"))
        sandbox.add_fault(status=503, count=20, path_prefix="/v1/userInvitations/", method="DELETE")
        result = (await execute(plan, team, store)).results[0]
    assert result.outcome is Outcome.FAILED
    assert result.code == "APP-105"
    assert result.error is not None
    assert result.error["status"] == 503
    (entry,) = audit.list_entries(store)
    assert (entry.status, entry.steps[0]["outcome"], entry.steps[0]["code"]) == (
        "failed",
        "failed",
        "APP-105",
    )
    await assert_mirror_agrees(store, sandbox, conn_id)  # Ella is still invited, in both
