"""One action on one person, as a shell asks for it, and the planner it goes to.

The CLI's commands and the service's ``POST /api/v1/actions`` (and its console
form) describe an action the same way: its name, the person's e-mail address and
the action's own parameters. :func:`plan_action` is the one place that maps a name
to its ``plan_*`` function, so a new action is added here once, not in each shell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from asc_access.actions import planner
from asc_access.actions.model import Plan
from asc_access.actions.source import Team
from asc_access.errors import UsageError

__all__ = ["ACTION_NAMES", "ActionName", "ActionSpec", "plan_action"]

ActionName = Literal["invite", "remove", "cancel-invitation", "set-roles", "set-apps", "offboard"]

#: Every action's name, in the order the console offers them.
ACTION_NAMES: tuple[ActionName, ...] = get_args(ActionName)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionSpec:
    """What to plan: the action, the person, and the parameters that action reads.

    ``apps`` is the full list of apps (``invite``: ``None`` or empty for none named;
    ``set-apps``: ``None`` unless the list is being replaced); ``add`` / ``remove``
    change a member's list relative to Apple's (``set-apps``).
    """

    action: ActionName
    email: str
    first_name: str = ""
    last_name: str = ""
    roles: Sequence[str] = ()
    apps: Sequence[str] | None = None
    add: Sequence[str] = ()
    remove: Sequence[str] = ()
    all_apps: bool = False
    provisioning: bool = False
    force: bool = False


async def plan_action(
    teams: Sequence[Team], spec: ActionSpec, *, now: datetime | None = None
) -> Plan:
    """Plan ``spec`` on ``teams`` (``offboard``: every team given; the others: exactly one).

    Raises:
        UsageError: an action other than ``offboard`` given no team or several.
    """
    if spec.action == "offboard":
        return await planner.plan_offboard(teams, spec.email, force=spec.force, now=now)
    if len(teams) != 1:
        raise UsageError(f"{spec.action} acts on one team, not {len(teams)}")
    team, email = teams[0], spec.email
    if spec.action == "invite":
        return await planner.plan_invite(
            team,
            email,
            first_name=spec.first_name,
            last_name=spec.last_name,
            roles=spec.roles,
            apps=spec.apps or None,
            all_apps=spec.all_apps,
            provisioning=spec.provisioning,
            now=now,
        )
    if spec.action == "remove":
        return await planner.plan_remove(team, email, force=spec.force)
    if spec.action == "cancel-invitation":
        return await planner.plan_cancel_invitation(team, email, now=now)
    if spec.action == "set-roles":
        return await planner.plan_set_roles(team, email, spec.roles, force=spec.force)
    return await planner.plan_set_apps(
        team, email, apps=spec.apps, add=spec.add, remove=spec.remove, all_apps=spec.all_apps
    )
