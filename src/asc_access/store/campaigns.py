"""Access-review campaigns as stored: the campaign, and one item per person per team.

Items are frozen at start (roles, apps, flags) and carry the reviewer's
decision and, after close, the remediation's outcome and the access read back.
:func:`set_decisions` refuses a closed campaign inside the same transaction
that would write, so no decision changes after close.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from asc_access.errors import NotFoundLocallyError, UsageError
from asc_access.store.governance_schema import campaign_items, campaigns
from asc_access.store.rows import json_view, record

__all__ = [
    "Campaign",
    "Item",
    "close_campaign",
    "create_campaign",
    "get_campaign",
    "list_campaigns",
    "list_items",
    "set_campaign_audit",
    "set_decisions",
    "set_outcomes",
]

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Campaign:
    """One campaign."""

    id: int
    name: str
    status: str
    due_date: str | None
    connections: tuple[str, ...]
    reviewers: tuple[str, ...]
    created_by: str
    created_at: datetime
    closed_by: str | None = None
    closed_at: datetime | None = None
    audit_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: every field."""
        return json_view(self)


@dataclass(frozen=True, slots=True)
class Item:
    """One person on one team within a campaign."""

    id: int
    campaign_id: int
    connection: str
    email: str
    status: str
    name: str
    roles: tuple[str, ...]
    all_apps_visible: bool
    apps: tuple[str, ...]
    flags: tuple[str, ...]
    decision: str | None = None
    decision_roles: tuple[str, ...] | None = None
    decision_apps: tuple[str, ...] | None = None
    comment: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    outcome: str | None = None
    outcome_detail: str | None = None
    after: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: every field but ``campaign_id``."""
        return json_view(self, skip={"campaign_id"})


def _campaign(row: Any) -> Campaign:
    return record(
        Campaign,
        row,
        connections=tuple(row.connections or ()),
        reviewers=tuple(row.reviewers or ()),
    )


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _item(row: Any) -> Item:
    return record(
        Item,
        row,
        roles=tuple(row.roles or ()),
        all_apps_visible=bool(row.all_apps_visible),
        apps=tuple(row.apps or ()),
        flags=tuple(row.flags or ()),
        decision_roles=_tuple(row.decision_roles),
        decision_apps=_tuple(row.decision_apps),
    )


def create_campaign(
    engine: Engine,
    *,
    name: str,
    due_date: str | None,
    connections: Sequence[str],
    reviewers: Sequence[str],
    created_by: str,
    items: Iterable[Mapping[str, Any]],
    now: datetime,
) -> int:
    """A new open campaign with its frozen items (one transaction); its id."""
    with engine.begin() as conn:
        result = conn.execute(
            insert(campaigns).values(
                name=name,
                status="open",
                due_date=due_date,
                connections=list(connections),
                reviewers=list(reviewers),
                created_by=created_by,
                created_at=now,
            )
        )
        (campaign_id,) = result.inserted_primary_key or (0,)
        rows = [{**dict(item), "campaign_id": campaign_id} for item in items]
        for start in range(0, len(rows), _CHUNK):
            conn.execute(insert(campaign_items), rows[start : start + _CHUNK])
    return int(campaign_id)


def _get(conn: Connection, campaign_id: int) -> Campaign:
    row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).first()
    if row is None:
        raise NotFoundLocallyError(f"no campaign {campaign_id} (`asc-access campaigns list`)")
    return _campaign(row)


def get_campaign(engine: Engine, campaign_id: int) -> Campaign:
    """The campaign ``campaign_id``.

    Raises:
        NotFoundLocallyError: there is none.
    """
    with engine.connect() as conn:
        return _get(conn, campaign_id)


def list_campaigns(engine: Engine) -> list[tuple[Campaign, int, int]]:
    """Every campaign, newest first, with its item count and decided count."""
    i = campaign_items.c
    counts = (
        select(i.campaign_id, func.count().label("total"), func.count(i.decision).label("decided"))
        .group_by(i.campaign_id)
        .subquery()
    )
    query = (
        select(campaigns, counts.c.total, counts.c.decided)
        .outerjoin(counts, counts.c.campaign_id == campaigns.c.id)
        .order_by(campaigns.c.id.desc())
    )
    with engine.connect() as conn:
        return [
            (_campaign(row), int(row.total or 0), int(row.decided or 0))
            for row in conn.execute(query)
        ]


def list_items(engine: Engine, campaign_id: int) -> list[Item]:
    """The campaign's items, by team and e-mail."""
    i = campaign_items.c
    query = (
        select(campaign_items)
        .where(i.campaign_id == campaign_id)
        .order_by(i.connection, i.email, i.status)
    )
    with engine.connect() as conn:
        _get(conn, campaign_id)
        return [_item(row) for row in conn.execute(query)]


def set_decisions(
    engine: Engine,
    campaign_id: int,
    item_ids: Sequence[int],
    values: Mapping[str, Any],
) -> int:
    """Write one decision on ``item_ids``; how many items it changed.

    Raises:
        UsageError: the campaign is closed (decisions are frozen at close).
    """
    i = campaign_items.c
    changed = 0
    with engine.begin() as conn:
        locked = select(campaigns).where(campaigns.c.id == campaign_id)
        if conn.dialect.name == "postgresql":
            locked = locked.with_for_update()
        row = conn.execute(locked).first()
        if row is None:
            raise NotFoundLocallyError(f"no campaign {campaign_id}")
        if row.status != "open":
            raise UsageError(
                f"campaign {campaign_id} is closed: its decisions can no longer change"
            )
        for start in range(0, len(item_ids), _CHUNK):
            chunk = list(item_ids[start : start + _CHUNK])
            result = conn.execute(
                update(campaign_items)
                .where(i.campaign_id == campaign_id, i.id.in_(chunk))
                .values(**values)
            )
            changed += result.rowcount or 0
    return changed


def set_outcomes(engine: Engine, outcomes: Mapping[int, Mapping[str, Any]]) -> None:
    """Record remediation outcomes (``outcome``, ``outcome_detail``, ``after``) per item id."""
    with engine.begin() as conn:
        for item_id, values in outcomes.items():
            conn.execute(
                update(campaign_items).where(campaign_items.c.id == item_id).values(**values)
            )


def close_campaign(
    engine: Engine, campaign_id: int, *, closed_by: str, now: datetime, audit_id: int | None
) -> bool:
    """Mark the campaign closed; ``False`` when it already was."""
    c = campaigns.c
    with engine.begin() as conn:
        result = conn.execute(
            update(campaigns)
            .where(c.id == campaign_id, c.status == "open")
            .values(status="closed", closed_by=closed_by, closed_at=now, audit_id=audit_id)
        )
        return bool(result.rowcount)


def set_campaign_audit(engine: Engine, campaign_id: int, audit_id: int | None) -> None:
    """Link the campaign to the audit entry of its remediation."""
    with engine.begin() as conn:
        conn.execute(
            update(campaigns).where(campaigns.c.id == campaign_id).values(audit_id=audit_id)
        )
