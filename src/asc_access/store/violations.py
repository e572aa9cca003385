"""Policy violations as stored: opened once, seen again, resolved once.

:func:`reconcile` takes everything one evaluation found and brings the table
in line: a key not open yet opens a row (``first_seen``), a key still found
moves ``last_seen`` on, an open row whose key was not found is resolved.
:class:`ViolationLedger` is the engine-bound face the governance layer uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from asc_access.store.governance_schema import policy_violations
from asc_access.store.rows import json_view, record, values_of

__all__ = [
    "Reconciled",
    "Violation",
    "ViolationFound",
    "ViolationLedger",
    "list_violations",
    "reconcile",
    "violations_by_id",
]


@dataclass(frozen=True, slots=True)
class ViolationFound:
    """One problem an evaluation found (``key`` says which, stably across evaluations)."""

    policy: str
    kind: str
    key: str
    connection: str
    email: str | None
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation(ViolationFound):
    """A stored violation: what was found, with its row id and when it was seen."""

    id: int
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """The ``policies check --json`` item (plus ``id``, ``last_seen``, ``resolved_at``)."""
        return {"id": self.id, **json_view(self, skip={"id", "key"})}


@dataclass(slots=True)
class Reconciled:
    """What one evaluation changed: violations opened and resolved, and all still open."""

    opened: list[Violation] = field(default_factory=list)
    resolved: list[Violation] = field(default_factory=list)
    open: list[Violation] = field(default_factory=list)


def _row(row: Any) -> Violation:
    return record(Violation, row)


def reconcile(engine: Engine, found: Sequence[ViolationFound], now: datetime) -> Reconciled:
    """Open, refresh and resolve rows so the open ones are exactly ``found`` (one transaction)."""
    v = policy_violations.c
    out = Reconciled()
    wanted = {f.key: f for f in found}
    with engine.begin() as conn:
        rows = conn.execute(select(policy_violations).where(v.resolved_at.is_(None))).all()
        current = {row.key: _row(row) for row in rows}
        for key, row in current.items():
            if key not in wanted:
                conn.execute(
                    update(policy_violations).where(v.id == row.id).values(resolved_at=now)
                )
                out.resolved.append(replace(row, resolved_at=now))
        for key, item in wanted.items():
            if key in current:
                conn.execute(
                    update(policy_violations)
                    .where(v.id == current[key].id)
                    .values(last_seen=now, detail=item.detail, connection=item.connection)
                )
                continue
            values = values_of(item)
            result = conn.execute(
                insert(policy_violations).values(**values, first_seen=now, last_seen=now)
            )
            (new_id,) = result.inserted_primary_key or (0,)
            out.opened.append(Violation(id=int(new_id), **values, first_seen=now, last_seen=now))
    out.open = list_violations(engine)
    return out


def list_violations(engine: Engine, *, resolved: bool = False) -> list[Violation]:
    """Open violations (``resolved=True``: every one ever found), oldest first."""
    v = policy_violations.c
    query = select(policy_violations).order_by(v.first_seen, v.id)
    if not resolved:
        query = query.where(v.resolved_at.is_(None))
    with engine.connect() as conn:
        return [_row(row) for row in conn.execute(query)]


class ViolationLedger:
    """The violation store over one engine (what :mod:`asc_access.governance` calls)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def reconcile(self, found: Sequence[ViolationFound], now: datetime) -> Reconciled:
        """See :func:`reconcile`."""
        return reconcile(self.engine, found, now)

    def violations(self, *, resolved: bool = False) -> list[Violation]:
        """See :func:`list_violations`."""
        return list_violations(self.engine, resolved=resolved)


def violations_by_id(engine: Engine, ids: Sequence[int]) -> dict[int, Violation]:
    """The violations with these ids (open or resolved)."""
    if not ids:
        return {}
    v = policy_violations.c
    with engine.connect() as conn:
        rows = conn.execute(select(policy_violations).where(v.id.in_(list(ids))))
        return {row.id: _row(row) for row in rows}
