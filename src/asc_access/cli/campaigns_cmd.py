"""``asc-access campaigns``: access reviews: start, decide, close (remediate), report, show."""

from __future__ import annotations

import asyncio
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from asc_access.actions import Plan
from asc_access.cli.action_flow import open_teams
from asc_access.cli.common import JSON_OPTION, console, emit_json, err_console, handle_errors
from asc_access.cli.main import command_group
from asc_access.config import Settings
from asc_access.errors import UsageError
from asc_access.governance import campaigns, evidence, remediate
from asc_access.runtime import open_store
from asc_access.store import campaigns as store

if TYPE_CHECKING:
    from asc_access.store.handle import Database

__all__ = ["register"]

campaigns_app = command_group("campaigns", no_args_is_help=True)

ID = typer.Argument(..., help="The campaign id (`asc-access campaigns list`).")


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _now() -> datetime:
    return datetime.now(UTC)


@campaigns_app.command("start")
def start_cmd(
    name: str = typer.Argument(..., help="A name for the review (e.g. 'Q3 2026')."),
    connection: list[str] = typer.Option(None, "--connection", "-c", help="Only these teams."),
    due: str | None = typer.Option(None, "--due", help="Due date, YYYY-MM-DD."),
    reviewer: list[str] = typer.Option(None, "--reviewer", help="A reviewer (repeatable)."),
    directory: Path | None = typer.Option(
        None, "--directory", help="Staff directory (CSV of e-mails): flags leavers."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start a campaign: freeze every person x team with roles, apps and flags."""
    with handle_errors(as_json=as_json):
        engine = open_store()
        campaign_id = campaigns.start(
            engine,
            name,
            actor=_actor(),
            now=_now(),
            connections=connection or None,
            due=due,
            reviewers=reviewer or (),
            directory=directory,
        )
        if as_json:
            emit_json({"id": campaign_id})
            return
        items = store.list_items(engine, campaign_id)
        console.print(f"Campaign [bold]{campaign_id}[/] started: {len(items)} items to review.")


@campaigns_app.command("decide")
def decide_cmd(
    campaign_id: int = ID,
    decision: str = typer.Option(..., "--decision", "-d", help="keep, revoke or reduce."),
    connection: str | None = typer.Option(None, "--connection", "-c", help="The team."),
    email: str | None = typer.Option(None, "--email", "-e", help="The person."),
    role: list[str] = typer.Option(None, "--role", "-r", help="reduce: roles they keep."),
    app: list[str] = typer.Option(None, "--app", "-a", help="reduce: apps they keep."),
    comment: str | None = typer.Option(None, "--comment", help="Why."),
    flag: str | None = typer.Option(None, "--flag", help="Bulk: items with this flag."),
    role_is: str | None = typer.Option(None, "--with-role", help="Bulk: items holding this role."),
    undecided: bool = typer.Option(False, "--undecided", help="Bulk: items not decided yet."),
    every: bool = typer.Option(False, "--all", help="Bulk: every item (with the filters)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Decide on one person (--connection, --email) or in bulk on a filter."""
    with handle_errors(as_json=as_json):
        if email is None and not (flag or role_is or undecided or every):
            raise UsageError(
                "name a person with --email, or a bulk filter (--flag, --with-role, "
                "--undecided, --all)"
            )
        engine = open_store()
        selection = campaigns.Filter(connection, email, flag, role_is, undecided)
        count = campaigns.decide(
            engine, campaign_id, selection, decision, actor=_actor(), now=_now(),
            roles=role or (), apps=app or (), comment=comment,
        )  # fmt: skip
        if as_json:
            emit_json({"id": campaign_id, "decided": count})
            return
        console.print(f"{count} item(s) decided: {decision}.")


def _ask(plan: Plan, yes: bool, as_json: bool) -> bool:
    if not as_json:
        for line in plan.describe():
            console.print(escape(line))
    if yes or not plan.changes:
        return True
    err_console.print(
        f"Close the campaign and make these {len(plan.changes)} change(s)? [y/N] ", end=""
    )
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


async def _close(
    engine: Database, settings: Settings, campaign_id: int, yes: bool, as_json: bool
) -> remediate.CloseResult:
    campaign = store.get_campaign(engine, campaign_id)
    async with open_teams(engine, settings, campaign.connections) as teams:
        return await remediate.close(
            engine,
            campaign_id,
            teams,
            actor=_actor(),
            confirm=lambda plan: _ask(plan, yes, as_json),
        )


@campaigns_app.command("close")
def close_cmd(
    campaign_id: int = ID,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before changing anything."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Close: freeze decisions, carry out revoke/reduce (planned, verified, audited)."""
    with handle_errors(as_json=as_json):
        settings = Settings.from_env()
        engine = open_store(settings)
        result = asyncio.run(_close(engine, settings, campaign_id, yes, as_json))
        failed = sum(1 for v in result.outcomes.values() if v["outcome"] in evidence.FAILED)
        if as_json:
            emit_json(result.as_dict())
        else:
            counts = result.as_dict()["outcomes"]
            console.print(
                f"Campaign {campaign_id} closed: "
                + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            )
    raise typer.Exit(1 if failed else 0)


@campaigns_app.command("report")
def report_cmd(
    campaign_id: int = ID,
    fmt: str = typer.Option(..., "--format", help="csv or pdf."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the report."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write the evidence (CSV or PDF), with a digest of its content."""
    with handle_errors(as_json=as_json):
        if fmt not in ("csv", "pdf"):
            raise UsageError(f"--format is csv or pdf, not {fmt!r}")
        engine = open_store()
        campaign = store.get_campaign(engine, campaign_id)
        items = store.list_items(engine, campaign_id)
        write = evidence.write_csv if fmt == "csv" else evidence.write_pdf
        digest = write(output, campaign, items)
        if as_json:
            emit_json({"id": campaign_id, "format": fmt, "output": str(output), "digest": digest})
            return
        console.print(f"Wrote {escape(str(output))} ({digest}).")


@campaigns_app.command("list")
def list_cmd(as_json: bool = JSON_OPTION) -> None:
    """Every campaign with its progress."""
    with handle_errors(as_json=as_json):
        rows = store.list_campaigns(open_store())
        if as_json:
            emit_json(
                {"campaigns": [{**c.as_dict(), "items": n, "decided": d} for c, n, d in rows]}
            )
            return
        if not rows:
            console.print("No campaigns yet (`asc-access campaigns start NAME`).")
        for c, n, d in rows:
            console.print(
                f"  [bold]{c.id}[/] {escape(c.name)}  {c.status}  due {c.due_date or '-'}"
                f"  {d}/{n} decided  [{escape(', '.join(c.connections))}]"
            )


@campaigns_app.command("show")
def show_cmd(campaign_id: int = ID, as_json: bool = JSON_OPTION) -> None:
    """One campaign: its items, decisions, outcomes and progress."""
    with handle_errors(as_json=as_json):
        engine = open_store()
        campaign = store.get_campaign(engine, campaign_id)
        items = store.list_items(engine, campaign_id)
        progress = campaigns.progress(items)
        if as_json:
            emit_json(
                {**campaign.as_dict(), "progress": progress, "items": [i.as_dict() for i in items]}
            )
            return
        console.print(
            f"[bold]{campaign.id}[/] {escape(campaign.name)} ({campaign.status}), "
            f"{progress['decided']}/{progress['items']} decided"
        )
        for i in items:
            outcome = f" → {i.outcome}" if i.outcome else ""
            console.print(
                f"  {escape(i.connection)} {escape(i.email)} ({i.status}) "
                f"{escape(' '.join(i.roles))} [{' '.join(i.flags)}]: "
                f"{i.decision or '-'}{outcome}"
            )


def register(app: typer.Typer) -> None:
    """Add ``campaigns`` to ``app``."""
    app.add_typer(campaigns_app)
