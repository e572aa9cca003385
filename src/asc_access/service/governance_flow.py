"""Governance for the API and the console: policy checks, violations, campaigns.

Reviewers are tokens (console sessions sign in with one): decisions are
recorded as ``token:<name>``, closing is audited as the token that closed.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from pydantic import BaseModel, Field

from asc_access.governance import campaigns, remediate
from asc_access.governance.check import check, default_policy_file
from asc_access.governance.policies import load_policies
from asc_access.service import library
from asc_access.service.context import ServiceContext
from asc_access.store import campaigns as store

__all__ = [
    "CampaignRequest",
    "DecisionRequest",
    "campaign_document",
    "close_campaign",
    "decide",
    "run_check",
    "start_campaign",
]


class CampaignRequest(BaseModel):
    """A campaign to start: its name, scope (default every team), due date and reviewers."""

    name: str = Field(min_length=1, max_length=200, examples=["Q3 2026 access review"])
    connections: list[str] = Field(default_factory=list, max_length=100)
    due: str | None = Field(default=None, max_length=10, examples=["2026-09-30"])
    reviewers: list[str] = Field(default_factory=list, max_length=100)


class DecisionRequest(BaseModel):
    """A decision on one person (``email``) or on every item a filter selects."""

    decision: Literal["keep", "revoke", "reduce"]
    connection: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    flag: str | None = Field(default=None, max_length=40)
    role: str | None = Field(default=None, max_length=60, description="Items holding this role")
    undecided: bool = False
    roles: list[str] = Field(default_factory=list, max_length=20, description="reduce: keep")
    apps: list[str] = Field(default_factory=list, max_length=1000, description="reduce: keep")
    comment: str | None = Field(default=None, max_length=2000)


async def run_check(ctx: ServiceContext) -> dict[str, Any]:
    """Evaluate ``policies.yaml`` in the home directory now."""
    path = default_policy_file(ctx.settings)

    def work() -> dict[str, Any]:
        result = check(ctx.engine, load_policies(path), now=ctx.clock())
        return {"violations": [v.as_dict() for v in result.reconciled.open]}

    return await asyncio.to_thread(work)


def start_campaign(ctx: ServiceContext, req: CampaignRequest, actor: str) -> int:
    """Start a campaign; its id."""
    return campaigns.start(
        ctx.engine,
        req.name,
        actor=actor,
        now=ctx.clock(),
        connections=req.connections or None,
        due=req.due,
        reviewers=req.reviewers,
    )


def decide(ctx: ServiceContext, campaign_id: int, req: DecisionRequest, actor: str) -> int:
    """Record a decision; how many items it covered."""
    if req.email is None and not (req.flag or req.role or req.undecided or req.connection):
        req = req.model_copy(update={"undecided": True})
    selection = campaigns.Filter(req.connection, req.email, req.flag, req.role, req.undecided)
    return campaigns.decide(
        ctx.engine, campaign_id, selection, req.decision, actor=actor, now=ctx.clock(),
        roles=req.roles, apps=req.apps, comment=req.comment,
    )  # fmt: skip


async def close_campaign(ctx: ServiceContext, campaign_id: int, actor: str) -> dict[str, Any]:
    """Close (the caller has confirmed): freeze, remediate, record outcomes."""
    campaign = store.get_campaign(ctx.engine, campaign_id)
    async with library.open_teams(ctx, list(campaign.connections)) as teams:
        result = await remediate.close(ctx.engine, campaign_id, teams, actor=actor, clock=ctx.clock)
    return result.as_dict()


def campaign_document(ctx: ServiceContext, campaign_id: int) -> dict[str, Any]:
    """A campaign with its progress and items."""
    campaign = store.get_campaign(ctx.engine, campaign_id)
    items = store.list_items(ctx.engine, campaign_id)
    return {
        **campaign.as_dict(),
        "progress": campaigns.progress(items),
        "items": [i.as_dict() for i in items],
    }
