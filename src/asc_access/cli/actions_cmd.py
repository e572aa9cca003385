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

from pathlib import Path

import typer

from asc_access.actions import (
    ActionSpec,
    Plan,
    Team,
    load_desired_state,
    plan_action,
    plan_desired_state,
)
from asc_access.cli.action_flow import FLOW_OPTIONS, Flow, Planner, TeamNames, run_on_one, run_plan
from asc_access.cli.common import JSON_OPTION, handle_errors
from asc_access.cli.option_group import grouped
from asc_access.errors import UsageError
from asc_access.store.connections import get_connection, list_connections
from asc_access.store.handle import Database

__all__ = ["register"]

#: This module's commands, each under its name; :func:`register` adds them to the app.
commands = typer.Typer()

CONNECTION = typer.Option(None, "--connection", "-c", help="The team (connection) to act on.")
FORCE = typer.Option(False, "--force", help="Allow removing or demoting the last Admin.")
ROLES = typer.Option(None, "--role", "-r", help="A role (repeatable): DEVELOPER, ADMIN, ...")
APPS = typer.Option(None, "--app", "-a", help="An app id, bundle id or name (repeatable).")


@commands.command("invite")
@grouped
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
    flow: Flow = FLOW_OPTIONS,
) -> None:
    """Invite a person (or re-send a changed/expired invitation)."""
    spec = ActionSpec(
        action="invite",
        email=email,
        first_name=first_name,
        last_name=last_name,
        roles=role or [],
        apps=app or None,
        all_apps=all_apps,
        provisioning=provisioning,
    )
    run_on_one(connection, spec, flow)


@commands.command("cancel-invitation")
@grouped
def cancel_invitation(
    email: str = typer.Argument(..., help="The invited e-mail address."),
    connection: str | None = CONNECTION,
    flow: Flow = FLOW_OPTIONS,
) -> None:
    """Cancel a person's pending (or expired) invitation."""
    spec = ActionSpec(action="cancel-invitation", email=email)
    run_on_one(connection, spec, flow)


@commands.command("remove")
@grouped
def remove(
    email: str = typer.Argument(..., help="The member's e-mail address."),
    connection: str | None = CONNECTION,
    force: bool = FORCE,
    flow: Flow = FLOW_OPTIONS,
) -> None:
    """Remove a member from a team."""
    spec = ActionSpec(action="remove", email=email, force=force)
    run_on_one(connection, spec, flow)


@commands.command("set-roles")
@grouped
def set_roles(
    email: str = typer.Argument(..., help="The member's e-mail address."),
    role: list[str] = ROLES,
    connection: str | None = CONNECTION,
    force: bool = FORCE,
    flow: Flow = FLOW_OPTIONS,
) -> None:
    """Give a member exactly these roles."""
    spec = ActionSpec(action="set-roles", email=email, roles=role or [], force=force)
    run_on_one(connection, spec, flow)


@commands.command("set-apps")
@grouped
def set_apps(
    email: str = typer.Argument(..., help="The member's e-mail address."),
    app: list[str] = typer.Option(None, "--app", "-a", help="The full list of apps (repeatable)."),
    add: list[str] = typer.Option(None, "--add", help="Also show this app (repeatable)."),
    drop: list[str] = typer.Option(None, "--remove", help="Stop showing this app (repeatable)."),
    all_apps: bool = typer.Option(False, "--all-apps", help="Show every app."),
    connection: str | None = CONNECTION,
    flow: Flow = FLOW_OPTIONS,
) -> None:
    """Change which apps a member sees: a full list, --add/--remove, or --all-apps."""
    spec = ActionSpec(
        action="set-apps",
        email=email,
        apps=app or None,
        add=add or (),
        remove=drop or (),
        all_apps=all_apps,
    )
    run_on_one(connection, spec, flow)


@commands.command("offboard")
@grouped
def offboard(
    email: str = typer.Argument(..., help="The leaver's e-mail address."),
    connection: list[str] = typer.Option(
        None, "--connection", "-c", help="Only these teams (repeatable; default: every team)."
    ),
    force: bool = FORCE,
    flow: Flow = FLOW_OPTIONS,
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
        return await plan_action(
            list(teams.values()), ActionSpec(action="offboard", email=email, force=force)
        )

    run_plan(planner, names, flow)


def _desired(file: Path, force: bool, action: str) -> tuple[Planner, TeamNames]:
    desired = load_desired_state(file)

    async def planner(teams: dict[str, Team]) -> Plan:
        return await plan_desired_state(desired, teams, force=force, action=action)

    def names(engine: Database) -> list[str]:
        return [get_connection(engine, n).name for n in desired.teams]

    return planner, names


FILE = typer.Argument(..., help="A desired-state file (.yaml, .yml or .json).")


@commands.command("plan")
def plan_cmd(
    file: Path = FILE,
    force: bool = FORCE,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show what `apply FILE` would change (invitations, changes, removals)."""
    with handle_errors(as_json=as_json):
        planner, names = _desired(file, force, "plan")
    run_plan(planner, names, Flow(dry_run=True, yes=False, as_json=as_json))


@commands.command("apply")
@grouped
def apply_cmd(
    file: Path = FILE,
    force: bool = FORCE,
    flow: Flow = FLOW_OPTIONS,
) -> None:
    """Make the teams look like FILE: plan, confirm, execute, audit."""
    with handle_errors(as_json=flow.as_json):
        planner, names = _desired(file, force, "apply")
    run_plan(planner, names, flow, skip_empty=True)


def register(app: typer.Typer) -> None:
    """Add the provisioning commands to ``app``."""
    app.add_typer(commands)  # unnamed: its commands join the app's
