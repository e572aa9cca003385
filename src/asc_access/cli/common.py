"""Shared CLI plumbing: one seam that turns our errors into messages and exit codes.

Exit status (design.md): 0 success; 101-107 for a catalogued failure; 2 for
usage errors; 1 for anything else.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from asc_access.catalogue import exit_status_for
from asc_access.errors import AscAccessError, UsageError

__all__ = [
    "JSON_OPTION",
    "console",
    "emit_json",
    "err_console",
    "exit_with",
    "handle_errors",
    "show_record",
    "show_records",
]

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document on stdout, nothing else.")


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def show_record(record: Any, *, as_json: bool, show: Callable[[Any], None]) -> None:
    """One result: ``record.as_dict()`` with ``--json``; else shown by ``show``."""
    if as_json:
        emit_json(record.as_dict())
    else:
        show(record)


def show_records(
    records: Sequence[Any], *, as_json: bool, key: str, empty: str, show: Callable[[Any], None]
) -> None:
    """A listing: ``{key: [r.as_dict(), ...]}`` with ``--json``; else each shown, or ``empty``."""
    if as_json:
        emit_json({key: [r.as_dict() for r in records]})
        return
    if not records:
        console.print(empty)
    for record in records:
        show(record)


def exit_with(status: int) -> NoReturn:
    """Leave the command with ``status``."""
    raise typer.Exit(status)


def exit_status_of(error: AscAccessError) -> int:
    """The exit status for one of our errors."""
    if isinstance(error, UsageError):
        return 2
    return exit_status_for(error.code)


@contextmanager
def handle_errors(*, as_json: bool = False) -> Iterator[None]:
    """Turn our errors into a message (or a JSON error document) and an exit status."""
    try:
        yield
    except AscAccessError as error:
        status = exit_status_of(error)
        if as_json:
            doc: dict[str, Any] = {"ok": False, "code": error.code, "cause": error.cause}
            doc["error"] = error.message
            as_dict: Callable[[], dict[str, Any]] | None = getattr(error, "as_dict", None)
            if as_dict is not None:
                doc["detail"] = as_dict()
            emit_json(doc)
        else:
            label = f" {error.code}" if error.code else ""
            cause = f" ({error.cause})" if error.cause else ""
            err_console.print(f"[bold red]Error{label}:[/] {escape(error.message)}{cause}")
        exit_with(status)
