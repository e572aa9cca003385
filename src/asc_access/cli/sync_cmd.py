"""Mirror commands: ``sync``, ``users``, ``invitations``, ``apps``, ``changes``, ``export``,
``review`` — and ``demo``, the guided tour ``make demo`` runs.

Every command takes ``--json`` and then prints one JSON document on stdout.
``sync`` exits with the failing code's number (101-107) when a sync fails.
"""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from asc_access.catalogue import exit_status_for
from asc_access.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    err_console,
    exit_with,
    handle_errors,
)
from asc_access.cli.mirror_views import (
    describe_change,
    export_csv,
    export_json,
    print_apps,
    print_changes,
    print_people,
    print_review,
)
from asc_access.cli.sync_run import SyncOutcome, print_summary, request_cli_syncs
from asc_access.config import Settings
from asc_access.errors import UsageError
from asc_access.store.changes import list_changes
from asc_access.store.db import open_engine
from asc_access.store.queries import (
    export_rows,
    list_apps,
    list_invitations,
    list_members,
    resolve_connections,
    synced_at,
)
from asc_access.store.refs import ConnectionRef, resolve_refs
from asc_access.store.review import build_review, load_directory, review_context
from asc_access.sync import SyncResult

if TYPE_CHECKING:
    from asc_access.store.handle import Database

__all__ = ["parse_since", "register"]

#: This module's commands, each under its name; :func:`register` adds them to the app.
commands = typer.Typer()

CONNECTION_OPTION = typer.Option(
    None, "--connection", "-c", help="Only this connection (repeatable). Default: all."
)


def _store() -> tuple[Settings, Database]:
    settings = Settings.from_env()
    return settings, open_engine(settings)


def _connection_ids(engine: Database, names: list[str] | None) -> list[int]:
    with engine.connect() as conn:
        return list(resolve_connections(conn, names or None))


def _app_names(engine: Database) -> dict[str, str]:
    with engine.connect() as conn:
        return {a.id: a.name for a in list_apps(conn)}


def _nothing_yet(engine: Database) -> bool:
    with engine.connect() as conn:
        ids = list(resolve_connections(conn))
        return not ids or all(at is None for at in synced_at(conn, ids).values())


def _hint_if_empty(engine: Database) -> None:
    if _nothing_yet(engine):
        err_console.print(
            "[yellow]Nothing mirrored yet.[/] Connect a team (`asc-access connect NAME …`) "
            "and run `asc-access sync`."
        )


# -- sync ------------------------------------------------------------------------------


def _targets(engine: Database, name: str | None, all_: bool) -> list[ConnectionRef]:
    """The connections to sync, each resolved once (a NAME, or all with ``--all``)."""
    if name and all_:
        raise UsageError("give a connection NAME or --all, not both")
    if name:
        return resolve_refs(engine, [name])
    known = resolve_refs(engine)
    if not known:
        raise UsageError("no connections yet: run `asc-access connect NAME …` first")
    if all_ or len(known) == 1:
        return known
    names = ", ".join(ref.name for ref in known)
    raise UsageError(f"name the connection to sync, or pass --all (connections: {names})")


def _change_lines(result: SyncResult, app_names: dict[str, str]) -> list[str]:
    return [describe_change(str(e.change_type), e, app_names) for e in result.changes]


@commands.command("sync")
def sync_command(
    name: str | None = typer.Argument(None, help="The connection to sync."),
    all_: bool = typer.Option(False, "--all", help="Sync every connection."),
    wait: bool = typer.Option(
        False, "--wait", help="With a broker configured: wait for the queued syncs to end."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Mirror teams into the store: members, roles, app access, invitations, apps."""
    with handle_errors(as_json=as_json):
        settings, engine = _store()
        refs = _targets(engine, name, all_)
        console_ = None if as_json else err_console
        requested = asyncio.run(
            request_cli_syncs(engine, settings, refs, console=console_, wait=wait)
        )
        if requested.by_workers:
            _report_queued(requested.queued, as_json=as_json)
            return
        # lazy: the policies load only after a sync ran here, not for the views
        from asc_access.governance.check import after_sync

        after_sync(engine, settings)  # policies, once after every sync; never fails one
        _report_syncs(engine, requested.ran, as_json=as_json, single=name is not None)


def _report_syncs(
    engine: Database, outcomes: list[SyncOutcome], *, as_json: bool, single: bool
) -> None:
    status = next((o.exit_status for o in outcomes if o.exit_status), 0)
    if as_json:
        if single and len(outcomes) == 1:
            emit_json(outcomes[0].as_dict())
        else:
            emit_json({"ok": status == 0, "syncs": [o.as_dict() for o in outcomes]})
    else:
        names = _app_names(engine)
        for outcome in outcomes:
            print_summary(console, outcome, describe=lambda r: _change_lines(r, names))
    if status:
        exit_with(status)


def _report_queued(docs: list[dict[str, Any]], *, as_json: bool) -> None:
    failed = [
        d for d in docs if d["status"] not in {"queued", "succeeded", "coalesced", "deferred"}
    ]
    if as_json:
        emit_json({"ok": not failed, "queued": True, "syncs": docs})
    else:
        for doc in docs:
            code = f" {doc['code']} ({doc['cause']})" if doc.get("code") else ""
            until = doc.get("deferred_until")
            shown = f"deferred until {str(until)[11:16]}" if until else doc["status"]
            console.print(f"{doc['connection']}: {shown}{code}")
    if failed:
        exit_with(exit_status_for(failed[0].get("code")))


# -- reading the mirror -------------------------------------------------------------------


@commands.command("users")
def users_command(
    role: list[str] | None = typer.Option(None, "--role", help="Holding this role (repeatable)."),
    app: str | None = typer.Option(None, "--app", help="Can see this app (id, bundle id, name)."),
    connection: list[str] | None = CONNECTION_OPTION,
    email: str | None = typer.Option(None, "--email", help="E-mail contains this text."),
    all_apps: bool = typer.Option(False, "--all-apps", help="Only people who see every app."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Team members with their roles and the apps they can see."""
    with handle_errors(as_json=as_json):
        _, engine = _store()
        with engine.connect() as conn:
            ids = list(resolve_connections(conn, connection or None))
            people = list_members(
                conn,
                connection_ids=ids,
                roles=role,
                app=app,
                email=email,
                all_apps=True if all_apps else None,
            )
        if as_json:
            emit_json({"count": len(people), "users": [p.as_dict() for p in people]})
            return
        _hint_if_empty(engine)
        print_people(console, people, title=f"{len(people)} members", now=datetime.now(UTC))


@commands.command("invitations")
def invitations_command(
    pending: bool = typer.Option(False, "--pending", help="Only invitations still open."),
    expired: bool = typer.Option(False, "--expired", help="Only expired invitations."),
    connection: list[str] | None = CONNECTION_OPTION,
    email: str | None = typer.Option(None, "--email", help="E-mail contains this text."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Invitations sent and not (yet) accepted."""
    with handle_errors(as_json=as_json):
        if pending and expired:
            raise UsageError("--pending and --expired exclude each other")
        state: Literal["pending", "expired"] | None = (
            "pending" if pending else "expired" if expired else None
        )
        _, engine = _store()
        now = datetime.now(UTC)
        with engine.connect() as conn:
            ids = list(resolve_connections(conn, connection or None))
            people = list_invitations(conn, connection_ids=ids, state=state, now=now, email=email)
        if as_json:
            docs = [dict(p.as_dict(), expired=p.is_expired(now)) for p in people]
            emit_json({"count": len(people), "invitations": docs})
            return
        _hint_if_empty(engine)
        print_people(console, people, title=f"{len(people)} invitations", now=now)


@commands.command("apps")
def apps_command(
    connection: list[str] | None = CONNECTION_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """The apps on each team."""
    with handle_errors(as_json=as_json):
        _, engine = _store()
        with engine.connect() as conn:
            apps = list_apps(
                conn, connection_ids=list(resolve_connections(conn, connection or None))
            )
        if as_json:
            emit_json({"count": len(apps), "apps": [a.as_dict() for a in apps]})
            return
        _hint_if_empty(engine)
        print_apps(console, apps, now=datetime.now(UTC))


_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)


def parse_since(text: str, now: datetime) -> datetime:
    """``7d`` / ``24h`` / ``30m`` / ``2w``, or an ISO date or date-time (UTC unless given)."""
    found = _SINCE.match(text)
    if found:
        size = int(found.group(1))
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[found.group(2).lower()]
        return now - timedelta(**{unit: size})
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text!r}: give a duration like 7d, 24h, 30m, 2w or a date like 2026-11-01"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@commands.command("changes")
def changes_command(
    since: str | None = typer.Option(None, "--since", help="7d, 24h, 2w, or a date."),
    connection: list[str] | None = CONNECTION_OPTION,
    change_type: list[str] | None = typer.Option(None, "--type", help="Only this change type."),
    limit: int | None = typer.Option(None, "--limit", min=0, help="At most this many (newest)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """What changed between syncs, or through actions, oldest first."""
    with handle_errors(as_json=as_json):
        _, engine = _store()
        start = parse_since(since, datetime.now(UTC)) if since else None
        with engine.connect() as conn:
            ids = list(resolve_connections(conn, connection or None))
            records = list_changes(conn, connection_ids=ids, since=start, types=change_type)
        if limit is not None:
            records = records[-limit:] if limit > 0 else []
        if as_json:
            emit_json({"count": len(records), "changes": [r.as_dict() for r in records]})
            return
        _hint_if_empty(engine)
        if not records:
            console.print("No changes recorded" + (f" since {since}." if since else "."))
            return
        rows = [(r.change_type, r.at, r.connection, r) for r in records]
        print_changes(console, rows, app_names=_app_names(engine))


@commands.command("export")
def export_command(
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or json."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here (default stdout)."),
    connection: list[str] | None = CONNECTION_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The access-review matrix: one row per person per team (members and invitees)."""
    with handle_errors(as_json=as_json):
        kind = "json" if as_json else fmt.lower()
        if kind not in {"csv", "json"}:
            raise UsageError(f"--format {fmt!r}: choose csv or json")
        _, engine = _store()
        with engine.connect() as conn:
            ids = list(resolve_connections(conn, connection or None))
            rows = [r.export_dict() for r in export_rows(conn, connection_ids=ids)]
        text = export_json(rows) if kind == "json" else export_csv(rows)
        if output is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            output.write_text(text, encoding="utf-8")
            err_console.print(f"Wrote {len(rows)} rows to {output}")


@commands.command("review")
def review_command(
    directory: Path | None = typer.Option(
        None, "--directory", help="CSV (email column) or JSON of current staff e-mails."
    ),
    connection: list[str] | None = CONNECTION_OPTION,
    stale_days: int = typer.Option(
        7, "--stale-days", min=0, help="Pending this long counts as stale."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Who deserves a second look: admins, all-app access, stale invitations, leavers."""
    with handle_errors(as_json=as_json):
        staff = load_directory(directory) if directory is not None else None
        _, engine = _store()
        with engine.connect() as conn:
            teams = resolve_connections(conn, connection or None)
            people = export_rows(conn, connection_ids=list(teams))
            context = review_context(conn, teams)
        review = build_review(
            people,
            now=datetime.now(UTC),
            directory=staff,
            stale_after=timedelta(days=stale_days),
            **context,
        )
        if as_json:
            emit_json(review.as_dict())
            return
        _hint_if_empty(engine)
        print_review(console, review)


# -- the guided tour --------------------------------------------------------------------


@commands.command("demo")
def demo_command() -> None:
    """The guided tour: a local sandbox team, the doctor, a sync, the review (no credentials)."""
    # lazy: the sandbox (JWT, cryptography) and its tour only for this command
    from asc_access.cli.demo_tour import run_tour
    from asc_access.sandbox import Sandbox, SandboxOptions
    from asc_access.sandbox.server import ThreadedServer

    settings = Settings.from_env()
    state_dir = settings.ensure_home() / "demo-sandbox"
    model = Sandbox(SandboxOptions(seed="demo"))
    with ThreadedServer(model) as server:
        model.write_state_dir(state_dir, server.base_url)
        status = run_tour(settings, state_dir / "sandbox.json", console=console)
    if status:
        exit_with(status)


def register(app: typer.Typer) -> None:
    """Add the mirror commands and ``demo`` to ``app``."""
    app.add_typer(commands)  # unnamed: its commands join the app's
