"""Reading the mirror for the API and the console: paged people, apps, changes, review, export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from asc_access.store.changes import ChangeFilters, ChangeRecord, count_changes, list_changes
from asc_access.store.export import export_csv as write_csv
from asc_access.store.handle import DatabaseConnection
from asc_access.store.paging import Page
from asc_access.store.queries import export_rows, resolve_connections
from asc_access.store.review import Review, build_review, review_context

__all__ = ["ChangesPage", "changes_page", "export_csv", "review"]


#: Changes, newest first, and how many match in all.
ChangesPage = Page[ChangeRecord]


def changes_page(
    conn: DatabaseConnection,
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
    where = ChangeFilters(
        connection_ids=ids, since=since, types=list(types) or None, run_id=run_id, email=email
    )
    total = count_changes(conn, **where)
    items = list_changes(conn, **where, newest_first=True, limit=limit, offset=offset)
    return ChangesPage(items, total, limit, offset)


def review(
    conn: DatabaseConnection,
    *,
    connections: Sequence[str] = (),
    now: datetime,
    directory: set[str] | None = None,
) -> Review:
    """The access review over the named connections (all when none)."""
    names = resolve_connections(conn, list(connections) or None)
    people = export_rows(conn, connection_ids=list(names))
    return build_review(people, now=now, directory=directory, **review_context(conn, names))


def export_csv(conn: DatabaseConnection, *, connections: Sequence[str] = ()) -> str:
    """The access-review matrix as CSV (one writer, one column list, shared with the CLI)."""
    names = resolve_connections(conn, list(connections) or None)
    return write_csv(p.export_dict() for p in export_rows(conn, connection_ids=list(names)))
