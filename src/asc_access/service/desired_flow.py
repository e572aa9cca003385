"""Desired state in the service: plan a document like ``asc-access plan FILE``, confirm to apply.

``POST /api/v1/actions/apply`` takes the same document as a desired-state file
(``{"connections": {name: {"people": [...]}}}``), plans it against a fresh read of
every team it names and keeps the plan like any other (confirm at
``/api/v1/actions/plans/{id}/confirm``). Applying needs the ``admin`` role; with
four-eyes approval on, a plan that removes anyone waits for a second person.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from asc_access.actions import Plan, parse_desired_state, plan_desired_state
from asc_access.service import library
from asc_access.service.actions_flow import ActionRequest, make_plan
from asc_access.service.context import ServiceContext

__all__ = ["DesiredRequest", "plan_apply", "plan_request"]


class DesiredRequest(BaseModel):
    """A desired-state document to plan (the file's content, as JSON)."""

    document: dict[str, Any] = Field(
        description="{'connections': {name: {'people': [...]}}}, as in a desired-state file"
    )
    force: bool = Field(default=False, description="Override forceable refusals (last Admin)")


async def plan_apply(ctx: ServiceContext, document: dict[str, Any], *, force: bool) -> Plan:
    """Plan ``document`` against a fresh read of every team it names; nothing is written."""
    desired = parse_desired_state(document, "the desired state")
    names = list(desired.teams)
    for name in names:
        library.connection_id(ctx.engine, name)  # 404 for an unknown connection
    async with library.open_teams(ctx, names) as teams:
        return await plan_desired_state(desired, teams, force=force, now=ctx.clock())


async def plan_request(ctx: ServiceContext, request: dict[str, Any]) -> Plan:
    """Plan a stored request again (an action, or ``apply`` with its document)."""
    if request.get("action") == "apply":
        return await plan_apply(ctx, dict(request["document"]), force=bool(request.get("force")))
    return await make_plan(ctx, ActionRequest.model_validate(request))
