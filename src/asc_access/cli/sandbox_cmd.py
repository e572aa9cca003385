"""``asc-access sandbox``: a local App Store Connect API to rehearse against."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import typer

from asc_access.cli.common import JSON_OPTION, console, emit_json, err_console
from asc_access.cli.launch import (
    PORT_IN_USE_STATUS,
    is_loopback,
    port_in_use,
    port_in_use_message,
    program,
    quoted,
)
from asc_access.config import Settings

__all__ = ["register"]


_SEED = typer.Option(
    "demo", "--seed", help="'demo' (the same small team every time) or 'generated'."
)
_USERS = typer.Option(0, "--users", min=0, help="Generated team: number of members.")
_APPS = typer.Option(0, "--apps", min=0, help="Generated team: number of apps.")
_INVITATIONS = typer.Option(
    0, "--invitations", min=0, help="Generated team: number of invitations."
)
_RANDOM_SEED = typer.Option(
    0, "--random-seed", help="Generated team: the same number gives the same team."
)
_LATENCY = typer.Option(0, "--latency-ms", min=0, help="Added to every API call.")
_RATE_LIMIT = typer.Option(3600, "--rate-limit", min=1, help="Requests per key per rolling hour.")
_OMIT_TOTALS = typer.Option(
    False,
    "--omit-included-totals",
    help="Leave meta.paging.total out of included relationships (as Apple may).",
)
_STATE_DIR = typer.Option(
    None,
    "--state-dir",
    help="Where sandbox.json and the .p8 keys go (default: <ASC_ACCESS_HOME>/sandbox).",
)
_HOST = typer.Option("127.0.0.1", "--host", help="Address to bind.")
_PORT = typer.Option(8787, "--port", min=0, max=65535, help="Port (0: any free port).")
_FRESH = typer.Option(
    False, "--fresh", help="Forget the team saved in --state-dir and start a new one."
)


def sandbox(
    seed: str = _SEED,
    users: int = _USERS,
    apps: int = _APPS,
    invitations: int = _INVITATIONS,
    random_seed: int = _RANDOM_SEED,
    latency_ms: int = _LATENCY,
    rate_limit: int = _RATE_LIMIT,
    omit_included_totals: bool = _OMIT_TOTALS,
    state_dir: Path | None = _STATE_DIR,
    host: str = _HOST,
    port: int = _PORT,
    fresh: bool = _FRESH,
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a local App Store Connect API (users, invitations, apps) with issued keys.

    The team (Issuer ID, keys, members, invitations, apps and every change) is kept in
    --state-dir, so a restart serves the same team; --fresh starts over.
    """
    # lazy: the sandbox (JWT, cryptography) and its tour only for this command
    from asc_access.sandbox import SandboxOptions

    seed = _seed_choice(seed, generated_counts=bool(users or apps or invitations))
    directory = _state_dir(state_dir)
    _check_address(host, port)
    _log_refusals()
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
    model, restored = _team(directory, options, fresh=fresh)
    _serve(model, directory, host, port, restored=restored, as_json=as_json)


def _seed_choice(seed: str, *, generated_counts: bool) -> str:
    """``demo`` or ``generated`` (sizes given with the demo seed mean a generated team)."""
    if seed not in {"demo", "generated"}:
        err_console.print(f"[bold red]Error:[/] --seed must be 'demo' or 'generated', not {seed!r}")
        raise typer.Exit(2)
    return "generated" if seed == "demo" and generated_counts else seed


def _state_dir(state_dir: Path | None) -> Path:
    if state_dir is None:
        state_dir = Settings.from_env().home / "sandbox"
    return state_dir.absolute()


def _check_address(host: str, port: int) -> None:
    """Leave with one line when the port is taken; warn when listening beyond loopback."""
    if port_in_use(host, port):
        err_console.print(
            f"[bold red]Error:[/] {port_in_use_message(host, port, free_port_hint=True)}"
        )
        raise typer.Exit(PORT_IN_USE_STATUS)
    if not is_loopback(host):
        err_console.print(
            f"[yellow]Listening on {host}: Apple's API stand-in is reachable from other "
            "machines (the /_sandbox control API still answers loopback clients only).[/]"
        )


def _serve(
    model: Any, state_dir: Path, host: str, port: int, *, restored: bool, as_json: bool
) -> None:
    """Serve ``model`` until stopped, printing (or emitting) its state once it listens."""
    # lazy: the sandbox (JWT, cryptography) and its tour only for this command
    from asc_access.sandbox.server import serve

    def ready(base_url: str) -> None:
        path = model.write_state_dir(state_dir, base_url)
        document = json.loads(path.read_text())
        if as_json:
            emit_json(document)
            return
        _print_ready(model, document, path, restored=restored)

    try:
        serve(model, host, port, on_ready=ready)
    except (RuntimeError, OSError):  # lost a race for the port, or a foreign address
        err_console.print(
            f"[bold red]Error:[/] could not listen on {host}:{port} (in use, or not an "
            "address of this machine): choose another with --host / --port"
        )
        raise typer.Exit(PORT_IN_USE_STATUS) from None


def _log_refusals() -> None:
    # Apple's 401 says nothing; the sandbox tells its own console why it refused a token.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("sandbox: %(message)s"))
    sandbox_log = logging.getLogger("asc_access.sandbox")
    sandbox_log.addHandler(handler)
    sandbox_log.setLevel(logging.INFO)


def _team(state_dir: Path, options: Any, *, fresh: bool) -> tuple[Any, bool]:
    """The team saved in ``state_dir`` (unless ``fresh``), else a new one; saved from now on."""
    # lazy: the sandbox (JWT, cryptography) and its tour only for this command
    from asc_access.sandbox import Sandbox
    from asc_access.sandbox.persist import attach, clear_state_dir, load_team

    if fresh:
        clear_state_dir(state_dir)
    try:
        model = load_team(state_dir, options)
    except ValueError as error:
        err_console.print(f"[bold red]Error:[/] {error}")
        raise typer.Exit(1) from None
    restored = model is not None
    if model is None:
        model = Sandbox(options)
    elif model.seed_spec != options.seed_spec:
        err_console.print(
            f"[yellow]{state_dir} holds a team made with seed {model.seed_spec.seed!r}: serving "
            "it as it was left (the seed options apply to a new team; --fresh starts over).[/]"
        )
    attach(model, state_dir)
    return model, restored


def _print_ready(model: Any, document: dict[str, Any], path: Path, *, restored: bool) -> None:
    world = model.world
    base_url = document["base_url"]
    kept = "the team kept in the state dir; --fresh starts over" if restored else "a new team"
    console.print(
        f"[bold]App Store Connect sandbox[/] on {base_url}  "
        f"(seed {model.seed_spec.seed}: {len(world.users)} users, {len(world.apps)} apps, "
        f"{len(world.invitations)} invitations; {kept})"
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
    admin = next((k for k in document["keys"] if k["name"] == "admin"), None)
    if admin is None:
        return
    console.print("\nPoint asc-access at it (paste into a shell in this directory):")
    console.print(
        f"  export ASC_ACCESS_API_URL={quoted(base_url)}\n"
        f"  {program()} doctor --api-url {quoted(base_url)} --key-id {admin['key_id']} "
        f"--issuer-id {admin['issuer_id']} "
        f"--private-key-file {quoted(admin['private_key_file'])}",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``sandbox`` to ``app``."""
    app.command("sandbox")(sandbox)
