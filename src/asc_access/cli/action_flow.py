"""The flow every provisioning command shares: plan, show, confirm, execute, report.

:func:`run_plan` opens the teams a command names, asks its planner for a plan,
prints it, asks before changing anything (``--yes`` skips the question,
``--dry-run`` stops after the plan), executes step by step and reports (or one
``--json`` document). :func:`run_on_one` is the same for a command on one team.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import NamedTuple

import typer
from rich.markup import escape

from asc_access.actions import (
    ActionSpec,
    Execution,
    Plan,
    StepResult,
    Team,
    execute_plan,
    plan_action,
    record_unexecuted,
)
from asc_access.catalogue import exit_status_for
from asc_access.cli.common import JSON_OPTION, console, emit_json, err_console, handle_errors
from asc_access.cli.option_group import option_group
from asc_access.config import Settings
from asc_access.errors import UsageError
from asc_access.runtime import client_for_connection, open_store, team_lock
from asc_access.store.connections import get_connection, list_connections
from asc_access.store.handle import Database

__all__ = ["FLOW_OPTIONS", "Flow", "Planner", "TeamNames", "open_teams", "run_on_one", "run_plan"]

Planner = Callable[[dict[str, Team]], Awaitable[Plan]]
TeamNames = Callable[[Database], list[str]]  # which teams a command acts on


class Flow(NamedTuple):
    """How a command runs its plan: ``--dry-run``, ``--yes``, ``--json``."""

    dry_run: bool
    yes: bool
    as_json: bool


def _flow(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before changing anything."),
    as_json: bool = JSON_OPTION,
) -> Flow:
    return Flow(dry_run, yes, as_json)


#: The flow options, as a command's ``flow: Flow = FLOW_OPTIONS`` (see :mod:`.option_group`).
FLOW_OPTIONS = option_group(_flow)


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


def run_plan(planner: Planner, names: TeamNames, flow: Flow, *, skip_empty: bool = False) -> None:
    """Plan, show, confirm, execute, report: the flow every command shares."""
    with handle_errors(as_json=flow.as_json):
        settings = Settings.from_env()
        engine = open_store(settings)
        status = asyncio.run(
            _run(engine, settings, planner, names(engine), *flow, skip_empty=skip_empty)
        )
    raise typer.Exit(status)


async def _run(
    engine: Database,
    settings: Settings,
    planner: Planner,
    names: list[str],
    dry_run: bool,
    yes: bool,
    as_json: bool,
    *,
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


def run_on_one(connection: str | None, spec: ActionSpec, flow: Flow) -> None:
    """A one-team command: ``spec`` planned on the named (or only) connection."""

    async def planner(teams: dict[str, Team]) -> Plan:
        return await plan_action(list(teams.values()), spec)

    def names(engine: Database) -> list[str]:
        return [_one_connection(engine, connection)]

    run_plan(planner, names, flow)
