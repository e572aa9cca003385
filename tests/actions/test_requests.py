"""``plan_action``: the one map from an action's name to its planner (CLI and service)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from actions.fake import demo_apple
from asc_access.actions import (
    ACTION_NAMES,
    ActionSpec,
    Plan,
    Team,
    plan_action,
    plan_cancel_invitation,
    plan_invite,
    plan_offboard,
    plan_remove,
    plan_set_apps,
    plan_set_roles,
)
from asc_access.errors import UsageError

Direct = Callable[[Team], Awaitable[Plan]]

#: Each action's spec, and the same request made to its planner directly.
CASES: dict[str, tuple[ActionSpec, Direct]] = {
    "invite": (
        ActionSpec(
            action="invite",
            email="new@example.com",
            first_name="N",
            last_name="P",
            roles=["DEVELOPER"],
            apps=["1001"],
            provisioning=True,
        ),
        lambda t: plan_invite(
            t,
            "new@example.com",
            first_name="N",
            last_name="P",
            roles=["DEVELOPER"],
            apps=["1001"],
            provisioning=True,
        ),
    ),
    "remove": (
        ActionSpec(action="remove", email="admin1@example.com", force=True),
        lambda t: plan_remove(t, "admin1@example.com", force=True),
    ),
    "cancel-invitation": (
        ActionSpec(action="cancel-invitation", email="pending@example.com"),
        lambda t: plan_cancel_invitation(t, "pending@example.com"),
    ),
    "set-roles": (
        ActionSpec(action="set-roles", email="dev@example.com", roles=["FINANCE"]),
        lambda t: plan_set_roles(t, "dev@example.com", ["FINANCE"]),
    ),
    "set-apps": (
        ActionSpec(action="set-apps", email="dev@example.com", add=["1003"], remove=["1001"]),
        lambda t: plan_set_apps(t, "dev@example.com", add=["1003"], remove=["1001"]),
    ),
    "offboard": (
        ActionSpec(action="offboard", email="dev@example.com"),
        lambda t: plan_offboard([t], "dev@example.com"),
    ),
}


def test_every_action_name_has_a_case() -> None:
    assert set(CASES) == set(ACTION_NAMES)


@pytest.mark.parametrize("name", ACTION_NAMES)
async def test_plan_action_is_the_planner_of_that_name(name: str) -> None:
    spec, direct = CASES[name]
    via_spec = await plan_action([Team("acme", demo_apple().source)], spec)
    expected = await direct(Team("acme", demo_apple().source))
    assert via_spec.action == name
    assert _comparable(via_spec) == _comparable(expected)


@pytest.mark.parametrize("name", [n for n in ACTION_NAMES if n != "offboard"])
async def test_a_one_team_action_refuses_several_teams(name: str) -> None:
    spec, _ = CASES[name]
    teams = [Team("a", demo_apple().source), Team("b", demo_apple().source)]
    with pytest.raises(UsageError, match="acts on one team"):
        await plan_action(teams, spec)


def _comparable(plan: Plan) -> Any:
    """The plan without its read-time notes' timestamps (two reads of two fakes)."""
    return (plan.action, plan.target, plan.connections, plan.steps, plan.refusals, plan.force)
