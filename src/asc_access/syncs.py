"""Running syncs: the one way the CLI, the service and the workers run one.

- :func:`sync_connection` runs one connection's sync in this process, given its
  :class:`~asc_access.store.refs.ConnectionRef` (resolved once by the caller):
  admitted by the key's rate budget (:mod:`asc_access.sync.admission`), an API
  client at the connection's own URL, the team lock when asked for, the sync
  engine (which records its run), the metrics, then the policies.
- :func:`request_syncs` is the one place that decides *where* syncs run: with a
  broker configured the workers do (queued by the task's name,
  :mod:`asc_access.queue.dispatch`), without one this process does.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from asc_access import runtime
from asc_access.config import Settings
from asc_access.governance.check import after_sync
from asc_access.metrics import metered_sync
from asc_access.store.refs import ConnectionRef
from asc_access.sync import sync_connection as sync_team
from asc_access.sync.admission import admitted

if TYPE_CHECKING:
    from asc_access.actions.locking import TeamLock
    from asc_access.store.handle import Database
    from asc_access.sync import SyncProgress, SyncResult

__all__ = ["Requested", "request_syncs", "sync_connection"]

T = TypeVar("T")


async def sync_connection(
    engine: Database,
    settings: Settings,
    ref: ConnectionRef,
    *,
    request_key: str | None = None,
    budget: object = None,
    progress: SyncProgress | None = None,
    lock: TeamLock | None = None,
    progress_interval: float = 1.0,
    client_kwargs: Mapping[str, Any] | None = None,
    policies: bool = True,
    alerts: Callable[[], None] | None = None,
) -> SyncResult:
    """Sync ``ref`` here and now; see the module docstring.

    Args:
        request_key: the run's idempotency key (a queued sync's task id, the
            service's request); also the budget's ticket (a random one without it).
        budget: the rate budget the client paces by and admission asks first
            (shared by the syncs of one command, process or deployment).
        lock: the per-team lock to hold while syncing (the service's; the workers
            already hold the connection's own lock, the CLI needs none).
        client_kwargs: extra keyword arguments for the API client (tests: a transport).
        policies: check the home directory's policies after the sync (``False``:
            the caller checks once after several syncs).
        alerts: how the policies' alerts are sent (the workers queue a task).

    Raises:
        SyncDeferred: the key's budget does not cover the sync now (nothing spent).
        SyncError: the sync failed and recorded its run as failed.
    """
    kwargs = dict(client_kwargs or {})
    if budget is not None:
        kwargs["budget"] = budget
    ticket = request_key or secrets.token_hex(8)
    with admitted(engine, ref.id, ref.name, budget, ref.key_id, ticket, clock=time.time):
        client = runtime.client_for_connection(engine, settings, ref, **kwargs)
        held = lock.hold(ref.name, ref.id) if lock is not None else contextlib.nullcontext()
        try:
            async with client, held:
                sync = sync_team(
                    engine,
                    client,
                    ref,
                    progress=progress,
                    request_key=request_key,
                    progress_interval=progress_interval,
                )
                return await metered_sync(sync)
        finally:
            if policies:
                await asyncio.to_thread(after_sync, engine, settings, dispatch=alerts)


@dataclass(frozen=True)
class Requested(Generic[T]):
    """What :func:`request_syncs` did: queued for the workers, or ran here."""

    queued: list[dict[str, Any]] = field(default_factory=list)  #: one document per connection
    ran: list[T] = field(default_factory=list)  #: what ``here`` answered for each connection

    @property
    def by_workers(self) -> bool:
        """Whether the workers took the syncs (a broker is configured)."""
        return bool(self.queued)


async def request_syncs(
    engine: Database,
    settings: Settings,
    refs: Sequence[ConnectionRef],
    here: Callable[[ConnectionRef], Awaitable[T]],
    *,
    wait: bool = True,
    request_key: str | None = None,
) -> Requested[T]:
    """Sync ``refs``: queued for the workers with a broker, else ``here`` one by one.

    With a broker, ``wait`` blocks until the queued syncs end (the documents then
    carry their runs); ``request_key`` names the one run of a single connection.
    """
    if refs and settings.broker_url:
        from asc_access.queue.dispatch import enqueue_sync  # lazy: celery only with a broker

        docs = await asyncio.to_thread(
            enqueue_sync, settings, refs, wait, engine=engine, request_key=request_key
        )
        return Requested(queued=docs)
    return Requested(ran=[await here(ref) for ref in refs])
