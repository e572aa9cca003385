"""``asc-access doctor``, ``connect`` and ``connections``: diagnose keys, save and manage them.

Exit status: 0 when the key works, the code's number (101-107) for a
catalogued failure, 2 for a usage error (a missing value, an unknown
connection), 1 for anything else. ``connect --force`` exits 0 once it saved
the (unhealthy) connection; the document says ``"healthy": false``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, NamedTuple

import typer
from rich.markup import escape
from typer import _click as click
from typer.core import TyperCommand

from asc_access import config
from asc_access.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    err_console,
    handle_errors,
    show_record,
    show_records,
)
from asc_access.cli.main import command_group
from asc_access.cli.option_group import grouped, option_group
from asc_access.cli.plain_params import plain_coercion
from asc_access.credentials import CredentialFlags, Evaluation, evaluate, gather_credentials
from asc_access.diagnosis.report import DoctorReport
from asc_access.errors import UsageError

if TYPE_CHECKING:
    from asc_access.runtime import ConnectOutcome
    from asc_access.store.connections import ConnectionRecord

__all__ = ["register"]


class KeyOptions(NamedTuple):
    """The key options ``doctor``, ``connect`` and ``connections rotate-key`` share."""

    flags: CredentialFlags
    api_url: str | None


def _key_options(
    key_id: str | None = typer.Option(None, "--key-id", help="The key's Key ID (env ASC_KEY_ID)."),
    issuer_id: str | None = typer.Option(
        None,
        "--issuer-id",
        help="The team's Issuer ID (env ASC_ISSUER_ID); omit for individual keys.",
    ),
    private_key_file: str | None = typer.Option(
        None,
        "--private-key-file",
        help="The .p8 file, or - for stdin (env ASC_PRIVATE_KEY_PATH / ASC_PRIVATE_KEY).",
    ),
    individual: bool = typer.Option(
        False, "--individual", help="An individual key (no Issuer ID in tokens)."
    ),
    api_key_json: str | None = typer.Option(
        None, "--api-key-json", help="fastlane's API key JSON file (key_id, issuer_id, key, ...)."
    ),
    token_lifetime: int | None = typer.Option(
        None, "--token-lifetime", help="Token lifetime in seconds (default 660; at most 1200)."
    ),
    api_url: str | None = typer.Option(
        None, "--api-url", help="API base URL (env ASC_ACCESS_API_URL; default Apple's)."
    ),
) -> KeyOptions:
    flags = CredentialFlags(
        key_id, issuer_id, private_key_file, individual, api_key_json, token_lifetime
    )
    return KeyOptions(flags, api_url)


#: The key options, as a command's ``key: KeyOptions = KEY_OPTIONS`` (see :func:`grouped`).
KEY_OPTIONS = option_group(_key_options)

connections_app = command_group("connections", invoke_without_command=True)


class _PlainParamsCommand(TyperCommand):
    """A typer command whose plain parameters skip pydantic (see :mod:`.plain_params`)."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return plain_coercion(super().get_params(ctx))


def _evaluate(flags: CredentialFlags) -> Evaluation:
    return evaluate(gather_credentials(flags))


def _print_report(report: DoctorReport) -> None:
    # lazy: drawn only with a report, not on the way to the first request
    from asc_access.diagnosis.render import render_report

    render_report(report, console)


@grouped
def doctor(
    name: str | None = typer.Argument(None, help="A saved connection (else: credentials)."),
    key: KeyOptions = KEY_OPTIONS,
    as_json: bool = JSON_OPTION,
) -> None:
    """Diagnose a key (from flags, env or fastlane JSON) or a saved connection."""
    # lazy: runtime and the store load when a command runs, not for --help
    from asc_access import runtime

    flags, api_url = key
    with handle_errors(as_json=as_json):
        if name is not None:
            if flags.any_given() or api_url:
                raise UsageError(
                    "give either a connection name or credentials, not both "
                    "(use `asc-access connections rotate-key NAME ...` to change a key)"
                )
            settings = config.Settings.from_env()
            engine = runtime.open_store(settings)
            report = asyncio.run(runtime.diagnose_connection(engine, settings, name))
        else:  # the settings model (pydantic) is not needed for the URL alone
            url = (api_url or config.api_url_from_env()).rstrip("/")
            report = asyncio.run(runtime.diagnose_credentials(_evaluate(flags), url))
    show_record(report, as_json=as_json, show=_print_report)
    raise typer.Exit(report.exit_status)


@grouped
def connect(
    name: str = typer.Argument(..., help="A name for the connection (e.g. the team's)."),
    key: KeyOptions = KEY_OPTIONS,
    force: bool = typer.Option(
        False,
        "--force",
        help="Save even when the doctor finds a problem (marked unhealthy), "
        "or when the same key is already saved under another name.",
    ),
    sync_interval: int = typer.Option(
        3600, "--sync-interval", min=0, help="Seconds between scheduled syncs (0: never)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a key with the doctor and save it as a connection when it works."""
    # lazy: runtime and the store load when a command runs, not for --help
    from asc_access import runtime

    flags, api_url = key
    with handle_errors(as_json=as_json):
        settings = config.Settings.from_env()
        url = (api_url or settings.api_url).rstrip("/")
        engine = runtime.open_store(settings)
        outcome = asyncio.run(
            runtime.connect(
                engine,
                settings,
                name,
                _evaluate(flags),
                api_url=url,
                force=force,
                sync_interval_seconds=sync_interval,
            )
        )
    _finish(outcome, as_json=as_json, verb="saved", force=force)


def _finish(outcome: ConnectOutcome, *, as_json: bool, verb: str, force: bool = False) -> None:
    report = outcome.report
    record = outcome.record
    if as_json:
        doc = report.as_dict()
        doc["saved"] = record is not None
        doc["record"] = record.as_dict() if record is not None else None
        doc["warnings"] = list(outcome.warnings)
        emit_json(doc)
    else:
        _print_report(report)
        console.print()
        for warning in outcome.warnings:
            err_console.print(f"[bold yellow]Warning:[/] {escape(warning)}")
        if record is not None and record.healthy:
            console.print(f"[bold green]✓ Connection {record.name!r} {verb}.[/]")
        elif record is not None:
            console.print(
                f"[bold yellow]! Connection {record.name!r} {verb} although it does not work "
                f"(--force): marked unhealthy ({record.health_code} {record.health_cause}).[/]"
            )
        else:
            hint = "" if force or report.usage_error else " (or use --force to save it anyway)"
            err_console.print(f"[bold red]Nothing {verb}[/]: fix the problem above{hint}.")
    if record is not None:
        raise typer.Exit(0)
    raise typer.Exit(report.exit_status)


@connections_app.callback()
def connections_list(
    ctx: typer.Context,
    as_json: bool = JSON_OPTION,
) -> None:
    """List saved connections with their health."""
    if ctx.invoked_subcommand is not None:
        return
    # lazy: runtime and the store load when a command runs, not for --help
    from asc_access import runtime
    from asc_access.store.connections import list_connections

    with handle_errors(as_json=as_json):
        records = list_connections(runtime.open_store())
    empty = "No connections yet. Add one with `asc-access connect NAME --key-id ...`."
    show_records(records, as_json=as_json, key="connections", empty=empty, show=_print_connection)


def _print_connection(r: ConnectionRecord) -> None:
    health = (
        "[green]healthy[/]"
        if r.healthy
        else f"[red]{r.health_code or 'unhealthy'} {r.health_cause or ''}[/]".rstrip()
    )
    last_ok = r.last_ok_at.strftime("%Y-%m-%d %H:%M") if r.last_ok_at else "never"
    console.print(
        f"[bold]{r.name}[/]  {r.key_type} key {r.key_id}  {health}  last ok {last_ok}  {r.api_url}"
    )


@connections_app.command("show")
def connections_show(
    name: str = typer.Argument(..., help="The connection."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one connection: key, API URL, health, last success, capabilities."""
    # lazy: runtime and the store load when a command runs, not for --help
    from asc_access import runtime
    from asc_access.store.connections import get_connection

    with handle_errors(as_json=as_json):
        record = get_connection(runtime.open_store(), name)
    show_record(record, as_json=as_json, show=_print_connection_lines)


def _print_connection_lines(record: ConnectionRecord) -> None:
    # lazy: runtime and the store load when a command runs, not for --help
    from asc_access.cli.connection_text import connection_lines

    for label, value in connection_lines(record):
        console.print(f"{label:>22}: {escape(value)}")


@connections_app.command("set-interval")
def connections_set_interval(
    name: str = typer.Argument(..., help="The connection."),
    seconds: int = typer.Argument(..., min=0, help="Seconds between scheduled syncs (0: never)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set how often the scheduler (service or workers) syncs a connection."""
    # lazy: runtime and the store load when a command runs, not for --help
    from asc_access import runtime
    from asc_access.cli.connection_text import interval_text
    from asc_access.store.connections import set_sync_interval

    with handle_errors(as_json=as_json):
        record = set_sync_interval(runtime.open_store(), name, seconds)
    if as_json:
        emit_json({"connection": record.as_dict()})
        return
    console.print(f"Connection {record.name!r} now syncs {interval_text(seconds)}.")


@connections_app.command("remove")
def connections_remove(
    name: str = typer.Argument(..., help="The connection."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete a connection, its stored key and everything mirrored for it."""
    # lazy: runtime and the store load when a command runs, not for --help
    from asc_access import runtime
    from asc_access.store.connections import delete_connection, get_connection

    with handle_errors(as_json=as_json):
        engine = runtime.open_store()
        get_connection(engine, name)
        if not yes and not typer.confirm(
            f"Delete connection {name!r}, its stored key and its mirrored data?"
        ):
            raise UsageError("not removed (answer yes, or pass --yes)")
        record = delete_connection(engine, name)
    if as_json:
        emit_json({"removed": record.name, "id": record.id})
    else:
        console.print(f"Removed connection {record.name!r} and its stored key.")


@connections_app.command("rotate-key")
@grouped
def connections_rotate_key(
    name: str = typer.Argument(..., help="The connection."),
    key: KeyOptions = KEY_OPTIONS,
    move: bool = typer.Option(
        False,
        "--move",
        help="Allow the new key to be of another team, or at another --api-url.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace a connection's key once the new key passes the doctor (history is kept).

    The new key must be of the same team at the same API URL unless --move is
    given; the old key is kept until the new one has synced once.
    """
    # lazy: runtime and the store load when a command runs, not for --help
    from asc_access import runtime

    flags, api_url = key
    with handle_errors(as_json=as_json):
        settings = config.Settings.from_env()
        engine = runtime.open_store(settings)
        outcome = asyncio.run(
            runtime.rotate_key(engine, settings, name, _evaluate(flags), api_url=api_url, move=move)
        )
    _finish(outcome, as_json=as_json, verb="updated with the new key")


def register(app: typer.Typer) -> None:
    """Add ``doctor``, ``connect`` and ``connections`` to ``app``."""
    app.command("doctor", cls=_PlainParamsCommand)(doctor)
    app.command("connect", cls=_PlainParamsCommand)(connect)
    app.add_typer(connections_app)
