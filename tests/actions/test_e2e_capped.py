"""End to end on a generated team: people who see more than 50 apps (the include is capped).

Nothing may compare or write a visible-apps list taken from a capped include:
the full list is read first, so a change to one app keeps every other app, and
a desired-state file listing someone's whole (long) list plans nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from actions.helpers import client_for
from asc_access.actions import (
    Outcome,
    Team,
    execute_plan,
    parse_desired_state,
    plan_desired_state,
    plan_invite,
    plan_set_apps,
    plan_set_roles,
)
from asc_access.actions.reads import complete_team


async def test_capped_members_and_invitations_keep_every_app(
    store: Engine, sandbox_factory: Callable[..., Any]
) -> None:
    running = sandbox_factory(users=40, apps=120, invitations=5, random_seed=7)
    async with client_for(running) as client:
        team = Team("gen", client)
        listed = await client.users.list(include_visible_apps=True)
        capped = next(u for u in listed if u.visible_apps_capped)
        full = set(await client.users.visible_app_ids(capped.id))
        assert len(full) > 50
        assert capped.visible_app_ids is not None
        assert len(capped.visible_app_ids) == 50

        # remove one app: the other (more than 50) stay
        gone = max(full)
        plan = await plan_set_apps(team, capped.username, remove=[gone])
        assert plan.steps[0].before is not None
        assert set(plan.steps[0].before.app_ids) == full
        execution = await execute_plan(plan, {"gen": team}, engine=store, actor="t")
        assert execution.results[0].outcome is Outcome.DONE
        assert set(await client.users.visible_app_ids(capped.id)) == full - {gone}

        # a role change leaves the long list alone
        roles = await plan_set_roles(team, capped.username, [*capped.roles, "CREATE_APPS"])
        assert (await execute_plan(roles, {"gen": team}, actor="t")).status == "done"
        assert set(await client.users.visible_app_ids(capped.id)) == full - {gone}

        # an invitation with 60 apps, invited again with the same 60: already
        apps = sorted(a.id for a in await client.apps.list())[:60]
        args = {"first_name": "Long", "last_name": "List", "roles": ["DEVELOPER"], "apps": apps}
        first = await plan_invite(team, "long.list@team7.example.com", **args)
        assert (await execute_plan(first, {"gen": team}, actor="t")).status == "done"
        (inv,) = await client.invitations.list(
            email="long.list@team7.example.com", include_visible_apps=True
        )
        assert inv.visible_apps_capped
        again = await plan_invite(team, "long.list@team7.example.com", **args)
        assert again.steps[0].satisfied
        assert again.steps[0].reason == "already invited with the same access"

        # the whole team written down as it is plans nothing
        users, invitations = await complete_team(client)
        now = datetime.now(UTC)
        people = [
            person(u.username, u, u.visible_app_ids) for u in users if not u.is_account_holder
        ] + [person(i.email, i, i.visible_app_ids) for i in invitations if not i.is_expired(now)]
        desired = parse_desired_state({"connections": {"gen": people}}, "gen.yaml")
        plan = await plan_desired_state(desired, {"gen": team})
        assert plan.is_empty, plan.describe()


def person(email: str, who: Any, app_ids: Any) -> dict[str, Any]:
    """A desired-state entry for a member or an invitation, as Apple has them."""
    return {
        "email": email,
        "first_name": who.first_name or "x",
        "last_name": who.last_name or "x",
        "roles": list(who.roles),
        "provisioning": who.provisioning_allowed,
        **({"all_apps": True} if who.all_apps_visible else {"apps": list(app_ids or ())}),
    }
