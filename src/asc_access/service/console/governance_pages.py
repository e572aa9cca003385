"""Governance pages: what the policies found, and reviewers working through a campaign."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from asc_access.errors import UsageError
from asc_access.governance import campaigns, evidence
from asc_access.governance.check import default_policy_file
from asc_access.governance.policies import parse_policies
from asc_access.service import governance_flow as flow
from asc_access.service.api.common import RowId
from asc_access.service.auth import ConsolePrincipal, FormPrincipal, Principal
from asc_access.service.console.common import form_list, form_text, see_other, split_list
from asc_access.service.console.render import render, render_with_teams
from asc_access.service.context import context_of
from asc_access.store import campaigns as store
from asc_access.store.notifications import list_deliveries
from asc_access.store.violations import list_violations

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/violations", response_class=HTMLResponse)
def violations_page(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """Open violations (or every one, with ``?all=1``) and how their alerts went."""
    return _violations(request, principal)


def _violations(
    request: Request,
    principal: Principal,
    *,
    text: str | None = None,
    flash: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = context_of(request)
    everything = request.query_params.get("all") == "1"
    if request.query_params.get("checked"):
        flash = "Policies checked."
    elif request.query_params.get("saved"):
        flash = "Policies saved; they apply from the next check or sync."
    path = default_policy_file(ctx.settings)
    if text is None:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return render(
        request,
        "violations.html",
        principal,
        status_code=status_code,
        nav="violations",
        title="Violations",
        violations=list_violations(ctx.engine, resolved=everything),
        deliveries=list_deliveries(ctx.engine)[-50:],
        everything=everything,
        policies_text=text,
        flash=flash,
        flash_kind="bad" if status_code >= 400 else "ok",
    )


@router.post("/violations/policies", response_model=None)
async def policies_save(request: Request, principal: FormPrincipal) -> Response:
    """Replace ``policies.yaml`` with the form's text, if it validates (else say which line)."""
    form = await request.form()
    text = form_text(form, "policies", max_length=200_000) + "\n"
    ctx = context_of(request)
    path = default_policy_file(ctx.settings)
    try:
        parse_policies(text, path.name, path.parent)
    except UsageError as error:
        return _violations(request, principal, text=text, flash=error.message, status_code=422)
    ctx.settings.ensure_home()
    path.write_text(text, encoding="utf-8")
    return see_other("/violations?saved=1")


@router.post("/violations/check")
async def violations_check(request: Request, principal: FormPrincipal) -> RedirectResponse:
    """Evaluate the policies now."""
    del principal
    await flow.run_check(context_of(request))
    return see_other("/violations?checked=1")


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
    """Every campaign, and a form to start one."""
    ctx = context_of(request)
    return render_with_teams(
        request,
        "campaigns.html",
        principal,
        nav="campaigns",
        title="Campaigns",
        campaigns=store.list_campaigns(ctx.engine),
    )


@router.post("/campaigns")
async def campaigns_start(request: Request, principal: FormPrincipal) -> RedirectResponse:
    """Start a campaign from the form."""
    form = await request.form()
    req = flow.CampaignRequest(
        name=form_text(form, "name", max_length=200) or "Access review",
        connections=form_list(form, "connections"),
        due=form_text(form, "due", max_length=10) or None,
        reviewers=split_list(form_text(form, "reviewers")),
    )
    campaign_id = flow.start_campaign(context_of(request), req, principal.actor)
    return see_other(f"/campaigns/{campaign_id}")


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(
    request: Request, campaign_id: RowId, principal: ConsolePrincipal
) -> HTMLResponse:
    """One campaign: progress, bulk decisions, every item with its decision form."""
    ctx = context_of(request)
    campaign = store.get_campaign(ctx.engine, campaign_id)
    items = store.list_items(ctx.engine, campaign_id)
    decided = request.query_params.get("decided")
    flash = f"{decided} item(s) decided." if decided else None
    if request.query_params.get("closed"):
        flash = "Campaign closed: decisions carried out and frozen."
    return render(
        request,
        "campaign.html",
        principal,
        nav="campaigns",
        title=f"Campaign {campaign.name}",
        campaign=campaign,
        campaign_items=items,  # not `items`: the layout names its menu so
        progress=campaigns.progress(items),
        flags=campaigns.FLAGS,
        flash=flash,
    )


@router.post("/campaigns/{campaign_id}/decide")
async def campaign_decide(
    request: Request, campaign_id: RowId, principal: FormPrincipal
) -> RedirectResponse:
    """One item's decision, or a bulk decision on the filter given."""
    form = await request.form()
    email = form_text(form, "email") or None
    flag = form_text(form, "flag") or None
    req = flow.DecisionRequest(
        decision=form_text(form, "decision") or "keep",  # type: ignore[arg-type]
        connection=form_text(form, "connection") or None,
        email=email,
        flag=flag,
        undecided=email is None and flag is None,
        roles=split_list(form_text(form, "roles")),
        apps=split_list(form_text(form, "apps")),
        comment=form_text(form, "comment") or None,
    )
    count = flow.decide(context_of(request), campaign_id, req, principal.actor)
    return see_other(f"/campaigns/{campaign_id}?decided={count}")


@router.post("/campaigns/{campaign_id}/close")
async def campaign_close(
    request: Request, campaign_id: RowId, principal: FormPrincipal
) -> RedirectResponse:
    """Close after the reviewer ticked the confirmation."""
    form = await request.form()
    if form_text(form, "confirm") != "yes":
        raise UsageError("tick the confirmation to close the campaign")
    await flow.close_campaign(context_of(request), campaign_id, principal.actor)
    return see_other(f"/campaigns/{campaign_id}?closed=1")


@router.get("/campaigns/{campaign_id}/report.{fmt}")
def campaign_report(
    request: Request, campaign_id: RowId, fmt: str, principal: ConsolePrincipal
) -> Response:
    """The evidence as a download (``csv`` or ``pdf``)."""
    del principal
    if fmt not in ("csv", "pdf"):
        raise UsageError("reports are csv or pdf")
    engine = context_of(request).engine
    campaign = store.get_campaign(engine, campaign_id)
    items = store.list_items(engine, campaign_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"campaign-{campaign_id}.{fmt}"
        digest = (evidence.write_csv if fmt == "csv" else evidence.write_pdf)(path, campaign, items)
        body = path.read_bytes()
    return Response(
        body,
        media_type="text/csv" if fmt == "csv" else "application/pdf",
        headers={
            "X-Content-Digest": digest,
            "Content-Disposition": f'attachment; filename="campaign-{campaign_id}.{fmt}"',
        },
    )
