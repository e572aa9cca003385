"""Structured JSON logs for workers and the scheduler: one object per line.

Every record carries ``ts``, ``level``, ``logger``, ``msg`` and, when known, the
``connection_id``, ``connection``, ``run_id``, ``request_key`` and ``task_id`` of the
sync it belongs to (bound with :func:`log_context`). Secrets never reach the
output: callers log ids only, and as a second line of defence anything shaped
like a PEM block, a JWT or a URL password is masked.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

from asc_access.redaction import redact

__all__ = ["JsonFormatter", "configure_json_logging", "log_context", "redact"]

_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "asc_access_log_context", default=None
)

_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Attach ``fields`` (connection_id, run_id, ...) to every record in the block."""
    current = dict(_CONTEXT.get() or {})
    current.update({k: v for k, v in fields.items() if v is not None})
    token = _CONTEXT.set(current)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def bind(**fields: Any) -> None:
    """Add ``fields`` to the current context (inside a :func:`log_context` block)."""
    current = _CONTEXT.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v is not None})


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON with the bound context and ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object, secrets masked."""
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
            "pid": record.process,
        }
        doc.update(_CONTEXT.get() or {})
        doc.update(
            {
                name: value
                for name, value in vars(record).items()
                if name not in _STANDARD_ATTRS and not name.startswith("_")
            }
        )
        if record.exc_info and record.exc_info[0] is not None:
            doc["error_type"] = record.exc_info[0].__name__
            doc["error"] = redact(str(record.exc_info[1]))
        return redact(json.dumps(doc, default=str))


def configure_json_logging(level: str | int = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record to ``stream`` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_asc_access_json", False):
            root.removeHandler(existing)
    handler._asc_access_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    # One line per HTTP request is noise at scale (the sync logs its totals).
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
