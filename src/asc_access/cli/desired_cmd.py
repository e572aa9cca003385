"""``export-desired``: write today's access out as a desired-state file to start from."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from asc_access.actions.desired_export import desired_document, render_desired
from asc_access.cli.common import err_console, handle_errors
from asc_access.errors import UsageError
from asc_access.runtime import open_store
from asc_access.store.queries import export_rows, resolve_connections, synced_at

__all__ = ["register"]


def export_desired(
    connection: list[str] | None = typer.Option(
        None, "--connection", "-c", help="Only this team (repeatable). Default: every team."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write here (.yaml/.yml, or .json); default stdout."
    ),
) -> None:
    """Write today's access (from the mirror) as a desired-state file to edit and apply."""
    with handle_errors():
        engine = open_store()
        with engine.connect() as conn:
            teams = resolve_connections(conn, connection or None)
            if not teams:
                raise UsageError("no connections yet: save one with `asc-access connect NAME ...`")
            synced = {teams[k]: v for k, v in synced_at(conn, list(teams)).items()}
            never = sorted(name for name, at in synced.items() if at is None)
            if never:
                raise UsageError(
                    f"{', '.join(never)} never completed a sync, so the mirror holds nobody: "
                    f"run `asc-access sync {never[0]}` first"
                )
            rows = export_rows(conn, connection_ids=list(teams))
        document = desired_document(rows, teams.values(), now=datetime.now(UTC))
        as_json = output is not None and output.suffix.lower() == ".json"
        text = render_desired(document, synced=synced, as_json=as_json)
        people = sum(len(t["people"]) for t in document["connections"].values())
        if output is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {output}: {error.strerror or error}") from None
        err_console.print(
            f"Wrote {people} people on {len(teams)} team(s) to {output}; "
            f"`asc-access plan {output}` plans no changes until you edit it "
            "(or Apple changes after the last sync)."
        )


def register(app: typer.Typer) -> None:
    """Add ``export-desired`` to ``app``."""
    app.command("export-desired")(export_desired)
