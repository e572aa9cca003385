"""Running syncs from the command line: a progress bar per stream, then a summary.

The bar shows items read out of Apple's ``meta.paging.total`` for members,
invitations and apps, and the follow-up reads of capped app lists. It is drawn
on stderr, so stdout stays clean (and ``--json`` shows no bar at all).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from sqlalchemy import Engine, select

from asc_access.catalogue import exit_status_for
from asc_access.errors import AscAccessError
from asc_access.store import schema
from asc_access.sync import SyncResult, SyncSource, sync_connection
from asc_access.sync.admission import SyncDeferred, admitted

__all__ = ["RichSyncProgress", "SyncOutcome", "print_summary", "run_syncs"]

#: Builds a client (an async context manager satisfying ``SyncSource``) for a connection name.
ClientFactory = Callable[[str], Any]


_STREAM_LABELS = {"users": "members", "app lists": "long app lists"}


class RichSyncProgress:
    """A :class:`~asc_access.sync.SyncProgress` drawn as rich progress bars."""

    def __init__(self, progress: Progress, label: str) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}
        self._label = label

    def update(self, stream: str, done: int, total: int | None) -> None:
        """Move ``stream``'s bar (it appears on its first update)."""
        task = self._tasks.get(stream)
        if task is None:
            shown = _STREAM_LABELS.get(stream, stream)
            task = self._progress.add_task(f"{self._label} · {shown}", total=total)
            self._tasks[stream] = task
        self._progress.update(task, completed=done, total=total)


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """One connection's sync: a result, or the error it failed with."""

    name: str
    result: SyncResult | None = None
    error: AscAccessError | None = None
    deferred: SyncDeferred | None = None

    @property
    def exit_status(self) -> int:
        """0 (a deferred sync is not a failure), or the error's catalogue number."""
        return 0 if self.error is None else exit_status_for(self.error.code)

    def as_dict(self) -> dict[str, Any]:
        """The ``sync --json`` shape of one connection."""
        if self.result is not None:
            return self.result.as_dict()
        if self.deferred is not None:
            return self.deferred.as_dict()
        assert self.error is not None
        return {
            "ok": False,
            "connection": self.name,
            "status": "failed",
            "code": self.error.code,
            "cause": self.error.cause,
            "error": self.error.message,
            "run_id": self.error.context.get("run_id"),
        }


def _connection(engine: Engine, name: str) -> tuple[int, str]:
    c = schema.connections.c
    with engine.connect() as conn:
        row = conn.execute(select(c.id, c.key_id).where(c.name == name)).one()
    return int(row.id), str(row.key_id)


async def run_syncs(
    engine: Engine,
    names: Sequence[str],
    client_for: ClientFactory,
    *,
    console: Console | None,
    budget: object = None,
) -> list[SyncOutcome]:
    """Sync each named connection in turn; a failure does not stop the others.

    With ``budget`` (the rate budget the clients share) each sync is admitted only
    when the key's budget covers its expected cost, else deferred (nothing spent).
    """
    outcomes: list[SyncOutcome] = []
    for name in names:
        progress = (
            Progress(
                TextColumn("{task.description:<28}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            )
            if console is not None
            else None
        )
        try:
            connection_id, key_id = _connection(engine, name)
            with admitted(
                engine,
                connection_id,
                name,
                budget,
                key_id,
                secrets.token_hex(8),
                clock=time.time,
            ):
                result = await _one(engine, client_for(name), connection_id, name, progress)
            outcomes.append(SyncOutcome(name, result=result))
        except SyncDeferred as deferral:
            outcomes.append(SyncOutcome(name, deferred=deferral))
        except AscAccessError as error:
            outcomes.append(SyncOutcome(name, error=error))
    return outcomes


async def _one(
    engine: Engine, client: Any, connection_id: int, name: str, progress: Progress | None
) -> SyncResult:
    async with client:
        source: SyncSource = client
        if progress is None:
            return await sync_connection(engine, source, connection_id)
        with progress:
            listener = RichSyncProgress(progress, name)
            return await sync_connection(engine, source, connection_id, progress=listener)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def print_summary(
    console: Console, outcome: SyncOutcome, *, describe: Callable[[SyncResult], list[str]]
) -> None:
    """The human summary of one sync."""
    name = escape(outcome.name)
    if outcome.deferred is not None:
        until = f"{outcome.deferred.until:%H:%M}"
        console.print(
            f"[bold yellow]⏸ {name}: deferred until {until}[/] — the key's hourly budget "
            f"covers fewer than the {outcome.deferred.cost} requests this sync needs; "
            "nothing was spent"
        )
        return
    if outcome.error is not None:
        error = outcome.error
        label = f"{error.code} " if error.code else ""
        cause = f" ({error.cause})" if error.cause else ""
        console.print(f"[bold red]✗ {name}: sync failed[/] {label}{escape(error.message)}{cause}")
        console.print(
            "  [dim]The previous picture and change log are untouched; "
            "`asc-access doctor " + name + "` explains the error.[/]"
        )
        return
    r = outcome.result
    assert r is not None
    console.print(
        f"[bold green]✓ {name}[/] synced in {_duration(r.duration_seconds)} — "
        f"{_count(r.users, 'member')}, {_count(r.invitations, 'invitation')}, "
        f"{_count(r.apps, 'app')}"
    )
    follow = f", {r.follow_ups} of them for long app lists" if r.follow_ups else ""
    bound = f" (the fewest possible: {r.lower_bound})" if r.lower_bound is not None else ""
    console.print(f"  requests: {r.requests_used}{bound}{follow}")
    if r.rate_limit is not None and r.rate_limit.remaining is not None:
        console.print(
            f"  rate budget left: {r.rate_limit.remaining} of {r.rate_limit.limit} this hour"
        )
    if r.baseline:
        console.print("  first sync: this is the baseline; later syncs report what changed since.")
        return
    if not r.changes:
        console.print("  changes: none since the last sync")
        return
    counts = ", ".join(f"{k} {v}" for k, v in sorted(r.change_counts().items()))
    console.print(f"  changes: {len(r.changes)} — {counts}")
    lines = describe(r)
    for line in lines[:20]:
        console.print(f"    {line}")
    if len(lines) > 20:
        console.print(f"    [dim]… and {len(lines) - 20} more (asc-access changes)[/]")
