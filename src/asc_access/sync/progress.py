"""Progress of a running sync: items done out of ``meta.paging.total``, per stream.

Streams: ``users``, ``invitations``, ``apps`` and ``app lists`` (the follow-up
reads of capped visible-app lists; its total grows as capped people are found).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["STREAMS", "ProgressTracker", "StreamProgress", "SyncProgress"]

STREAMS: tuple[str, ...] = ("users", "invitations", "apps", "app lists")


class SyncProgress(Protocol):
    """Receives progress; the CLI draws bars from it, the service stores it."""

    def update(self, stream: str, done: int, total: int | None) -> None:
        """``done`` items of ``stream`` out of ``total`` (``None``: not known yet)."""
        ...


@dataclass(slots=True)
class StreamProgress:
    """How far one stream got."""

    done: int = 0
    total: int | None = None
    pages: int = 0
    finished: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON shape kept on the run row."""
        return {"done": self.done, "total": self.total, "pages": self.pages}


class ProgressTracker:
    """Holds every stream's progress, tells the listener, and flushes now and then.

    ``flush`` (the run-row writer) is called at most once per ``interval``
    seconds of ``monotonic`` time; a failing flush never fails the sync.
    """

    def __init__(
        self,
        listener: SyncProgress | None = None,
        *,
        flush: Callable[[dict[str, Any]], None] | None = None,
        interval: float = 1.0,
        monotonic: Callable[[], float],
    ) -> None:
        self.streams = {name: StreamProgress() for name in STREAMS}
        self._listener = listener
        self._flush = flush
        self._interval = interval
        self._monotonic = monotonic
        self._last_flush = monotonic()

    def snapshot(self) -> dict[str, Any]:
        """Every stream's progress as JSON."""
        return {name: s.as_dict() for name, s in self.streams.items()}

    def page(self, stream: str, items: int, total: int | None) -> None:
        """A page of ``items`` arrived (``total`` from its ``meta.paging``)."""
        s = self.streams[stream]
        s.pages += 1
        s.done += items
        if total is not None:
            s.total = max(total, s.done)
        self._notify(stream)

    def grow(self, stream: str, more: int = 1) -> None:
        """``more`` items joined a stream whose total is discovered as it goes."""
        s = self.streams[stream]
        s.total = (s.total or 0) + more
        self._notify(stream)

    def item_done(self, stream: str) -> None:
        """One item of a discovered stream is finished."""
        self.streams[stream].done += 1
        self._notify(stream)

    def finish(self, stream: str) -> None:
        """The stream has no more pages: its total is what was done."""
        s = self.streams[stream]
        s.finished = True
        if s.total is None or s.total != s.done:
            s.total = s.done
        self._notify(stream)

    def _notify(self, stream: str) -> None:
        s = self.streams[stream]
        if self._listener is not None:
            self._listener.update(stream, s.done, s.total)
        if self._flush is not None:
            now = self._monotonic()
            if now - self._last_flush >= self._interval:
                self._last_flush = now
                try:
                    self._flush(self.snapshot())
                except Exception:  # noqa: BLE001 - progress is best effort
                    self._flush = None
