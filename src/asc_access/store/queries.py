"""Reading the mirror: members, invitations and apps across connections, and export rows.

Every row names its connection, and ``synced_at`` (the end of the connection's
last complete sync), so a reader always knows how fresh the picture is.
Filtering by app matches who can *see* the app: members restricted to it and
members who see all apps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, func, select

from asc_access.store import schema
from asc_access.store.people import PeopleFilter, people_page
from asc_access.store.person_rows import AppRef, PersonRow, resolve_connections, synced_at
from asc_access.store.rows import json_view, record

__all__ = [
    "AppRef",
    "AppRow",
    "PersonRow",
    "export_rows",
    "list_apps",
    "list_invitations",
    "list_members",
    "resolve_connections",
    "synced_at",
]


@dataclass(frozen=True, slots=True)
class AppRow:
    """An app on one team, with how many restricted members see it."""

    connection: str
    connection_id: int
    id: str
    name: str
    bundle_id: str
    sku: str
    primary_locale: str
    restricted_members: int = 0
    synced_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """The ``apps --json`` shape: every field but ``connection_id``."""
        return json_view(self, skip={"connection_id"})


def _teams(conn: Connection, connection_ids: Sequence[int] | None) -> dict[int, str]:
    names = resolve_connections(conn)
    if connection_ids is not None:
        names = {k: v for k, v in names.items() if k in set(connection_ids)}
    return names


def list_members(
    conn: Connection,
    *,
    connection_ids: Sequence[int] | None = None,
    roles: Sequence[str] | None = None,
    app: str | None = None,
    email: str | None = None,
    all_apps: bool | None = None,
) -> list[PersonRow]:
    """Members, sorted by connection and e-mail (the CLI's view of :func:`people_page`).

    Args:
        roles: keep people holding any of these roles (case-insensitive); a role
            neither Apple's model knows nor anyone in the mirror holds is a
            :class:`UsageError` naming the known ones.
        app: an app id, bundle id or name: keep people who can see it.
        email: keep e-mails containing this text (case-insensitive).
        all_apps: ``True`` keeps people who see every app, ``False`` the restricted.

    Raises:
        NotFoundLocallyError: ``app`` matches no mirrored app.
    """
    flt = PeopleFilter(
        app=app or "",
        status="member",
        all_apps=all_apps,
        email=email or "",
        roles=tuple(roles or ()),
        connection_ids=connection_ids,
    )
    people = people_page(conn, flt, limit=None).items
    return sorted(people, key=lambda p: (p.connection, p.email))


def list_invitations(
    conn: Connection,
    *,
    connection_ids: Sequence[int] | None = None,
    state: Literal["pending", "expired"] | None = None,
    now: datetime | None = None,
    email: str | None = None,
) -> list[PersonRow]:
    """Invitations, sorted by connection and e-mail; ``state`` judged at ``now``."""
    if state is not None and now is None:
        raise ValueError("judging pending/expired needs `now`")
    flt = PeopleFilter(status="invited", email=email or "", connection_ids=connection_ids)
    people = people_page(conn, flt, limit=None).items
    if state is not None and now is not None:
        people = [p for p in people if p.is_expired(now) == (state == "expired")]
    return sorted(people, key=lambda p: (p.connection, p.email))


def list_apps(conn: Connection, *, connection_ids: Sequence[int] | None = None) -> list[AppRow]:
    """Apps, sorted by connection and name."""
    names = _teams(conn, connection_ids)
    synced = synced_at(conn, names)
    ua = schema.user_apps.c
    counts = {
        (cid, aid): n
        for cid, aid, n in conn.execute(
            select(ua.connection_id, ua.app_id, func.count())
            .where(ua.connection_id.in_(list(names)))
            .group_by(ua.connection_id, ua.app_id)
        )
    }
    a = schema.apps.c
    rows = [
        record(
            AppRow,
            row,
            connection=names[row.connection_id],
            id=row.app_id,
            restricted_members=counts.get((row.connection_id, row.app_id), 0),
            synced_at=synced.get(row.connection_id),
        )
        for row in conn.execute(select(schema.apps).where(a.connection_id.in_(list(names))))
    ]
    return sorted(rows, key=lambda r: (r.connection, r.name.lower(), r.id))


def export_rows(
    conn: Connection, *, connection_ids: Sequence[int] | None = None
) -> list[PersonRow]:
    """The access-review matrix: every member and invitee, one row per person per team."""
    people = list_members(conn, connection_ids=connection_ids)
    people += list_invitations(conn, connection_ids=connection_ids)
    return sorted(people, key=lambda p: (p.connection, p.email, p.status))
