"""Entry point: the Typer app, with each command imported only when it runs.

Start-up matters (a person typing ``doctor``; a platform running thousands of
checks), so ``asc-access --help`` imports no command module at all, and a
command imports only its own module (``doctor`` never loads the store, the
service or the workers).

To add a command: write ``register(app)`` in its module as usual (it calls
``app.command("name")(function)`` or ``app.add_typer(sub_app)``), then add one
line to :data:`COMMANDS` below: the command's name, its module under
``asc_access.cli``, and the one-line help shown by ``asc-access --help`` (the
first line of the command's docstring; ``tests/test_startup.py`` checks both).
A command group's sub-app comes from :func:`command_group`, which takes its
help from the table.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NamedTuple

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

from asc_access import __version__
from asc_access.cli.extras import install_hint, needed_extra
from asc_access.cli.plain_params import plain_coercion

__all__ = ["COMMANDS", "Command", "app", "command_group", "main"]


class Command(NamedTuple):
    """One top-level command: its name, the module that registers it, its one-line help."""

    name: str
    module: str
    help: str


#: Every top-level command, in ``--help`` order. Keep it a plain declarative table.
COMMANDS: tuple[Command, ...] = (
    Command(
        "doctor",
        "doctor_cmd",
        "Diagnose a key (from flags, env or fastlane JSON) or a saved connection.",
    ),
    Command(
        "connect",
        "doctor_cmd",
        "Check a key with the doctor and save it as a connection when it works.",
    ),
    Command(
        "sync",
        "sync_cmd",
        "Mirror teams into the store: members, roles, app access, invitations, apps.",
    ),
    Command("users", "sync_cmd", "Team members with their roles and the apps they can see."),
    Command("invitations", "sync_cmd", "Invitations sent and not (yet) accepted."),
    Command("apps", "sync_cmd", "The apps on each team."),
    Command("changes", "sync_cmd", "What changed between syncs, or through actions, oldest first."),
    Command(
        "export",
        "sync_cmd",
        "The access-review matrix: one row per person per team (members and invitees).",
    ),
    Command(
        "review",
        "sync_cmd",
        "Who deserves a second look: admins, all-app access, stale invitations, leavers.",
    ),
    Command(
        "demo",
        "sync_cmd",
        "The guided tour: a local sandbox team, the doctor, a sync, the review (no credentials).",
    ),
    Command("invite", "actions_cmd", "Invite a person (or re-send a changed/expired invitation)."),
    Command(
        "cancel-invitation", "actions_cmd", "Cancel a person's pending (or expired) invitation."
    ),
    Command("remove", "actions_cmd", "Remove a member from a team."),
    Command("set-roles", "actions_cmd", "Give a member exactly these roles."),
    Command(
        "set-apps",
        "actions_cmd",
        "Change which apps a member sees: a full list, --add/--remove, or --all-apps.",
    ),
    Command(
        "offboard",
        "actions_cmd",
        "Remove a person and cancel their invitations on every connected team.",
    ),
    Command(
        "plan",
        "actions_cmd",
        "Show what `apply FILE` would change (invitations, changes, removals).",
    ),
    Command(
        "apply", "actions_cmd", "Make the teams look like FILE: plan, confirm, execute, audit."
    ),
    Command(
        "export-desired",
        "desired_cmd",
        "Write today's access (from the mirror) as a desired-state file to edit and apply.",
    ),
    Command("audit", "audit_cmd", "What was changed, by whom, on which team, with what outcome."),
    Command(
        "serve",
        "serve_cmd",
        "Run the REST API (/api/v1, described at /api/openapi.json) and the web console.",
    ),
    Command(
        "worker",
        "worker_cmd",
        "Run a Celery worker that takes syncs from the queue (JSON logs on stderr).",
    ),
    Command(
        "scheduler",
        "worker_cmd",
        "Queue each connection's sync when its interval comes round (run one or more).",
    ),
    Command(
        "sandbox",
        "sandbox_cmd",
        "Run a local App Store Connect API (users, invitations, apps) with issued keys.",
    ),
    Command(
        "connections",
        "doctor_cmd",
        "Saved connections: list with health (no subcommand), show, set-interval, remove, "
        "rotate-key.",
    ),
    Command(
        "tokens",
        "serve_cmd",
        "Named API tokens for the service: create (shown once), revoke, list.",
    ),
    Command(
        "scim",
        "scim_cmd",
        "The SCIM bridge (/scim/v2 on serve): map the IdP's groups to roles and apps.",
    ),
    Command("policies", "governance_cmd", "Policies over every team: check them, see alerts."),
    Command("campaigns", "governance_cmd", "Access reviews: freeze, decide, remediate, prove."),
    Command(
        "workers",
        "worker_cmd",
        "Inspect the Celery workers: health, queue depth, each connection's syncs.",
    ),
)

_BY_NAME = {command.name: command for command in COMMANDS}


def command_group(name: str, **settings: Any) -> typer.Typer:
    """The sub-app of a command group (``connections``, ``tokens``, ...), help from the table."""
    return typer.Typer(name=name, help=_BY_NAME[name].help, **settings)


def load_command(name: str) -> click.Command:
    """The real click command ``name``: imports its module and builds what it registers."""
    entry = _BY_NAME[name]
    # Imported here, not at the top: loading every command module costs ~0.7 s of start-up.
    module: Any = importlib.import_module(f"asc_access.cli.{entry.module}")
    holder = typer.Typer()
    module.register(holder)
    group = typer.main.get_group(holder)
    command = group.commands.get(name)
    if command is None:
        raise LookupError(f"asc_access.cli.{entry.module}.register() adds no command {name!r}")
    return command


def _plain_flag(param: click.Parameter) -> None:
    """Show an on/off flag as a flag in help (no ``<bool>`` value after it)."""
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        param.metavar = ""


def _plain_flags(command: click.Command, ctx: click.Context) -> None:
    for param in command.params:
        _plain_flag(param)
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        _plain_flag(help_option)
    subcommands: dict[str, click.Command] = getattr(command, "commands", {})
    for sub in subcommands.values():
        _plain_flags(sub, ctx)


class _LazyGroup(TyperGroup):
    """Lists commands from :data:`COMMANDS`; imports one only to run it (or show its help)."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = plain_coercion(super().get_params(ctx))
        for param in params:
            _plain_flag(param)
        return params

    def list_commands(self, ctx: click.Context) -> list[str]:
        own = super().list_commands(ctx)
        return [*own, *(c.name for c in COMMANDS if c.name not in own)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        entry = _BY_NAME.get(cmd_name)
        if command is not None:
            _plain_flags(command, ctx)  # every flag of every command reads as a flag in help
            return command
        if entry is None:
            return None
        # A stand-in carrying the one-line help, for listings; running resolves the real one.
        return TyperCommand(cmd_name, help=entry.help, short_help=entry.help)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] in _BY_NAME and args[0] not in self.commands:
            self.commands[args[0]] = load_command(args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="asc-access",
    cls=_LazyGroup,
    # Plain help for the top level: rendering it with rich costs ~0.15 s of imports.
    # Each command's own help (``asc-access doctor --help``) is still drawn with rich.
    rich_markup_mode=None,
    help="Connect to App Store Connect, diagnose keys, mirror and govern who has access.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"asc-access {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """asc-access."""


def main() -> None:
    """Run the command line (a missing optional extra is one line and exit status 2)."""
    try:
        app()
    except ModuleNotFoundError as error:
        extra = needed_extra(error)
        if extra is None:
            raise
        module = (error.name or extra).split(".")[0]
        print(f"Error: {install_hint(extra, module)}", file=sys.stderr)
        raise SystemExit(2) from None
