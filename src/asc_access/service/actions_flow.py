"""Plan-then-confirm for provisioning, shared by the API and the console.

A request names the action and its arguments; :func:`make_plan` reads the
person fresh from Apple through the actions module's planners and returns the
plan; :func:`run_plan` executes a confirmed plan with the caller's token name
as the audit actor (``token:<name>``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from asc_access.actions import (
    ActionName,
    ActionSpec,
    Execution,
    Plan,
    execute_plan,
    plan_action,
    record_unexecuted,
)
from asc_access.service import library
from asc_access.service.context import ServiceContext

__all__ = ["ActionRequest", "audit_if_final", "make_plan", "run_plan"]


class ActionRequest(BaseModel):
    """What to plan. ``connection`` names the team (``offboard``: ``connections``, or all)."""

    action: ActionName
    email: str = Field(min_length=3, max_length=320, examples=["leaver@example.com"])
    connection: str | None = Field(default=None, max_length=200)
    connections: list[str] = Field(default_factory=list, max_length=100)
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    roles: list[str] = Field(default_factory=list, max_length=20)
    apps: list[str] | None = Field(default=None, max_length=1000)
    add: list[str] = Field(default_factory=list, max_length=1000)
    remove: list[str] = Field(default_factory=list, max_length=1000)
    all_apps: bool = False
    provisioning: bool = False
    force: bool = Field(default=False, description="Override forceable refusals (last Admin)")

    @model_validator(mode="after")
    def _needs_a_connection(self) -> ActionRequest:
        if self.action != "offboard" and not self.connection:
            raise ValueError(f"{self.action} acts on one team: give 'connection'")
        return self


async def make_plan(ctx: ServiceContext, req: ActionRequest) -> Plan:
    """Plan ``req`` against a fresh read of Apple; nothing is written."""
    if req.action == "offboard":
        names = req.connections or library.connection_names(ctx.engine)
    else:
        assert req.connection is not None
        names = [req.connection]
    spec = ActionSpec(**req.model_dump(exclude={"connection", "connections"}))
    async with library.open_teams(ctx, names) as teams:
        return await plan_action([teams[n] for n in names], spec, now=ctx.clock())


async def run_plan(ctx: ServiceContext, plan: Plan, *, actor: str) -> Execution:
    """Execute a confirmed plan (re-reading each target first); audited as ``actor``."""
    async with library.open_teams(ctx, list(plan.connections)) as teams:
        return await execute_plan(
            plan,
            teams,
            engine=ctx.engine,
            actor=actor,
            clock=ctx.clock,
            lock=library.team_lock(ctx.settings),
        )


def audit_if_final(ctx: ServiceContext, plan: Plan, *, actor: str) -> int | None:
    """Audit a plan that cannot or need not be confirmed: refused, or nothing to change.

    Such a plan is the end of the attempt (there is nothing to confirm), so it
    is recorded now, with who asked and why it was refused.
    """
    if plan.blocking_refusals or not plan.changes:
        return record_unexecuted(plan, engine=ctx.engine, actor=actor, clock=ctx.clock)
    return None
