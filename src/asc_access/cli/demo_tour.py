"""The guided tour (``asc-access demo``, which ``make demo`` runs).

It needs no Apple account: ``sync_cmd.demo_command`` starts the sandbox — a
local App Store Connect playing a small team, "Northwind Labs" — in this
process and hands its ``sandbox.json`` here. The tour then shows, step by step:
the doctor on a good key and on two broken ones, saving a connection, a sync
with its progress bar, changes made in "App Store Connect" picked up by the
next sync, and the access review.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule

from asc_access import runtime
from asc_access.cli.launch import program, quoted
from asc_access.cli.mirror_views import describe_change, print_review
from asc_access.cli.sync_run import print_summary, run_syncs
from asc_access.config import Settings
from asc_access.credentials import CredentialFlags, Evaluation, evaluate, gather_credentials
from asc_access.diagnosis.render import render_finding
from asc_access.diagnosis.report import CAPABILITIES, DoctorReport
from asc_access.errors import UsageError
from asc_access.store import connections as connection_store
from asc_access.store.queries import (
    export_rows,
    list_apps,
    list_invitations,
    list_members,
    synced_at,
)
from asc_access.store.refs import resolve_refs
from asc_access.store.review import build_review

__all__ = ["CONNECTION", "run_tour"]

CONNECTION = "northwind"


def _evaluation(key: dict[str, Any]) -> Evaluation:
    flags = CredentialFlags(
        key_id=key["key_id"],
        issuer_id=key.get("issuer_id"),
        private_key_file=key["private_key_file"],
        individual=key.get("key_type") == "individual",
    )
    return evaluate(gather_credentials(flags, environ={}))


def _command(settings: Settings | None, args: str) -> str:
    """A command line that works as printed, pasted in the directory the tour ran from.

    With ``settings``, it carries the tour's ``ASC_ACCESS_HOME`` (``make demo`` makes a
    temporary one, which the shell the line is pasted into does not have).
    """
    home = f"ASC_ACCESS_HOME={quoted(str(settings.home))} " if settings is not None else ""
    return f"{home}{program()} {args}"


def _key_flags(key: dict[str, Any]) -> str:
    issuer = f" --issuer-id {key['issuer_id']}" if key.get("issuer_id") else " --individual"
    return f"--key-id {key['key_id']}{issuer} --private-key-file {quoted(key['private_key_file'])}"


def _step(console: Console, number: int, title: str) -> None:
    console.print()
    console.print(Rule(f"[bold]{number}. {title}[/]", align="left"))


def _capabilities(report: DoctorReport) -> str:
    marks = {True: "[green]yes[/]", False: "[red]no[/]", None: "[dim]?[/]"}
    return ", ".join(f"{c} {marks[report.capabilities.get(c)]}" for c in CAPABILITIES)


def _doctor(console: Console, key: dict[str, Any], api_url: str, *, expect_ok: bool) -> bool:
    line = _command(None, f"doctor --api-url {quoted(api_url)} {_key_flags(key)}")
    console.print(f"[dim]$ {escape(line)}[/]")
    report = asyncio.run(runtime.diagnose_credentials(_evaluation(key), api_url))
    if report.ok:
        console.print(
            f"[bold green]✓ All good[/]: Apple accepts this {escape(report.key_type or '')} key."
        )
        console.print(f"  capabilities: {_capabilities(report)}")
    elif report.findings:
        render_finding(report.findings[0], console)
        console.print(
            f"  [dim]exit status {report.exit_status}; capabilities: {_capabilities(report)}[/]"
        )
    return report.ok == expect_ok


def _connect(console: Console, settings: Settings, key: dict[str, Any], api_url: str) -> bool:
    engine = runtime.open_store(settings)
    evaluation = _evaluation(key)
    verb = "connect"
    try:
        connection_store.get_connection(engine, CONNECTION)
    except UsageError:
        outcome = asyncio.run(
            runtime.connect(engine, settings, CONNECTION, evaluation, api_url=api_url)
        )
    else:  # a tour run before in this home: the sandbox issued new keys, so rotate
        # A new sandbox is a new team at a new address: an explicit move.
        verb = "connections rotate-key --move"
        outcome = asyncio.run(
            runtime.rotate_key(engine, settings, CONNECTION, evaluation, api_url=api_url, move=True)
        )
    flags = f"--api-url {quoted(api_url)} {_key_flags(key)}"
    line = _command(settings, f"{verb} {CONNECTION} {flags}")
    console.print(f"[dim]$ {escape(line)}[/]")
    if outcome.saved:
        console.print(
            f"[green]✓[/] saved connection [bold]{CONNECTION}[/]; its private key is stored "
            "only encrypted (AES-GCM, master key in the home directory)."
        )
    else:
        console.print(f"[red]✗ could not save the connection: {outcome.report.code}[/]")
    return outcome.saved


def _sync(console: Console, settings: Settings) -> bool:
    engine = runtime.open_store(settings)
    console.print(f"[dim]$ {escape(_command(settings, f'sync {CONNECTION}'))}[/]")
    outcomes = asyncio.run(
        run_syncs(engine, settings, resolve_refs(engine, [CONNECTION]), console=console)
    )
    with engine.connect() as conn:
        names = {a.id: a.name for a in list_apps(conn)}
    for outcome in outcomes:
        print_summary(
            console,
            outcome,
            describe=lambda r: [describe_change(str(e.change_type), e, names) for e in r.changes],
        )
    return all(o.error is None for o in outcomes)


def _control(base_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Call the sandbox's control API (loopback only; not part of Apple's API)."""
    if not base_url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise UsageError(f"the sandbox control API answers loopback only, not {base_url}")
    request = urllib.request.Request(  # noqa: S310 - a loopback http URL checked above
        f"{base_url}/_sandbox/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        result: dict[str, Any] = json.loads(response.read())
    return result


def _stage_changes(console: Console, settings: Settings, base_url: str) -> None:
    engine = runtime.open_store(settings)
    with engine.connect() as conn:
        pending = list_invitations(conn, state="pending", now=_now())
    console.print(
        "Meanwhile, in App Store Connect: an invitee accepts their invitation, and an Admin "
        "gives a developer the App Manager role."
    )
    for invitation in pending[:1]:
        _control(base_url, f"userInvitations/{invitation.id}/accept", {})
        console.print(f"  [dim]{escape(invitation.email)} accepted the invitation[/]")

    with engine.connect() as conn:
        developers = [p for p in list_members(conn, roles=["DEVELOPER"]) if not p.sees_all_apps]
    if developers:
        who = developers[0]
        _control(base_url, f"users/{who.id}/roles", {"roles": ["DEVELOPER", "APP_MANAGER"]})
        console.print(f"  [dim]{escape(who.email)} is now also an App Manager[/]")


def _now() -> Any:

    return datetime.now(UTC)


def _review(console: Console, settings: Settings) -> None:
    engine = runtime.open_store(settings)
    console.print(f"[dim]$ {escape(_command(settings, 'review'))}[/]")
    with engine.connect() as conn:
        people = export_rows(conn)
        ids = {c.id: c.name for c in connection_store.list_connections(engine)}
        fresh = {ids[k]: v for k, v in synced_at(conn, list(ids)).items()}
    print_review(console, build_review(people, now=_now(), synced_at=fresh))


def _try_next(console: Console, settings: Settings) -> None:
    """Commands to paste after the tour, each working as printed."""
    console.print()
    console.print(Rule("[bold]Try next[/]", align="left"))
    console.print(
        "Paste these in this directory. They read the mirror kept in the tour's home (the "
        "tour's own sandbox stopped with it):"
    )
    for args in ("users --role ADMIN", "changes --since 1d", "export --format csv", "review"):
        console.print(f"  {_command(settings, args)}", markup=False, highlight=False)
    console.print(
        f"  {program()} sandbox --state-dir ./sbx    # a sandbox of your own (Ctrl+C stops it)",
        markup=False,
        highlight=False,
    )


def run_tour(settings: Settings, sandbox_json: Path, *, console: Console) -> int:
    """Run the tour against the sandbox described by ``sandbox_json``; returns the exit status."""
    state = json.loads(sandbox_json.read_text())
    keys = {k["name"]: k for k in state["keys"]}
    api_url = state["base_url"]
    console.print(Rule("[bold]asc-access — a guided tour[/]"))
    console.print(
        "A local sandbox plays App Store Connect for a small team, [bold]Northwind Labs[/] "
        f"(at {escape(api_url)}). It checks real ES256 tokens, enforces Apple's roles, paging "
        "and rate limits, and needs no Apple account.\n"
        f"Everything is kept in {escape(str(settings.home))} (SQLite)."
    )
    ok = True

    _step(console, 1, "Diagnose a good key")
    ok &= _doctor(console, keys["admin"], api_url, expect_ok=True)

    _step(console, 2, "A key whose role is too weak")
    console.print("A Developer-role team key can read apps, but managing users needs Admin.")
    ok &= _doctor(console, keys["developer"], api_url, expect_ok=False)

    _step(console, 3, "A key that was revoked")
    console.print(
        "Apple answers every credential mistake with one opaque 401; the doctor says "
        "which mistake it most likely is."
    )
    ok &= _doctor(console, keys["revoked"], api_url, expect_ok=False)

    _step(console, 4, "Save the good key as a connection")
    ok &= _connect(console, settings, keys["admin"], api_url)

    _step(console, 5, "Mirror the team")
    console.print(
        "Members (with the apps each sees), invitations and apps are read "
        "concurrently, with the fewest requests Apple's API allows."
    )
    ok &= _sync(console, settings)

    _step(console, 6, "Something changes; sync again")
    _stage_changes(console, settings, api_url)
    ok &= _sync(console, settings)

    _step(console, 7, "The access review")
    _review(console, settings)

    _try_next(console, settings)
    if not ok:
        console.print("[bold red]The tour did not go as expected (see above).[/]")
        return 1
    return 0
