"""Running syncs from the command line: a progress bar per stream, then a summary.

The bar shows items read out of Apple's ``meta.paging.total`` for members,
invitations and apps, and the follow-up reads of capped app lists. It is drawn
on stderr, so stdout stays clean (and ``--json`` shows no bar at all).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from asc_access.catalogue import exit_status_for
from asc_access.config import Settings
from asc_access.errors import AscAccessError
from asc_access.store.handle import Database
from asc_access.store.refs import ConnectionRef
from asc_access.sync import SyncResult
from asc_access.sync.admission import SyncDeferred
from asc_access.syncs import Requested, request_syncs, sync_connection

__all__ = [
    "RichSyncProgress",
    "SyncOutcome",
    "print_summary",
    "request_cli_syncs",
    "run_syncs",
    "sync_here",
]


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


def _bars(console: Console | None) -> Progress | None:
    if console is None:
        return None
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    )


async def sync_here(
    engine: Database,
    settings: Settings,
    ref: ConnectionRef,
    *,
    console: Console | None,
    budget: object = None,
) -> SyncOutcome:
    """One connection's sync in this process, drawn as progress bars on ``console``.

    With ``budget`` (the rate budget the syncs share) it is admitted only when the
    key's budget covers its expected cost, else deferred (nothing spent). The
    policies are the caller's to check, once after every sync.
    """
    bars = _bars(console)
    listener = RichSyncProgress(bars, ref.name) if bars is not None else None
    try:
        with bars if bars is not None else nullcontext():
            result = await sync_connection(
                engine, settings, ref, budget=budget, progress=listener, policies=False
            )
        return SyncOutcome(ref.name, result=result)
    except SyncDeferred as deferral:
        return SyncOutcome(ref.name, deferred=deferral)
    except AscAccessError as error:
        return SyncOutcome(ref.name, error=error)


async def run_syncs(
    engine: Database,
    settings: Settings,
    refs: Sequence[ConnectionRef],
    *,
    console: Console | None,
    budget: object = None,
) -> list[SyncOutcome]:
    """Sync each connection here in turn; a failure does not stop the others."""
    return [await sync_here(engine, settings, ref, console=console, budget=budget) for ref in refs]


async def request_cli_syncs(
    engine: Database,
    settings: Settings,
    refs: Sequence[ConnectionRef],
    *,
    console: Console | None,
    wait: bool,
) -> Requested[SyncOutcome]:
    """``sync``: queued for the workers with a broker, else here, one budget for all."""
    # lazy: httpx (the API client) only when a sync runs here, not for the views
    from asc_access.api import PacingBudget

    budget = PacingBudget()  # one budget for all these syncs: they may share keys

    async def here(ref: ConnectionRef) -> SyncOutcome:
        return await sync_here(engine, settings, ref, console=console, budget=budget)

    return await request_syncs(engine, settings, refs, here, wait=wait)


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
