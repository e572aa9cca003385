"""Provisioning commands: invite, cancel-invitation, remove, set-roles, set-apps, offboard,
plan / apply (desired state); ``audit`` lives in :mod:`asc_access.cli.audit_cmd`.

Every command plans first (a fresh read of Apple), prints the plan, asks before
changing anything (``--yes`` skips the question, ``--dry-run`` stops after the
plan), then executes step by step and prints each outcome (``done``,
``already``, ``failed``). ``--json`` prints one document: the plan, and after
execution the status, the audit entry id and every step.

Exit status: 0 when nothing failed; 1 when a safety rule refused the plan
(audited) or a step failed without a catalogue code; 101-107 for the first
catalogued failure; 2 for usage errors.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import typer
from rich.markup import escape

from asc_access.actions import (
    Execution,
    Plan,
    StepResult,
    Team,
    execute_plan,
    load_desired_state,
    plan_cancel_invitation,
    plan_desired_state,
    plan_invite,
    plan_offboard,
    plan_remove,
    plan_set_apps,
    plan_set_roles,
    record_unexecuted,
)
from asc_access.catalogue import exit_status_for
from asc_access.cli.common import JSON_OPTION, console, emit_json, err_console, handle_errors
from asc_access.config import Settings
from asc_access.errors import UsageError
from asc_access.runtime import client_for_connection, open_store, team_lock
from asc_access.store.connections import get_connection, list_connections
from asc_access.store.handle import Database

__all__ = ["register"]

CONNECTION = typer.Option(None, "--connection", "-c", help="The team (connection) to act on.")
DRY_RUN = typer.Option(False, "--dry-run", help="Show the plan; change nothing.")
YES = typer.Option(False, "--yes", "-y", help="Do not ask before changing anything.")
FORCE = typer.Option(False, "--force", help="Allow removing or demoting the last Admin.")
ROLES = typer.Option(None, "--role", "-r", help="A role (repeatable): DEVELOPER, ADMIN, ...")
APPS = typer.Option(None, "--app", "-a", help="An app id, bundle id or name (repeatable).")

Planner = Callable[[dict[str, Team]], Awaitable[Plan]]
TeamNames = Callable[[Database], list[str]]  # which teams a command acts on


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def _confirm(question: str) -> bool:
    """Ask on stderr, read the answer from stdin (stdout stays for output and JSON)."""
    err_console.print(f"{question} [y/N] ", end="", markup=False)
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        err_console.print()
    return answer.strip().lower() in {"y", "yes"}


def _one_connection(engine: Database, name: str | None) -> str:
    if name:
        return get_connection(engine, name).name
    names = [c.name for c in list_connections(engine)]
    if len(names) == 1:
        return names[0]
    if not names:
        raise UsageError("no connections yet: save one with `asc-access connect NAME ...`")
    raise UsageError(
        f"several teams are connected; name one with --connection ({', '.join(names)})"
    )


@asynccontextmanager
async def open_teams(
    engine: Database, settings: Settings, names: Sequence[str]
) -> AsyncIterator[dict[str, Team]]:
    async with AsyncExitStack() as stack:
        teams: dict[str, Team] = {}
        for name in names:
            record = get_connection(engine, name)
            client = client_for_connection(engine, settings, name)
            await stack.enter_async_context(client)
            teams[name] = Team(name, client, record.id, engine)
        yield teams


def _print_plan(plan: Plan) -> None:
    for line in plan.describe():
        console.print(escape(line))


def _print_step(result: StepResult) -> None:
    outcome = result.outcome.value if result.outcome else result.state
    colour = {"done": "green", "already": "cyan", "failed": "red"}.get(outcome, "yellow")
    code = f" {result.code}" if result.code else ""
    console.print(
        f"  [{colour}]{outcome:<8}[/] {escape(result.step.connection)}: "
        f"{escape(result.step.summary())}{code} — {escape(result.message)}"
    )


def _exit_status(execution: Execution) -> int:
    if execution.status == "done":
        return 0
    failure = execution.first_failure
    return exit_status_for(failure.code if failure else None)


def _run(
    planner: Planner,
    names: TeamNames,
    *,
    dry_run: bool,
    yes: bool,
    as_json: bool,
    skip_empty: bool = False,
) -> None:
    """Plan, show, confirm, execute, report: the flow every command shares."""
    with handle_errors(as_json=as_json):
        settings = Settings.from_env()
        engine = open_store(settings)
        status = asyncio.run(
            _flow(engine, settings, planner, names(engine), dry_run, yes, as_json, skip_empty)
        )
    raise typer.Exit(status)


async def _flow(
    engine: Database,
    settings: Settings,
    planner: Planner,
    names: list[str],
    dry_run: bool,
    yes: bool,
    as_json: bool,
    skip_empty: bool,
) -> int:
    async with open_teams(engine, settings, names) as teams:
        plan = await planner(teams)
        blocking = plan.blocking_refusals
        if not as_json:
            _print_plan(plan)
        if blocking or dry_run or (skip_empty and not plan.changes):
            status = 1 if blocking else _incomplete_status(plan)
            audit_id = None if dry_run else record_unexecuted(plan, engine=engine, actor=_actor())
            recorded = f" Recorded as audit entry {audit_id}." if audit_id is not None else ""
            if as_json:
                doc = {"ok": status == 0, "dry_run": dry_run, "plan": plan.as_dict()}
                emit_json(doc if dry_run else {**doc, "audit_id": audit_id})
            elif blocking:
                console.print(f"[bold red]Refused:[/] nothing was changed.{recorded}")
            elif not plan.changes and skip_empty:
                console.print(f"Nothing to change.{recorded}")
            return status
        if plan.changes and not yes:
            question = f"Make these {len(plan.changes)} change(s) on App Store Connect?"
            if not _confirm(question):
                err_console.print("Cancelled: nothing was changed.")
                return 1
        if not plan.steps:
            return _report_incomplete(plan, as_json)
        on_step = None if as_json else _print_step
        execution = await execute_plan(
            plan, teams, engine=engine, actor=_actor(), on_step=on_step, lock=team_lock(settings)
        )
    status = _exit_status(execution) or _incomplete_status(plan)
    if as_json:
        emit_json({"ok": status == 0, "plan": plan.as_dict(), **execution.as_dict()})
    else:
        colour = "green" if status == 0 else "red"
        console.print(
            f"[{colour}]{execution.status}[/] (audit entry {execution.audit_id}; "
            "`asc-access audit` shows it)"
        )
        if plan.incomplete:
            teams_left = ", ".join(r.connection for r in plan.incomplete)
            console.print(f"[bold red]Incomplete:[/] not covered on {escape(teams_left)}.")
    return status


def _incomplete_status(plan: Plan) -> int:
    """Non-zero when part of the request could not be planned (an unreadable team)."""
    return exit_status_for(plan.incomplete[0].code) if plan.incomplete else 0


def _report_incomplete(plan: Plan, as_json: bool) -> int:
    status = _incomplete_status(plan)
    if as_json:
        emit_json({"ok": status == 0, "plan": plan.as_dict(), "status": "done", "steps": []})
    elif status:
        console.print("[bold red]Incomplete:[/] nothing could be planned on the teams above.")
    return status


def _single(connection: str | None) -> TeamNames:
    return lambda engine: [_one_connection(engine, connection)]


def invite(
    email: str = typer.Argument(..., help="The person's e-mail address."),
    first_name: str = typer.Option(..., "--first-name", help="First name."),
    last_name: str = typer.Option(..., "--last-name", help="Last name."),
    role: list[str] = ROLES,
    app: list[str] = APPS,
    all_apps: bool = typer.Option(False, "--all-apps", help="They see every app."),
    provisioning: bool = typer.Option(
        False, "--provisioning", help="Access to Certificates, Identifiers & Profiles."
    ),
    connection: str | None = CONNECTION,
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    as_json: bool = JSON_OPTION,
) -> None:
    """Invite a person (or re-send a changed/expired invitation)."""

    async def planner(teams: dict[str, Team]) -> Plan:
        (team,) = teams.values()
        return await plan_invite(
            team,
            email,
            first_name=first_name,
            last_name=last_name,
            roles=role or [],
            apps=app or None,
            all_apps=all_apps,
            provisioning=provisioning,
        )

    _run(planner, _single(connection), dry_run=dry_run, yes=yes, as_json=as_json)


def cancel_invitation(
    email: str = typer.Argument(..., help="The invited e-mail address."),
    connection: str | None = CONNECTION,
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    as_json: bool = JSON_OPTION,
) -> None:
    """Cancel a person's pending (or expired) invitation."""

    async def planner(teams: dict[str, Team]) -> Plan:
        (team,) = teams.values()
        return await plan_cancel_invitation(team, email)

    _run(planner, _single(connection), dry_run=dry_run, yes=yes, as_json=as_json)


def remove(
    email: str = typer.Argument(..., help="The member's e-mail address."),
    connection: str | None = CONNECTION,
    force: bool = FORCE,
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove a member from a team."""

    async def planner(teams: dict[str, Team]) -> Plan:
        (team,) = teams.values()
        return await plan_remove(team, email, force=force)

    _run(planner, _single(connection), dry_run=dry_run, yes=yes, as_json=as_json)


def set_roles(
    email: str = typer.Argument(..., help="The member's e-mail address."),
    role: list[str] = ROLES,
    connection: str | None = CONNECTION,
    force: bool = FORCE,
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    as_json: bool = JSON_OPTION,
) -> None:
    """Give a member exactly these roles."""

    async def planner(teams: dict[str, Team]) -> Plan:
        (team,) = teams.values()
        return await plan_set_roles(team, email, role or [], force=force)

    _run(planner, _single(connection), dry_run=dry_run, yes=yes, as_json=as_json)


def set_apps(
    email: str = typer.Argument(..., help="The member's e-mail address."),
    app: list[str] = typer.Option(None, "--app", "-a", help="The full list of apps (repeatable)."),
    add: list[str] = typer.Option(None, "--add", help="Also show this app (repeatable)."),
    drop: list[str] = typer.Option(None, "--remove", help="Stop showing this app (repeatable)."),
    all_apps: bool = typer.Option(False, "--all-apps", help="Show every app."),
    connection: str | None = CONNECTION,
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change which apps a member sees: a full list, --add/--remove, or --all-apps."""

    async def planner(teams: dict[str, Team]) -> Plan:
        (team,) = teams.values()
        return await plan_set_apps(
            team, email, apps=app or None, add=add or (), remove=drop or (), all_apps=all_apps
        )

    _run(planner, _single(connection), dry_run=dry_run, yes=yes, as_json=as_json)


def offboard(
    email: str = typer.Argument(..., help="The leaver's e-mail address."),
    connection: list[str] = typer.Option(
        None, "--connection", "-c", help="Only these teams (repeatable; default: every team)."
    ),
    force: bool = FORCE,
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove a person and cancel their invitations on every connected team."""

    def names(engine: Database) -> list[str]:
        if connection:
            return [get_connection(engine, n).name for n in dict.fromkeys(connection)]
        found = [c.name for c in list_connections(engine)]
        if not found:
            raise UsageError("no connections yet: save one with `asc-access connect NAME ...`")
        return found

    async def planner(teams: dict[str, Team]) -> Plan:
        return await plan_offboard(list(teams.values()), email, force=force)

    _run(planner, names, dry_run=dry_run, yes=yes, as_json=as_json)


def _desired(file: Path, force: bool, action: str) -> tuple[Planner, TeamNames]:
    desired = load_desired_state(file)

    async def planner(teams: dict[str, Team]) -> Plan:
        return await plan_desired_state(desired, teams, force=force, action=action)

    def names(engine: Database) -> list[str]:
        return [get_connection(engine, n).name for n in desired.teams]

    return planner, names


FILE = typer.Argument(..., help="A desired-state file (.yaml, .yml or .json).")


def plan_cmd(
    file: Path = FILE,
    force: bool = FORCE,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show what `apply FILE` would change (invitations, changes, removals)."""
    with handle_errors(as_json=as_json):
        planner, names = _desired(file, force, "plan")
    _run(planner, names, dry_run=True, yes=False, as_json=as_json)


def apply_cmd(
    file: Path = FILE,
    force: bool = FORCE,
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    as_json: bool = JSON_OPTION,
) -> None:
    """Make the teams look like FILE: plan, confirm, execute, audit."""
    with handle_errors(as_json=as_json):
        planner, names = _desired(file, force, "apply")
    _run(planner, names, dry_run=dry_run, yes=yes, as_json=as_json, skip_empty=True)


def register(app: typer.Typer) -> None:
    """Add the provisioning commands to ``app``."""
    app.command("invite")(invite)
    app.command("cancel-invitation")(cancel_invitation)
    app.command("remove")(remove)
    app.command("set-roles")(set_roles)
    app.command("set-apps")(set_apps)
    app.command("offboard")(offboard)
    app.command("plan")(plan_cmd)
    app.command("apply")(apply_cmd)
