"""The people × apps view: one query, filtered and paged in SQL, for every reader.

The console, the API, SCIM and the CLI (``store.queries.list_members``) all ask
:func:`people_page`: one ``COUNT`` and one ``LIMIT/OFFSET`` query over members
and invitations together (``UNION ALL``), then the app lists of just the people
on the page, so a page stays fast with 10,000 people. Filters: roles, app (who
can *see* it: restricted to it, or seeing every app), text in the e-mail or
name, text in the e-mail alone, member / invited, all apps or restricted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)

from asc_access.errors import NotFoundLocallyError, UsageError
from asc_access.models import ALWAYS_ALL_APPS_ROLES, Role, describe_app_choices, match_app
from asc_access.store import schema
from asc_access.store.paging import Page
from asc_access.store.person_rows import AppRef, PersonRow, resolve_connections, synced_at
from asc_access.store.rows import record
from asc_access.store.timeutil import UtcDateTime

__all__ = ["PeopleFilter", "PeoplePage", "people_page"]

Status = Literal["member", "invited"]


@dataclass(frozen=True)
class PeopleFilter:
    """What to show. Empty values do not filter.

    ``search`` matches text in the e-mail or the name, ``email`` in the e-mail
    alone (both case-insensitive); ``role`` and ``roles`` keep people holding any
    of them; ``connection_ids``, when given, is used instead of ``connections``.
    """

    connections: Sequence[str] = ()
    search: str = ""
    role: str = ""
    app: str = ""
    status: Status | None = None
    all_apps: bool | None = None
    email: str = ""
    roles: Sequence[str] = ()
    connection_ids: Sequence[int] | None = None

    def wanted_roles(self) -> list[str]:
        """The roles asked for, upper-cased, each once."""
        asked = [*self.roles, self.role] if self.role else list(self.roles)
        return sorted({r.strip().upper() for r in asked if r.strip()})


#: One page of people, and how many match in all.
PeoplePage = Page[PersonRow]


def _role_match(column: Any, role: str) -> ColumnElement[bool]:
    # Roles are a JSON list of strings; matching the quoted name in its text works on
    # SQLite and PostgreSQL alike and cannot match a longer role name.
    return cast(column, String).like(f'%"{role}"%')


def _sees_all(table: Any) -> ColumnElement[bool]:
    return or_(
        table.c.all_apps_visible.is_(True),
        *[_role_match(table.c.roles, r) for r in sorted(ALWAYS_ALL_APPS_ROLES)],
    )


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class _Kind:
    """Members or invitations: their table, app links and column names."""

    status: Status
    table: Any
    links: Any
    id_col: str
    email_col: str


_MEMBERS = _Kind("member", schema.users, schema.user_apps, "user_id", "username")
_INVITED = _Kind("invited", schema.invitations, schema.invitation_apps, "invitation_id", "email")


def _filters(
    kind: _Kind, ids: list[int], flt: PeopleFilter, app_keys: list[str] | None
) -> list[ColumnElement[bool]]:
    t = kind.table.c
    where: list[ColumnElement[bool]] = [t.connection_id.in_(ids)]
    if flt.search:
        pattern = _like(flt.search.strip())
        full_name = func.lower(t.first_name + literal(" ") + t.last_name)
        where.append(
            or_(
                func.lower(t[kind.email_col]).like(pattern, escape="\\"),
                full_name.like(pattern, escape="\\"),
            )
        )
    if flt.email:
        pattern = _like(flt.email.strip())
        where.append(func.lower(t[kind.email_col]).like(pattern, escape="\\"))
    if roles := flt.wanted_roles():
        where.append(or_(*[_role_match(t.roles, r) for r in roles]))
    if flt.all_apps is not None:
        where.append(_sees_all(kind.table) if flt.all_apps else ~_sees_all(kind.table))
    if app_keys is not None:
        links = kind.links.c
        restricted = exists().where(
            and_(
                links.connection_id == t.connection_id,
                links[kind.id_col] == t[kind.id_col],
                links.app_id.in_(app_keys),
            )
        )
        where.append(or_(_sees_all(kind.table), restricted))
    return where


def _part(kind: _Kind, ids: list[int], flt: PeopleFilter, app_keys: list[str] | None) -> Any:
    t = kind.table.c
    expired: Any = (
        t.expiration_date if kind.status == "invited" else cast(literal(None), UtcDateTime())
    ).label("expiration_date")
    return select(
        t.connection_id,
        t[kind.id_col].label("id"),
        t[kind.email_col].label("email"),
        t.first_name,
        t.last_name,
        t.roles,
        t.all_apps_visible,
        t.provisioning_allowed,
        t.first_seen_at,
        expired,
        literal(kind.status).label("status"),
    ).where(*_filters(kind, ids, flt, app_keys))


@dataclass(frozen=True, slots=True)
class _App:
    id: str
    bundle_id: str
    name: str


def _matching_app_ids(conn: Connection, names: dict[int, str], app: str) -> list[str]:
    """App ids ``app`` names on each team, by the shared rule (:func:`match_app`).

    Raises:
        UsageError: ``app`` fits two different apps of one team.
        NotFoundLocallyError: ``app`` fits no mirrored app.
    """
    a = schema.apps.c
    by_team: dict[int, list[_App]] = {}
    rows = conn.execute(
        select(a.connection_id, a.app_id, a.bundle_id, a.name).where(
            a.connection_id.in_(list(names))
        )
    )
    for cid, app_id, bundle_id, name in rows:
        by_team.setdefault(cid, []).append(_App(str(app_id), bundle_id or "", name or ""))
    found: set[str] = set()
    for cid, apps in by_team.items():
        matches = match_app(app, apps)
        if len(matches) > 1:
            raise UsageError(
                f"{app!r} names {len(matches)} apps on team {names[cid]}: "
                f"{describe_app_choices(matches)}; give the bundle id or the app id"
            )
        found.update(m.id for m in matches)
    if not found:
        raise NotFoundLocallyError(
            f"no app {app!r} in the mirror: give an app id, bundle id or name "
            "(`asc-access apps` lists them)"
        )
    return sorted(found)


def _check_roles(conn: Connection, ids: list[int], wanted: list[str]) -> None:
    """Refuse a role neither Apple's model knows nor anyone mirrored holds, naming the known."""
    known = {r.value for r in Role}
    unknown = []
    for role in (r for r in wanted if r not in known):
        held = [
            select(table.c.connection_id)
            .where(table.c.connection_id.in_(ids), _role_match(table.c.roles, role))
            .limit(1)
            for table in (schema.users, schema.invitations)
        ]
        if not any(conn.execute(query).first() for query in held):
            unknown.append(role)
    if not unknown:
        return
    for table in (schema.users, schema.invitations):
        everyone = select(table.c.roles).where(table.c.connection_id.in_(ids))
        known.update(r for (roles,) in conn.execute(everyone) for r in roles or ())
    raise UsageError(f"unknown role {', '.join(unknown)}; known roles: {', '.join(sorted(known))}")


def _teams(conn: Connection, flt: PeopleFilter) -> dict[int, str]:
    names = resolve_connections(conn, list(flt.connections) or None)
    if flt.connection_ids is not None:
        wanted = set(flt.connection_ids)
        names = {k: v for k, v in names.items() if k in wanted}
    return names


def people_page(
    conn: Connection, flt: PeopleFilter, *, limit: int | None = 50, offset: int = 0
) -> PeoplePage:
    """One page of people matching ``flt``, sorted by e-mail, connection and status.

    Raises:
        UsageError: a role nobody could match, or an app name that fits two apps.
        NotFoundLocallyError: an unknown connection, or an app the mirror does not hold.
    """
    names = _teams(conn, flt)
    ids = list(names)
    if roles := flt.wanted_roles():
        _check_roles(conn, ids, roles)
    app_keys = _matching_app_ids(conn, names, flt.app) if flt.app else None
    kinds = [k for k in (_MEMBERS, _INVITED) if flt.status in (None, k.status)]
    parts = [_part(kind, ids, flt, app_keys) for kind in kinds]
    people = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    total = int(conn.execute(select(func.count()).select_from(people)).scalar_one())
    rows = conn.execute(
        select(people)
        .order_by(people.c.email, people.c.connection_id, people.c.status)
        .limit(limit)
        .offset(offset)
    ).all()
    return PeoplePage(_rows(conn, rows, names), total, limit, offset)


def _apps_of(conn: Connection, rows: Sequence[Any]) -> dict[tuple[str, int, str], list[str]]:
    """The app ids of each person on the page, by (status, connection id, person id)."""
    apps_of: dict[tuple[str, int, str], list[str]] = {}
    for kind in (_MEMBERS, _INVITED):
        keys = {(r.connection_id, r.id) for r in rows if r.status == kind.status}
        if not keys:
            continue
        links = kind.links.c
        query = select(links.connection_id, links[kind.id_col], links.app_id).where(
            links[kind.id_col].in_([k[1] for k in keys])
        )
        for cid, pid, aid in conn.execute(query):
            if (cid, pid) in keys:
                apps_of.setdefault((kind.status, cid, pid), []).append(aid)
    return apps_of


def _app_refs(conn: Connection, app_ids: set[str]) -> dict[tuple[int, str], AppRef]:
    if not app_ids:
        return {}
    a = schema.apps.c
    query = select(a.connection_id, a.app_id, a.bundle_id, a.name).where(
        a.app_id.in_(sorted(app_ids))
    )
    return {
        (row.connection_id, row.app_id): AppRef(row.app_id, row.bundle_id, row.name)
        for row in conn.execute(query)
    }


def _rows(conn: Connection, rows: Sequence[Any], names: dict[int, str]) -> list[PersonRow]:
    if not rows:
        return []
    apps_of = _apps_of(conn, rows)
    refs = _app_refs(conn, {aid for aids in apps_of.values() for aid in aids})
    synced = synced_at(conn, {r.connection_id for r in rows})
    out = []
    for r in rows:
        app_ids = apps_of.get((r.status, r.connection_id, r.id), [])
        apps = sorted(
            (refs.get((r.connection_id, a)) or AppRef(a, "", "") for a in app_ids),
            key=lambda ref: (ref.name.lower(), ref.bundle_id, ref.id),
        )
        out.append(
            record(
                PersonRow,
                r,
                connection=names[r.connection_id],
                roles=tuple(r.roles or ()),
                all_apps_visible=bool(r.all_apps_visible),
                provisioning_allowed=bool(r.provisioning_allowed),
                apps=tuple(apps),
                synced_at=synced.get(r.connection_id),
            )
        )
    return out
