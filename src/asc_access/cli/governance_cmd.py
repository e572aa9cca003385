"""Governance commands: ``policies check`` (for CI pipelines) and the ``campaigns`` family.

``policies check [--file FILE] [--json]`` evaluates the policy file (default
``policies.yaml`` in ``ASC_ACCESS_HOME``) against the mirror, stores what
opened and resolved, sends the alerts, and exits 0 when nothing is violated,
1 when something is (2 for a policy file that does not validate).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from asc_access.cli import campaigns_cmd
from asc_access.cli.common import JSON_OPTION, console, emit_json, handle_errors, show_records
from asc_access.cli.main import command_group
from asc_access.config import Settings
from asc_access.governance.check import check, default_policy_file
from asc_access.governance.policies import load_policies
from asc_access.runtime import open_store
from asc_access.store.notifications import Delivery, list_deliveries
from asc_access.store.rows import json_view
from asc_access.store.violations import Violation

__all__ = ["register"]

policies_app = command_group("policies", no_args_is_help=True)


def _contract(v: Violation) -> dict[str, object]:
    """The ``--json`` item CI pipelines read (fewer fields than :meth:`Violation.as_dict`)."""
    return json_view(v, "policy", "kind", "connection", "email", "detail", "first_seen")


@policies_app.command("check")
def check_cmd(
    file: Path | None = typer.Option(
        None, "--file", "-f", help="The policy file (default: policies.yaml in ASC_ACCESS_HOME)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Evaluate the policies against the mirror; exit 1 when any is violated."""
    with handle_errors(as_json=as_json):
        settings = Settings.from_env()
        files = load_policies(file or default_policy_file(settings))
        engine = open_store(settings)
        result = check(engine, files)
        violations = result.reconciled.open
        if as_json:
            emit_json({"violations": [_contract(v) for v in violations]})
        else:
            _print(violations, len(files.policies))
    raise typer.Exit(1 if violations else 0)


def _print(violations: list[Violation], policies: int) -> None:
    if not violations:
        console.print(f"[green]✓[/] {policies} policies, no violations.")
        return
    console.print(f"[bold red]{len(violations)} violation(s)[/] of {policies} policies:")
    for v in violations:
        who = f" {escape(v.email)}" if v.email else ""
        console.print(
            f"  [bold]{escape(v.policy)}[/] ({v.kind}) {escape(v.connection)}{who}: "
            f"{escape(v.detail)}  [dim]since {v.first_seen:%Y-%m-%d %H:%M} UTC[/]"
        )


@policies_app.command("alerts")
def alerts_cmd(as_json: bool = JSON_OPTION) -> None:
    """Alert deliveries: which were delivered, which failed and why."""
    with handle_errors(as_json=as_json):
        deliveries = list_deliveries(open_store())
        show_records(
            deliveries,
            as_json=as_json,
            key="deliveries",
            empty="No alerts sent yet.",
            show=_print_delivery,
        )


def _print_delivery(d: Delivery) -> None:
    colour = {"delivered": "green", "failed": "red"}.get(d.status, "yellow")
    error = f" — {escape(d.last_error)}" if d.last_error else ""
    console.print(
        f"  [{colour}]{d.status:<9}[/] violation {d.violation_id} {d.event} → "
        f"{escape(d.channel)} ({d.attempts} attempt(s)){error}"
    )


def register(app: typer.Typer) -> None:
    """Add ``policies`` and ``campaigns`` to ``app``."""
    app.add_typer(policies_app)
    campaigns_cmd.register(app)
