"""``asc-access sandbox``: a local App Store Connect API to rehearse against."""

from __future__ import annotations

import ipaddress
import json
import logging
from pathlib import Path

import typer

from asc_access.cli.common import JSON_OPTION, console, emit_json, err_console

__all__ = ["register"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sandbox(
    seed: str = typer.Option(
        "demo", "--seed", help="'demo' (the same small team every time) or 'generated'."
    ),
    users: int = typer.Option(0, "--users", min=0, help="Generated team: number of members."),
    apps: int = typer.Option(0, "--apps", min=0, help="Generated team: number of apps."),
    invitations: int = typer.Option(
        0, "--invitations", min=0, help="Generated team: number of invitations."
    ),
    random_seed: int = typer.Option(
        0, "--random-seed", help="Generated team: the same number gives the same team."
    ),
    latency_ms: int = typer.Option(0, "--latency-ms", min=0, help="Added to every API call."),
    rate_limit: int = typer.Option(
        3600, "--rate-limit", min=1, help="Requests per key per rolling hour."
    ),
    omit_included_totals: bool = typer.Option(
        False,
        "--omit-included-totals",
        help="Leave meta.paging.total out of included relationships (as Apple may).",
    ),
    state_dir: Path | None = typer.Option(
        None,
        "--state-dir",
        help="Where sandbox.json and the .p8 keys go (default: <ASC_ACCESS_HOME>/sandbox).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    port: int = typer.Option(8787, "--port", min=0, max=65535, help="Port (0: any free port)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a local App Store Connect API (users, invitations, apps) with issued keys."""
    from asc_access.sandbox import Sandbox, SandboxOptions
    from asc_access.sandbox.server import serve

    if seed not in {"demo", "generated"}:
        err_console.print(f"[bold red]Error[/] --seed must be 'demo' or 'generated', not {seed!r}")
        raise typer.Exit(2)
    if seed == "demo" and (users or apps or invitations):
        seed = "generated"
    if state_dir is None:
        from asc_access.config import Settings

        state_dir = Settings.from_env().home / "sandbox"
    if not _is_loopback(host):
        err_console.print(
            f"[yellow]Listening on {host}: Apple's API stand-in is reachable from other "
            "machines (the /_sandbox control API still answers loopback clients only).[/]"
        )
    # Apple's 401 says nothing; the sandbox tells its own console why it refused a token.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("sandbox: %(message)s"))
    sandbox_log = logging.getLogger("asc_access.sandbox")
    sandbox_log.addHandler(handler)
    sandbox_log.setLevel(logging.INFO)
    options = SandboxOptions(
        seed=seed,
        users=users,
        apps=apps,
        invitations=invitations,
        random_seed=random_seed,
        latency_ms=latency_ms,
        rate_limit=rate_limit,
        omit_included_totals=omit_included_totals,
    )
    model = Sandbox(options)
    target_dir = state_dir

    def ready(base_url: str) -> None:
        path = model.write_state_dir(target_dir, base_url)
        document = json.loads(path.read_text())
        if as_json:
            emit_json(document)
            return
        world = model.world
        console.print(
            f"[bold]App Store Connect sandbox[/] on {base_url}  "
            f"(seed {seed}: {len(world.users)} users, {len(world.apps)} apps, "
            f"{len(world.invitations)} invitations)"
        )
        console.print(f"Issuer ID {model.issuer_id}; state in {path}")
        for key in document["keys"]:
            who = key["role"] or f"user {key['user']}"
            note = " (revoked)" if key.get("revoked") else ""
            console.print(
                f"  {key['name']:<21} {key['key_id']}  {key['key_type']:<10} {who}{note}  "
                f"{key['private_key_file']}"
            )
        console.print(f"Control API: {base_url}/_sandbox/  (Ctrl+C to stop)")

    serve(model, host, port, on_ready=ready)


def register(app: typer.Typer) -> None:
    """Add ``sandbox`` to ``app``."""
    app.command("sandbox")(sandbox)
