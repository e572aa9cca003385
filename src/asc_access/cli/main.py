"""Entry point: builds the Typer app from one module per command family."""

from __future__ import annotations

import typer
from typer._click.core import Command, Context, Parameter  # the Click Typer vendors
from typer.core import TyperGroup

from asc_access import __version__
from asc_access.cli import (
    actions_cmd,
    audit_cmd,
    desired_cmd,
    doctor_cmd,
    governance_cmd,
    sandbox_cmd,
    serve_cmd,
    sync_cmd,
    worker_cmd,
)

__all__ = ["app", "main"]


def _plain_flag(param: Parameter) -> None:
    """Show an on/off flag as a flag in help (no ``<bool>`` value after it)."""
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        param.metavar = ""


def _plain_flags(command: Command, ctx: Context) -> None:
    for param in command.params:
        _plain_flag(param)
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        _plain_flag(help_option)
    subcommands: dict[str, Command] = getattr(command, "commands", {})
    if subcommands:
        for sub in subcommands.values():
            _plain_flags(sub, ctx)


class _Root(TyperGroup):
    """The root group: every flag of every command reads as a flag in help."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        params = super().get_params(ctx)
        for param in params:
            _plain_flag(param)
        return params

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_flags(command, ctx)
        return command


app = typer.Typer(
    cls=_Root,
    name="asc-access",
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


for _module in (doctor_cmd, sync_cmd, actions_cmd, serve_cmd, worker_cmd, sandbox_cmd):
    _module.register(app)
governance_cmd.register(app)
for _extra in (audit_cmd, desired_cmd):
    _extra.register(app)


def main() -> None:
    """Run the command line."""
    app()
