"""Governance: policy violations and alerts; access-review campaigns and their evidence."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from asc_access.governance import evidence
from asc_access.service import governance_flow as flow
from asc_access.service.api.common import ERRORS, RowId
from asc_access.service.auth import ApiPrincipal
from asc_access.service.context import context_of
from asc_access.store import campaigns as store
from asc_access.store.notifications import list_deliveries
from asc_access.store.violations import list_violations

__all__ = ["router"]

router = APIRouter(tags=["governance"])


@router.get("/violations", responses=ERRORS)
def violations(request: Request, principal: ApiPrincipal, resolved: bool = False) -> dict[str, Any]:
    """Open policy violations (``resolved=true``: every one ever found), oldest first."""
    del principal
    found = list_violations(context_of(request).engine, resolved=resolved)
    return {"violations": [v.as_dict() for v in found]}


@router.post("/policies/check", responses=ERRORS)
async def policies_check(request: Request, principal: ApiPrincipal) -> dict[str, Any]:
    """Evaluate ``policies.yaml`` (in ``ASC_ACCESS_HOME``) against the mirror now."""
    del principal
    return await flow.run_check(context_of(request))


@router.get("/alerts", responses=ERRORS)
def alerts(request: Request, principal: ApiPrincipal) -> dict[str, Any]:
    """Alert deliveries: delivered, pending, or failed with the last error."""
    del principal
    return {"deliveries": [d.as_dict() for d in list_deliveries(context_of(request).engine)]}


@router.get("/campaigns", responses=ERRORS)
def campaigns_list(request: Request, principal: ApiPrincipal) -> dict[str, Any]:
    """Every campaign, newest first, with item and decided counts."""
    del principal
    rows = store.list_campaigns(context_of(request).engine)
    return {"campaigns": [{**c.as_dict(), "items": n, "decided": d} for c, n, d in rows]}


@router.post("/campaigns", status_code=201, responses=ERRORS)
def campaigns_start(
    request: Request, body: flow.CampaignRequest, principal: ApiPrincipal
) -> dict[str, Any]:
    """Start a campaign: every person x team in scope frozen with roles, apps and flags."""
    return {"id": flow.start_campaign(context_of(request), body, principal.actor)}


@router.get("/campaigns/{campaign_id}", responses=ERRORS)
def campaign(request: Request, campaign_id: RowId, principal: ApiPrincipal) -> dict[str, Any]:
    """One campaign with its progress and every item."""
    del principal
    return flow.campaign_document(context_of(request), campaign_id)


@router.post("/campaigns/{campaign_id}/decisions", responses=ERRORS)
def campaign_decide(
    request: Request, campaign_id: RowId, body: flow.DecisionRequest, principal: ApiPrincipal
) -> dict[str, Any]:
    """Decide on one person, or in bulk on a filter (refused once the campaign is closed)."""
    count = flow.decide(context_of(request), campaign_id, body, principal.actor)
    return {"id": campaign_id, "decided": count}


@router.post("/campaigns/{campaign_id}/close", responses=ERRORS)
async def campaign_close(
    request: Request, campaign_id: RowId, principal: ApiPrincipal
) -> dict[str, Any]:
    """Close: freeze decisions, carry out revoke / reduce (verified, audited), record outcomes."""
    return await flow.close_campaign(context_of(request), campaign_id, principal.actor)


@router.get("/campaigns/{campaign_id}/report", responses=ERRORS)
def campaign_report(
    request: Request,
    campaign_id: RowId,
    principal: ApiPrincipal,
    format: Literal["csv", "pdf"] = "csv",  # noqa: A002 - the query parameter's name
) -> Response:
    """The evidence: CSV or PDF, its digest in ``X-Content-Digest``."""
    del principal
    engine = context_of(request).engine
    campaign = store.get_campaign(engine, campaign_id)
    items = store.list_items(engine, campaign_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"campaign-{campaign_id}.{format}"
        write = evidence.write_csv if format == "csv" else evidence.write_pdf
        digest = write(path, campaign, items)
        body = path.read_bytes()
    media = "text/csv" if format == "csv" else "application/pdf"
    headers = {
        "X-Content-Digest": digest,
        "Content-Disposition": f'attachment; filename="campaign-{campaign_id}.{format}"',
    }
    return Response(body, media_type=media, headers=headers)
