"""Actions waiting for a second person's approval (four-eyes), in ``approval_requests``.

A request is ``pending`` until someone other than its requester approves it
(then ``executed``, or ``failed`` when the fresh plan could not run), refuses it
(``refused``), or its time runs out (``expired``). Deciding is a compare-and-set
on ``pending``, so two approvers racing cannot both run it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from asc_access.errors import NotFoundLocallyError
from asc_access.store import schema
from asc_access.store.rows import json_view, record

__all__ = [
    "ApprovalRecord",
    "claim",
    "create_approval",
    "finish_approval",
    "get_approval",
    "list_approvals",
]

_T = schema.approval_requests


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    """One request for approval."""

    id: str
    action: str
    target: str
    request: dict[str, Any]
    reason: str
    lines: tuple[str, ...]
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    audit_entry_id: int | None

    def status_at(self, now: datetime) -> str:
        """The status, with a pending request past its time shown as ``expired``."""
        if self.status == "pending" and now >= self.expires_at:
            return "expired"
        return self.status

    def as_dict(self, now: datetime) -> dict[str, Any]:
        """JSON-ready form (the status as of ``now``)."""
        shown = ("id", "action", "target", "reason", "lines", "request", "requested_by")
        return json_view(
            self,
            *shown,
            *("requested_at", "expires_at", "status", "decided_by", "decided_at"),
            "audit_entry_id",
            status=self.status_at(now),
        )


def _record(row: Any) -> ApprovalRecord:
    return record(
        ApprovalRecord, row, request=dict(row.request or {}), lines=tuple(row.lines or ())
    )


def create_approval(
    engine: Engine,
    *,
    action: str,
    target: str,
    request: dict[str, Any],
    reason: str,
    lines: list[str],
    requested_by: str,
    now: datetime,
    expires_at: datetime,
) -> ApprovalRecord:
    """Record a request waiting for approval."""
    new_id = secrets.token_urlsafe(12)
    with engine.begin() as conn:
        conn.execute(
            insert(_T).values(
                id=new_id,
                action=action,
                target=target[:500],
                request=request,
                reason=reason[:200],
                lines=lines,
                requested_by=requested_by,
                requested_at=now,
                expires_at=expires_at,
                status="pending",
            )
        )
    return get_approval(engine, new_id)


def get_approval(engine: Engine, approval_id: str) -> ApprovalRecord:
    """One request (:class:`NotFoundLocallyError` when unknown)."""
    with engine.connect() as conn:
        row = conn.execute(select(_T).where(_T.c.id == approval_id)).first()
    if row is None:
        raise NotFoundLocallyError(
            f"no approval request {approval_id!r}", context={"input": "approval"}
        )
    return _record(row)


def list_approvals(engine: Engine, *, limit: int = 100) -> list[ApprovalRecord]:
    """Newest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(_T).order_by(_T.c.requested_at.desc()).limit(limit))
        return [_record(r) for r in rows]


def claim(engine: Engine, approval_id: str, *, status: str, decided_by: str, now: datetime) -> bool:
    """Move a ``pending`` request to ``status``; ``False`` if someone else decided first."""
    with engine.begin() as conn:
        result = conn.execute(
            update(_T)
            .where(_T.c.id == approval_id, _T.c.status == "pending")
            .values(status=status, decided_by=decided_by, decided_at=now)
        )
        return result.rowcount == 1


def finish_approval(
    engine: Engine, approval_id: str, *, status: str, audit_entry_id: int | None
) -> None:
    """Record how an approved request ended (``executed`` | ``failed``) and its audit entry."""
    with engine.begin() as conn:
        conn.execute(
            update(_T)
            .where(_T.c.id == approval_id)
            .values(status=status, audit_entry_id=audit_entry_id)
        )
