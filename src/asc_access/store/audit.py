"""The audit log: every executed plan, who ran it, and how each step ended.

An entry is written *before* the first step runs (status ``running``, every
step ``pending``) and rewritten as each step starts and finishes, each write in
its own short transaction, so that a crash part-way leaves an accurate record:
steps that finished carry their outcome and Apple's request ids, a step that
was ``running`` may or may not have reached Apple, ``pending`` steps never ran.
The entry ends ``done`` (nothing failed), ``partial`` (some applied, some not)
or ``failed`` (nothing applied).

Attempts that never run are recorded too, in one write (:func:`record_entry`):
``refused`` (a safety rule refused the plan: the reasons are in ``reason`` and
the plan's refusals) and ``already`` (Apple already showed what was asked, so
there was nothing to send).

The table is :data:`asc_access.store.schema.audit_entries`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import Engine, insert, select, update

from asc_access.errors import NotFoundLocallyError
from asc_access.store import schema
from asc_access.store.handle import transaction
from asc_access.store.rows import record
from asc_access.store.timeutil import utc_or_now

__all__ = [
    "AuditEntry",
    "EntryFields",
    "finish_entry",
    "get_entry",
    "list_entries",
    "record_approval",
    "record_entry",
    "start_entry",
    "update_steps",
]

STATUSES = ("running", "done", "partial", "failed", "refused", "already")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One executed plan as recorded."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    connections: tuple[str, ...]
    plan: dict[str, Any]
    steps: tuple[dict[str, Any], ...]
    status: str
    finished_at: datetime | None
    #: Four-eyes: who asked for the change and who approved it (``None`` without approval).
    requested_by: str | None = None
    approved_by: str | None = None

    @property
    def reason(self) -> str | None:
        """Why a ``refused`` entry was refused (the blocking refusals' reasons)."""
        if self.status != "refused":
            return None
        refusals = [r for r in self.plan.get("refusals", ()) if r.get("blocks", True)]
        return "; ".join(str(r.get("reason")) for r in refusals) or None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``audit --json``)."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "connections": list(self.connections),
            "status": self.status,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "reason": self.reason,
            "plan": self.plan,
            "steps": list(self.steps),
            **(
                {"requested_by": self.requested_by, "approved_by": self.approved_by}
                if self.approved_by
                else {}
            ),
        }


class EntryFields(TypedDict):
    """What every audit entry records about the attempt."""

    actor: str
    action: str
    target: str | None
    connections: Sequence[str]
    plan: dict[str, Any]
    steps: Sequence[dict[str, Any]]


def start_entry(engine: Engine, *, at: datetime | None = None, **entry: Unpack[EntryFields]) -> int:
    """Record a plan about to run (status ``running``) and return the entry id."""
    return _insert(engine, entry, at=utc_or_now(at), status="running")


def record_entry(
    engine: Engine, *, status: str, at: datetime | None = None, **entry: Unpack[EntryFields]
) -> int:
    """Record an attempt that ended without running (``refused`` | ``already``), finished."""
    if status not in STATUSES:
        raise ValueError(f"unknown audit status {status!r}")
    moment = utc_or_now(at)
    return _insert(engine, entry, at=moment, status=status, finished_at=moment)


def _insert(engine: Engine, entry: EntryFields, **more: Any) -> int:
    values = {**entry, "connections": list(entry["connections"]), "steps": list(entry["steps"])}
    with engine.begin() as conn:
        result = conn.execute(insert(schema.audit_entries).values(**values, **more))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def update_steps(engine: Engine, entry_id: int, steps: Sequence[dict[str, Any]]) -> None:
    """Rewrite the entry's steps (called as each step starts and ends).

    Raises:
        StoreError: the database failed.
    """
    with transaction(engine) as conn:
        conn.execute(
            update(schema.audit_entries)
            .where(schema.audit_entries.c.id == entry_id)
            .values(steps=list(steps))
        )


def finish_entry(
    engine: Engine,
    entry_id: int,
    *,
    status: str,
    steps: Sequence[dict[str, Any]],
    at: datetime | None = None,
) -> None:
    """Close the entry with its final status (``done`` | ``partial`` | ``failed``)."""
    if status not in STATUSES:
        raise ValueError(f"unknown audit status {status!r}")
    with engine.begin() as conn:
        conn.execute(
            update(schema.audit_entries)
            .where(schema.audit_entries.c.id == entry_id)
            .values(steps=list(steps), status=status, finished_at=utc_or_now(at))
        )


def record_approval(engine: Engine, entry_id: int, *, requested_by: str, approved_by: str) -> None:
    """Name the requester and the approver on an entry that ran after a four-eyes approval."""
    with engine.begin() as conn:
        conn.execute(
            update(schema.audit_entries)
            .where(schema.audit_entries.c.id == entry_id)
            .values(requested_by=requested_by, approved_by=approved_by)
        )


def _entry(row: Any) -> AuditEntry:
    return record(
        AuditEntry,
        row,
        connections=tuple(row.connections or ()),
        plan=dict(row.plan or {}),
        steps=tuple(row.steps or ()),
    )


def get_entry(engine: Engine, entry_id: int) -> AuditEntry:
    """One entry by id (:class:`NotFoundLocallyError` when there is none)."""
    a = schema.audit_entries
    with engine.connect() as conn:
        row = conn.execute(select(a).where(a.c.id == entry_id)).first()
    if row is None:
        raise NotFoundLocallyError(f"no audit entry {entry_id}")
    return _entry(row)


def list_entries(
    engine: Engine,
    *,
    limit: int = 50,
    connection: str | None = None,
    since: datetime | None = None,
) -> list[AuditEntry]:
    """Newest entries first; optionally only those touching ``connection`` or after ``since``."""
    a = schema.audit_entries
    query = select(a).order_by(a.c.id.desc())
    if since is not None:
        query = query.where(a.c.at >= since)
    if connection is None:
        query = query.limit(limit)
    entries: list[AuditEntry] = []
    with engine.connect() as conn:
        for row in conn.execute(query):
            entry = _entry(row)
            if connection is None or connection in entry.connections:
                entries.append(entry)
            if len(entries) >= limit:
                break
    return entries
