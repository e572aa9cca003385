"""``asc-access serve`` (REST API + web console) and ``asc-access tokens`` (named API tokens)."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from asc_access.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    err_console,
    handle_errors,
    show_record,
)
from asc_access.cli.launch import PORT_IN_USE_STATUS, is_loopback, port_in_use, port_in_use_message
from asc_access.cli.main import command_group
from asc_access.config import Settings

if TYPE_CHECKING:
    from asc_access.store.tokens import TokenRecord

__all__ = ["register"]

#: uvicorn's import string of the service factory (the CLI never imports the service).
SERVICE_FACTORY = "asc_access.service.app:app_from_env"

tokens_app = command_group("tokens", no_args_is_help=True)


def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind (loopback unless you say otherwise)."
    ),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port to listen on."),
    no_scheduler: bool = typer.Option(
        False, "--no-scheduler", help="Do not sync connections on their intervals."
    ),
    ssl_certfile: str | None = typer.Option(
        None, "--ssl-certfile", help="Serve https with this certificate (PEM)."
    ),
    ssl_keyfile: str | None = typer.Option(
        None, "--ssl-keyfile", help="The certificate's private key (PEM)."
    ),
) -> None:
    """Run the REST API (/api/v1, described at /api/openapi.json) and the web console.

    Exit status 1 with one line when the port is already in use.
    """
    if port_in_use(host, port):
        err_console.print(
            f"[bold red]Error:[/] {port_in_use_message(host, port, free_port_hint=False)}"
        )
        raise typer.Exit(PORT_IN_USE_STATUS)
    if bool(ssl_certfile) != bool(ssl_keyfile):
        err_console.print("[red]--ssl-certfile and --ssl-keyfile go together.[/]")
        raise typer.Exit(2)
    config = _load_service(
        host, port, scheduler=not no_scheduler, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile
    )
    scheme = "https" if ssl_certfile else "http"
    if not is_loopback(host) and not ssl_certfile:
        err_console.print(
            f"[yellow]Listening on {host}: reachable from other machines. Put the service "
            "behind TLS (a reverse proxy): console cookies are Secure and browsers send them "
            "only over https (or to localhost).[/]"
        )
    err_console.print(f"asc-access console: {scheme}://{host}:{port}/  (API: /api/v1)")
    _run_service(config, host, port)


def _load_service(
    host: str, port: int, *, scheduler: bool, ssl_certfile: str | None, ssl_keyfile: str | None
) -> Any:
    """uvicorn's configuration with the service loaded (by its import string) and checked.

    The admin token is made sure of first, so a new one is printed once, here.
    """
    # lazy: the optional [service] extra: only `serve` needs uvicorn
    import uvicorn

    # lazy: the store (SQLAlchemy, ~0.25 s) loads when the command runs, not for its --help
    from asc_access.runtime import open_store
    from asc_access.store.tokens import ensure_admin_token

    config = uvicorn.Config(
        SERVICE_FACTORY,
        factory=True,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=True,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
    with handle_errors():
        settings = Settings.from_env()
        engine = open_store(settings)
        try:
            generated = ensure_admin_token(engine, settings.api_token)
        finally:
            engine.dispose()
        if generated is not None:
            _show_admin_token(generated)
        os.environ["ASC_ACCESS_SERVE_SCHEDULER"] = "1" if scheduler else "0"
        config.load()  # builds the app: its errors are shown like any other
    if generated is None:
        _sign_in_hint(from_env=settings.api_token is not None)
    return config


def _show_admin_token(token: str) -> None:
    err_console.print(
        "[bold]A new admin API token was generated. It is shown only this once:[/]\n\n"
        f"    {token}\n\n"
        "Sign in to the console with it, or send it as 'Authorization: Bearer <token>'. "
        "Only its hash is stored; set ASC_ACCESS_API_TOKEN to choose your own."
    )


def _run_service(config: Any, host: str, port: int) -> None:
    # lazy: the optional [service] extra: only `serve` needs uvicorn
    import uvicorn

    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn stopped gracefully on Ctrl-C
        server.run()
    if not server.started:  # uvicorn's startup failure: lost a race for the port
        err_console.print(
            f"[bold red]Error:[/] could not listen on {host}:{port} (see above); "
            f"{port_in_use_message(host, port, free_port_hint=False)}"
        )
        raise typer.Exit(PORT_IN_USE_STATUS)


def _sign_in_hint(*, from_env: bool) -> None:
    """How to sign in when no new admin token was printed (a restart, or a chosen token)."""
    if from_env:
        err_console.print("Sign in with the admin token set in ASC_ACCESS_API_TOKEN.")
        return
    err_console.print(
        "Sign in with the admin token printed when the service first started (only its "
        "hash is kept). Lost it? Set ASC_ACCESS_API_TOKEN to a token of your choice and "
        "start again, or create a named token: asc-access tokens create NAME"
    )


@tokens_app.command("create")
def tokens_create(
    name: str = typer.Argument(..., help="A name for the token (appears in the audit log)."),
    role: str = typer.Option(
        "admin",
        "--role",
        help="What the token may do: viewer, operator or admin (docs/roles.md).",
    ),
    scim: str | None = typer.Option(
        None,
        "--scim",
        metavar="CONNECTION",
        help="A SCIM token for an identity provider: it opens /scim/v2 for this connection only.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a named API token and print it once."""
    # lazy: the store (SQLAlchemy, ~0.25 s) loads when the command runs, not for its --help
    from asc_access.runtime import open_store
    from asc_access.store.connections import get_connection
    from asc_access.store.tokens import create_token

    with handle_errors(as_json=as_json):
        engine = open_store()
        bound = get_connection(engine, scim).id if scim is not None else None
        record, secret = create_token(engine, name, role=role, scim_connection_id=bound)
    if as_json:
        emit_json({**record.as_dict(), "scim_connection": scim, "token": secret})
        return
    console.print(f"Token [bold]{record.name}[/] created. It is shown only this once:\n")
    console.print(f"    {secret}\n", soft_wrap=True)
    if scim is not None:
        console.print(
            f"It opens only the SCIM endpoint (/scim/v2) for connection {scim!r}: give it to "
            "your identity provider with the base URL https://<this service>/scim/v2."
        )
        console.print(f"Calls made with it appear in the audit log as {record.actor!r}.")
        return
    console.print(
        f"Role: {record.role}. Calls made with it appear in the audit log as {record.actor!r}."
    )


@tokens_app.command("revoke")
def tokens_revoke(
    name: str = typer.Argument(..., help="The token's name."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke a named API token at once (its console sessions end too)."""
    # lazy: the store (SQLAlchemy, ~0.25 s) loads when the command runs, not for its --help
    from asc_access.runtime import open_store
    from asc_access.store.tokens import revoke_token

    with handle_errors(as_json=as_json):
        record = revoke_token(open_store(), name)
    show_record(record, as_json=as_json, show=_print_revoked)


def _print_revoked(record: TokenRecord) -> None:
    console.print(f"Token [bold]{record.name}[/] is revoked.")


@tokens_app.command("list")
def tokens_list(as_json: bool = JSON_OPTION) -> None:
    """List API tokens (names and dates; tokens themselves are never stored)."""

    # lazy: the store (SQLAlchemy, ~0.25 s) loads when the command runs, not for its --help
    from asc_access.runtime import open_store
    from asc_access.store.connections import list_connections
    from asc_access.store.tokens import list_tokens

    with handle_errors(as_json=as_json):
        engine = open_store()
        records = list_tokens(engine)
        names = {c.id: c.name for c in list_connections(engine)}
    if as_json:
        emit_json(
            {
                "tokens": [
                    {**r.as_dict(), "scim_connection": names.get(r.scim_connection_id or -1)}
                    for r in records
                ]
            }
        )
        return
    table = Table("name", "kind", "role", "status", "created", "last used")
    for r in records:
        kind = "admin" if r.is_admin else "named"
        if r.scim_connection_id is not None:
            kind = f"scim: {names.get(r.scim_connection_id, 'removed connection')}"
        table.add_row(
            r.name,
            kind,
            r.role,
            "active" if r.active else f"revoked {r.revoked_at:%Y-%m-%d %H:%M}",
            f"{r.created_at:%Y-%m-%d %H:%M}",
            f"{r.last_used_at:%Y-%m-%d %H:%M}" if r.last_used_at else "never",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``tokens`` to ``app``."""
    app.command("serve")(serve)
    app.add_typer(tokens_app)
