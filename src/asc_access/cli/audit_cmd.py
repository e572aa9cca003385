"""``audit``: what was changed (or attempted), by whom, on which team, with what outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from asc_access.cli.common import JSON_OPTION, console, handle_errors, show_records
from asc_access.errors import UsageError
from asc_access.runtime import open_store
from asc_access.store import audit
from asc_access.store.connections import list_connections

if TYPE_CHECKING:
    from asc_access.store.handle import Database

__all__ = ["audit_cmd", "register"]


def audit_cmd(
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many entries, newest first."),
    connection: str | None = typer.Option(None, "--connection", "-c", help="Only this team."),
    entry_id: int | None = typer.Option(None, "--id", help="Show one entry in full."),
    as_json: bool = JSON_OPTION,
) -> None:
    """What was changed, by whom, on which team, with what outcome."""
    with handle_errors(as_json=as_json):
        engine = open_store()
        if entry_id is not None:
            entries = [audit.get_entry(engine, entry_id)]
        else:
            entries = audit.list_entries(engine, limit=limit, connection=connection)
            if connection and not entries:
                _check_audit_connection(engine, connection)
        empty = "No actions recorded yet."
        show_records(entries, as_json=as_json, key="entries", empty=empty, show=_print_entry)


def _check_audit_connection(engine: Database, name: str) -> None:
    """Refuse a team that is neither saved nor named in any audit entry (a typo)."""
    saved = [c.name for c in list_connections(engine)]
    if name not in saved:
        raise UsageError(
            f"no connection named {name!r} is saved or in the audit log; "
            f"known: {', '.join(saved) or 'none yet'}"
        )


def _print_entry(entry: audit.AuditEntry) -> None:
    when = entry.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    teams = ", ".join(entry.connections)
    console.print(
        f"[bold]#{entry.id}[/] {when}  {escape(entry.actor)}  {escape(entry.action)} "
        f"{escape(entry.target or '')}  {escape(f'[{teams}]')}  {entry.status}"
    )
    if entry.reason:
        console.print(f"    refused  {escape(entry.reason)}")
    for step in entry.steps:
        outcome: Any = step.get("outcome") or step.get("state")
        code = f" {step['code']}" if step.get("code") else ""
        ids = ", ".join(step.get("request_ids") or [])
        console.print(
            f"    {outcome:<8} {escape(str(step.get('connection')))}: "
            f"{escape(str(step.get('summary')))}{code}"
            + (f"  (request {escape(ids)})" if ids else ""),
        )


def register(app: typer.Typer) -> None:
    """Add ``audit`` to ``app``."""
    app.command("audit")(audit_cmd)
