"""The people × apps view, paged in SQL so a page stays fast with 10,000 people.

``store.queries.list_members`` reads a whole team into memory, which is right
for the CLI and the export; the console and the API page through the mirror
instead: one ``COUNT`` and one ``LIMIT/OFFSET`` query over members and
invitations together (``UNION ALL``), then the app lists of just the people on
the page. Filters match ``store.queries``: role, app (who can *see* it:
restricted to it, or seeing every app), text in the e-mail or name,
member / invited, all apps or restricted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
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
from asc_access.store.queries import AppRef, PersonRow, resolve_connections, synced_at
from asc_access.store.timeutil import as_utc, as_utc_or_none

__all__ = ["PeopleFilter", "PeoplePage", "people_page"]

Status = Literal["member", "invited"]


@dataclass(frozen=True)
class PeopleFilter:
    """What to show. Empty values do not filter."""

    connections: Sequence[str] = ()
    search: str = ""
    role: str = ""
    app: str = ""
    status: Status | None = None
    all_apps: bool | None = None


@dataclass(frozen=True)
class PeoplePage:
    """One page of people and how many match in all."""

    items: list[PersonRow]
    total: int
    limit: int
    offset: int

    def as_dict(self) -> dict[str, Any]:
        """The API's paging envelope."""
        next_offset = self.offset + len(self.items)
        return {
            "items": [p.as_dict() for p in self.items],
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": next_offset if next_offset < self.total else None,
        }


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


def _part(
    table: Any,
    links: Any,
    id_col: str,
    email_col: str,
    status: Status,
    ids: list[int],
    flt: PeopleFilter,
    app_keys: list[str] | None,
) -> Any:
    t = table.c
    where: list[ColumnElement[bool]] = [t.connection_id.in_(ids)]
    if flt.search:
        pattern = _like(flt.search.strip())
        full_name = func.lower(t.first_name + literal(" ") + t.last_name)
        where.append(
            or_(
                func.lower(t[email_col]).like(pattern, escape="\\"),
                full_name.like(pattern, escape="\\"),
            )
        )
    if flt.role:
        where.append(_role_match(t.roles, flt.role.strip().upper()))
    if flt.all_apps is not None:
        where.append(_sees_all(table) if flt.all_apps else ~_sees_all(table))
    if app_keys is not None:
        restricted = exists().where(
            and_(
                links.c.connection_id == t.connection_id,
                links.c[id_col] == t[id_col],
                links.c.app_id.in_(app_keys),
            )
        )
        where.append(or_(_sees_all(table), restricted))
    expired: Any = (
        t.expiration_date if status == "invited" else cast(literal(None), DateTime(timezone=True))
    ).label("expiration_date")
    return select(
        t.connection_id,
        t[id_col].label("id"),
        t[email_col].label("email"),
        t.first_name,
        t.last_name,
        t.roles,
        t.all_apps_visible,
        t.provisioning_allowed,
        t.first_seen_at,
        expired,
        literal(status).label("status"),
    ).where(*where)


@dataclass(frozen=True, slots=True)
class _App:
    id: str
    bundle_id: str
    name: str


def _matching_app_ids(conn: Connection, ids: list[int], app: str) -> list[str]:
    """App ids ``app`` names on each team, by the shared rule (:func:`match_app`)."""
    a = schema.apps.c
    by_team: dict[int, list[_App]] = {}
    rows = conn.execute(
        select(a.connection_id, a.app_id, a.bundle_id, a.name).where(a.connection_id.in_(ids))
    )
    for cid, app_id, bundle_id, name in rows:
        by_team.setdefault(cid, []).append(_App(str(app_id), bundle_id or "", name or ""))
    found: set[str] = set()
    for apps in by_team.values():
        matches = match_app(app, apps)
        if len(matches) > 1:
            raise UsageError(
                f"{app!r} names {len(matches)} apps: {describe_app_choices(matches)}; "
                "give the bundle id or the app id"
            )
        found.update(m.id for m in matches)
    return sorted(found)


def _check_role(conn: Connection, ids: list[int], role: str) -> None:
    """Refuse a role neither Apple's model knows nor anyone mirrored holds."""
    wanted = role.strip().upper()
    if wanted in {r.value for r in Role}:
        return
    for table in (schema.users, schema.invitations):
        held = select(table.c.connection_id).where(
            table.c.connection_id.in_(ids), _role_match(table.c.roles, wanted)
        )
        if conn.execute(held.limit(1)).first() is not None:
            return
    known = ", ".join(sorted(r.value for r in Role))
    raise UsageError(f"unknown role {wanted}; known roles: {known}")


def people_page(
    conn: Connection, flt: PeopleFilter, *, limit: int = 50, offset: int = 0
) -> PeoplePage:
    """One page of people matching ``flt``, sorted by e-mail, connection and status."""
    names = resolve_connections(conn, list(flt.connections) or None)
    ids = list(names)
    if flt.role:
        _check_role(conn, ids, flt.role)
    app_keys = _matching_app_ids(conn, ids, flt.app) if flt.app else None
    if app_keys == []:
        raise NotFoundLocallyError(
            f"no app {flt.app!r} in the mirror: give an app id, bundle id or name"
        )
    parts = []
    if flt.status in (None, "member"):
        parts.append(
            _part(
                schema.users, schema.user_apps, "user_id", "username", "member", ids, flt, app_keys
            )
        )
    if flt.status in (None, "invited"):
        parts.append(
            _part(
                schema.invitations,
                schema.invitation_apps,
                "invitation_id",
                "email",
                "invited",
                ids,
                flt,
                app_keys,
            )
        )
    people = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    total = int(conn.execute(select(func.count()).select_from(people)).scalar_one())
    rows = conn.execute(
        select(people)
        .order_by(people.c.email, people.c.connection_id, people.c.status)
        .limit(limit)
        .offset(offset)
    ).all()
    return PeoplePage(_rows(conn, rows, names), total, limit, offset)


def _rows(conn: Connection, rows: Sequence[Any], names: dict[int, str]) -> list[PersonRow]:
    if not rows:
        return []
    member_keys = {(r.connection_id, r.id) for r in rows if r.status == "member"}
    invite_keys = {(r.connection_id, r.id) for r in rows if r.status == "invited"}
    apps_of: dict[tuple[str, int, str], list[str]] = {}
    ua, ia = schema.user_apps.c, schema.invitation_apps.c
    if member_keys:
        for cid, uid, aid in conn.execute(
            select(ua.connection_id, ua.user_id, ua.app_id).where(
                ua.user_id.in_([k[1] for k in member_keys])
            )
        ):
            if (cid, uid) in member_keys:
                apps_of.setdefault(("member", cid, uid), []).append(aid)
    if invite_keys:
        for cid, iid, aid in conn.execute(
            select(ia.connection_id, ia.invitation_id, ia.app_id).where(
                ia.invitation_id.in_([k[1] for k in invite_keys])
            )
        ):
            if (cid, iid) in invite_keys:
                apps_of.setdefault(("invited", cid, iid), []).append(aid)
    wanted_apps = {(cid, aid) for (_s, cid, _i), aids in apps_of.items() for aid in aids}
    refs: dict[tuple[int, str], AppRef] = {}
    if wanted_apps:
        a = schema.apps.c
        for row in conn.execute(
            select(a.connection_id, a.app_id, a.bundle_id, a.name).where(
                a.app_id.in_(sorted({aid for _c, aid in wanted_apps}))
            )
        ):
            refs[(row.connection_id, row.app_id)] = AppRef(row.app_id, row.bundle_id, row.name)
    synced = synced_at(conn, {r.connection_id for r in rows})
    out = []
    for r in rows:
        app_ids = apps_of.get((r.status, r.connection_id, r.id), [])
        apps = sorted(
            (refs.get((r.connection_id, a)) or AppRef(a, "", "") for a in app_ids),
            key=lambda ref: (ref.name.lower(), ref.bundle_id, ref.id),
        )
        out.append(
            PersonRow(
                connection=names[r.connection_id],
                connection_id=r.connection_id,
                status=r.status,
                id=r.id,
                email=r.email,
                first_name=r.first_name,
                last_name=r.last_name,
                roles=tuple(r.roles or ()),
                all_apps_visible=bool(r.all_apps_visible),
                provisioning_allowed=bool(r.provisioning_allowed),
                apps=tuple(apps),
                first_seen_at=as_utc(r.first_seen_at),
                synced_at=synced.get(r.connection_id),
                expiration_date=as_utc_or_none(r.expiration_date),
            )
        )
    return out
