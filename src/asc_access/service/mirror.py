"""Reading the mirror for the API and the console: paged people, apps, changes, review, export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from asc_access.store import schema
from asc_access.store.changes import ChangeRecord, list_changes
from asc_access.store.export import export_csv as write_csv
from asc_access.store.queries import export_rows, resolve_connections
from asc_access.store.review import Review, build_review, review_context
from asc_access.store.timeutil import as_utc

__all__ = ["ChangesPage", "changes_page", "export_csv", "review"]


@dataclass(frozen=True)
class ChangesPage:
    """Changes, newest first, and how many match in all."""

    items: list[ChangeRecord]
    total: int
    limit: int
    offset: int

    def as_dict(self) -> dict[str, Any]:
        """The API's paging envelope."""
        next_offset = self.offset + len(self.items)
        return {
            "items": [c.as_dict() for c in self.items],
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": next_offset if next_offset < self.total else None,
        }


def changes_page(
    conn: Connection,
    *,
    connections: Sequence[str] = (),
    types: Sequence[str] = (),
    since: datetime | None = None,
    run_id: int | None = None,
    email: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ChangesPage:
    """One page of the change timeline, newest first (paged in SQL)."""
    ids = list(resolve_connections(conn, list(connections) or None))
    c = schema.changes.c
    where: list[ColumnElement[bool]] = [c.connection_id.in_(ids)]
    if types:
        where.append(c.change_type.in_(list(types)))
    if since is not None:
        where.append(c.at >= as_utc(since))
    if run_id is not None:
        where.append(c.run_id == run_id)
    if email:
        where.append(func.lower(c.email).contains(email.strip().lower(), autoescape=True))
    total = int(conn.execute(select(func.count()).where(*where)).scalar_one())
    if email:
        # Not a filter store.changes offers: page this narrow result here (a person's history).
        matching = {r[0] for r in conn.execute(select(c.id).where(*where).order_by(c.at, c.id))}
        everything = list_changes(
            conn, connection_ids=ids, since=since, types=list(types) or None, run_id=run_id
        )
        newest = [r for r in reversed(everything) if r.id in matching]
        return ChangesPage(newest[offset : offset + limit], total, limit, offset)
    # store.changes lists oldest first: take the mirror-image slice and reverse it.
    start = max(0, total - offset - limit)
    count = max(0, min(limit, total - offset))
    items = list_changes(
        conn,
        connection_ids=ids,
        since=since,
        types=list(types) or None,
        run_id=run_id,
        limit=count,
        offset=start,
    )
    return ChangesPage(list(reversed(items)) if count else [], total, limit, offset)


def review(
    conn: Connection,
    *,
    connections: Sequence[str] = (),
    now: datetime,
    directory: set[str] | None = None,
) -> Review:
    """The access review over the named connections (all when none)."""
    names = resolve_connections(conn, list(connections) or None)
    people = export_rows(conn, connection_ids=list(names))
    return build_review(people, now=now, directory=directory, **review_context(conn, names))


def export_csv(conn: Connection, *, connections: Sequence[str] = ()) -> str:
    """The access-review matrix as CSV (one writer, one column list, shared with the CLI)."""
    names = resolve_connections(conn, list(connections) or None)
    return write_csv(p.export_dict() for p in export_rows(conn, connection_ids=list(names)))
