"""Entry point: builds the Typer app from one module per command family."""

from __future__ import annotations

import typer

from asc_access import __version__
from asc_access.cli import (
    actions_cmd,
    desired_cmd,
    doctor_cmd,
    sandbox_cmd,
    serve_cmd,
    sync_cmd,
    worker_cmd,
)

__all__ = ["app", "main"]

app = typer.Typer(
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
desired_cmd.register(app)


def main() -> None:
    """Run the command line."""
    app()
