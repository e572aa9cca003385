"""Reading the mirror: members, invitations and apps across connections, and export rows.

Every row names its connection, and ``synced_at`` (the end of the connection's
last complete sync), so a reader always knows how fresh the picture is.
Filtering by app matches who can *see* the app: members restricted to it and
members who see all apps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, func, select

from asc_access.errors import NotFoundLocallyError, UsageError
from asc_access.models import ALWAYS_ALL_APPS_ROLES, Role, describe_app_choices, match_app
from asc_access.store import schema
from asc_access.store.snapshot import normalise_email
from asc_access.store.timeutil import as_utc, as_utc_or_none

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
class AppRef:
    """An app as shown next to a person."""

    id: str
    bundle_id: str
    name: str

    def as_dict(self) -> dict[str, str]:
        """The export shape: ``id``, ``bundle_id``, ``name``."""
        return {"id": self.id, "bundle_id": self.bundle_id, "name": self.name}


@dataclass(frozen=True, slots=True)
class PersonRow:
    """A member (``status="member"``) or an invitee (``"invited"``) on one team."""

    connection: str
    connection_id: int
    status: Literal["member", "invited"]
    id: str
    email: str
    first_name: str
    last_name: str
    roles: tuple[str, ...]
    all_apps_visible: bool
    provisioning_allowed: bool
    apps: tuple[AppRef, ...]
    first_seen_at: datetime
    synced_at: datetime | None
    expiration_date: datetime | None = None

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def sees_all_apps(self) -> bool:
        """The flag, or a role that always sees every app (Admin, Finance, reports...)."""
        return self.all_apps_visible or bool(set(self.roles) & ALWAYS_ALL_APPS_ROLES)

    def is_expired(self, now: datetime) -> bool:
        """An invitation whose expiry has passed at ``now``."""
        return self.expiration_date is not None and self.expiration_date <= now

    def export_dict(self) -> dict[str, Any]:
        """One object of ``export --format json`` (shape fixed in design.md)."""
        return {
            "connection": self.connection,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "status": self.status,
            "roles": list(self.roles),
            "all_apps_visible": self.all_apps_visible,
            "provisioning_allowed": self.provisioning_allowed,
            "apps": [] if self.all_apps_visible else [a.as_dict() for a in self.apps],
            "synced_at": self.synced_at.isoformat() if self.synced_at else None,
        }

    def as_dict(self) -> dict[str, Any]:
        """The ``users`` / ``invitations --json`` shape: the export fields and more."""
        out = self.export_dict()
        out["id"] = self.id
        if self.status == "invited":
            out["expiration_date"] = (
                self.expiration_date.isoformat() if self.expiration_date else None
            )
        out["first_seen_at"] = self.first_seen_at.isoformat()
        return out


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
        """The ``apps --json`` shape."""
        return {
            "connection": self.connection,
            "id": self.id,
            "name": self.name,
            "bundle_id": self.bundle_id,
            "sku": self.sku,
            "primary_locale": self.primary_locale,
            "restricted_members": self.restricted_members,
            "synced_at": self.synced_at.isoformat() if self.synced_at else None,
        }


@dataclass(slots=True)
class _Teams:
    names: dict[int, str]
    synced: dict[int, datetime | None] = field(default_factory=dict)
    apps: dict[tuple[int, str], AppRef] = field(default_factory=dict)


def resolve_connections(conn: Connection, names: Sequence[str] | None = None) -> dict[int, str]:
    """Connection ids and names: all of them, or the ``names`` given (unknown ones refused)."""
    c = schema.connections.c
    found = {row.id: row.name for row in conn.execute(select(c.id, c.name).order_by(c.name))}
    if not names:
        return found
    by_name = {name: ident for ident, name in found.items()}
    missing = [n for n in names if n not in by_name]
    if missing:
        known = ", ".join(sorted(by_name)) or "none yet (asc-access connect NAME ...)"
        raise NotFoundLocallyError(
            f"no connection named {', '.join(repr(m) for m in missing)}; known: {known}"
        )
    return {by_name[n]: n for n in names}


def synced_at(conn: Connection, connection_ids: Iterable[int]) -> dict[int, datetime | None]:
    """When each connection's last complete sync finished (``None``: never)."""
    r = schema.sync_runs.c
    ids = list(connection_ids)
    out: dict[int, datetime | None] = dict.fromkeys(ids)
    query = (
        select(r.connection_id, func.max(r.finished_at))
        .where(r.status == "succeeded", r.connection_id.in_(ids))
        .group_by(r.connection_id)
    )
    for connection_id, finished in conn.execute(query):
        out[connection_id] = as_utc_or_none(finished)
    return out


def _teams(conn: Connection, connection_ids: Sequence[int] | None) -> _Teams:
    names = resolve_connections(conn)
    if connection_ids is not None:
        names = {k: v for k, v in names.items() if k in set(connection_ids)}
    teams = _Teams(names=names, synced=synced_at(conn, names))
    a = schema.apps.c
    for row in conn.execute(
        select(a.connection_id, a.app_id, a.bundle_id, a.name).where(
            a.connection_id.in_(list(names))
        )
    ):
        teams.apps[(row.connection_id, row.app_id)] = AppRef(row.app_id, row.bundle_id, row.name)
    return teams


def _app_refs(teams: _Teams, connection_id: int, app_ids: Iterable[str]) -> tuple[AppRef, ...]:
    refs = [teams.apps.get((connection_id, a)) or AppRef(a, "", "") for a in app_ids]
    return tuple(sorted(refs, key=lambda r: (r.name.lower(), r.bundle_id, r.id)))


def _resolve_app(teams: _Teams, app: str) -> set[tuple[int, str]]:
    """The (team, app id) pairs ``app`` names, by the shared rule (:func:`match_app`).

    A name that fits two different apps of one team is ambiguous (:class:`UsageError`).
    """
    found: set[tuple[int, str]] = set()
    for cid in teams.names:
        matches = match_app(app, [ref for (c, _), ref in teams.apps.items() if c == cid])
        if len(matches) > 1:
            raise UsageError(
                f"{app!r} names {len(matches)} apps on team {teams.names[cid]}: "
                f"{describe_app_choices(matches)}; give the bundle id or the app id"
            )
        found.update((cid, m.id) for m in matches)
    return found


def list_members(
    conn: Connection,
    *,
    connection_ids: Sequence[int] | None = None,
    roles: Sequence[str] | None = None,
    app: str | None = None,
    email: str | None = None,
    all_apps: bool | None = None,
) -> list[PersonRow]:
    """Members, sorted by connection and e-mail.

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
    teams = _teams(conn, connection_ids)
    wanted_apps = _resolve_app(teams, app) if app else None
    if wanted_apps is not None and not wanted_apps:
        raise NotFoundLocallyError(f"no app {app!r} in the mirror (try `asc-access apps`)")
    u, ua = schema.users.c, schema.user_apps.c
    apps_of: dict[tuple[int, str], list[str]] = {}
    for cid, uid, aid in conn.execute(
        select(ua.connection_id, ua.user_id, ua.app_id).where(
            ua.connection_id.in_(list(teams.names))
        )
    ):
        apps_of.setdefault((cid, uid), []).append(aid)
    query = select(schema.users).where(u.connection_id.in_(list(teams.names)))
    if email:
        query = query.where(u.username.contains(normalise_email(email), autoescape=True))
    wanted_roles = {r.strip().upper() for r in roles or ()}
    seen_roles: set[str] = set()
    rows: list[PersonRow] = []
    for row in conn.execute(query):
        seen_roles.update(row.roles)
        cid = row.connection_id
        person = PersonRow(
            connection=teams.names[cid],
            connection_id=cid,
            status="member",
            id=row.user_id,
            email=row.username,
            first_name=row.first_name,
            last_name=row.last_name,
            roles=tuple(row.roles),
            all_apps_visible=row.all_apps_visible,
            provisioning_allowed=row.provisioning_allowed,
            apps=_app_refs(teams, cid, apps_of.get((cid, row.user_id), ())),
            first_seen_at=as_utc(row.first_seen_at),
            synced_at=teams.synced.get(cid),
        )
        if wanted_roles and not wanted_roles & set(person.roles):
            continue
        if all_apps is not None and person.sees_all_apps != all_apps:
            continue
        if wanted_apps is not None and not (
            person.sees_all_apps or any((cid, a.id) in wanted_apps for a in person.apps)
        ):
            continue
        rows.append(person)
    if wanted_roles - seen_roles and email:  # the e-mail filter hid the others' roles
        everyone = select(u.roles).where(u.connection_id.in_(list(teams.names)))
        seen_roles.update(r for (held,) in conn.execute(everyone) for r in held)
    _check_roles(wanted_roles, seen_roles)
    return sorted(rows, key=lambda p: (p.connection, p.email))


def _check_roles(wanted: set[str], seen: set[str]) -> None:
    """Refuse a role filter nobody could match: not Apple's, and held by nobody mirrored."""
    known = {r.value for r in Role} | seen
    unknown = sorted(wanted - known)
    if unknown:
        raise UsageError(
            f"unknown role {', '.join(unknown)}; known roles: {', '.join(sorted(known))}"
        )


def list_invitations(
    conn: Connection,
    *,
    connection_ids: Sequence[int] | None = None,
    state: Literal["pending", "expired"] | None = None,
    now: datetime | None = None,
    email: str | None = None,
) -> list[PersonRow]:
    """Invitations, sorted by connection and e-mail; ``state`` judged at ``now``."""
    teams = _teams(conn, connection_ids)
    i, ia = schema.invitations.c, schema.invitation_apps.c
    apps_of: dict[tuple[int, str], list[str]] = {}
    for cid, iid, aid in conn.execute(
        select(ia.connection_id, ia.invitation_id, ia.app_id).where(
            ia.connection_id.in_(list(teams.names))
        )
    ):
        apps_of.setdefault((cid, iid), []).append(aid)
    query = select(schema.invitations).where(i.connection_id.in_(list(teams.names)))
    if email:
        query = query.where(i.email.contains(normalise_email(email), autoescape=True))
    rows: list[PersonRow] = []
    for row in conn.execute(query):
        cid = row.connection_id
        person = PersonRow(
            connection=teams.names[cid],
            connection_id=cid,
            status="invited",
            id=row.invitation_id,
            email=row.email,
            first_name=row.first_name,
            last_name=row.last_name,
            roles=tuple(row.roles),
            all_apps_visible=row.all_apps_visible,
            provisioning_allowed=row.provisioning_allowed,
            apps=_app_refs(teams, cid, apps_of.get((cid, row.invitation_id), ())),
            first_seen_at=as_utc(row.first_seen_at),
            synced_at=teams.synced.get(cid),
            expiration_date=as_utc_or_none(row.expiration_date),
        )
        if state is not None:
            if now is None:
                raise ValueError("judging pending/expired needs `now`")
            if person.is_expired(now) != (state == "expired"):
                continue
        rows.append(person)
    return sorted(rows, key=lambda p: (p.connection, p.email))


def list_apps(conn: Connection, *, connection_ids: Sequence[int] | None = None) -> list[AppRow]:
    """Apps, sorted by connection and name."""
    teams = _teams(conn, connection_ids)
    ua = schema.user_apps.c
    counts = {
        (cid, aid): n
        for cid, aid, n in conn.execute(
            select(ua.connection_id, ua.app_id, func.count())
            .where(ua.connection_id.in_(list(teams.names)))
            .group_by(ua.connection_id, ua.app_id)
        )
    }
    a = schema.apps.c
    rows = [
        AppRow(
            connection=teams.names[row.connection_id],
            connection_id=row.connection_id,
            id=row.app_id,
            name=row.name,
            bundle_id=row.bundle_id,
            sku=row.sku,
            primary_locale=row.primary_locale,
            restricted_members=counts.get((row.connection_id, row.app_id), 0),
            synced_at=teams.synced.get(row.connection_id),
        )
        for row in conn.execute(select(schema.apps).where(a.connection_id.in_(list(teams.names))))
    ]
    return sorted(rows, key=lambda r: (r.connection, r.name.lower(), r.id))


def export_rows(
    conn: Connection, *, connection_ids: Sequence[int] | None = None
) -> list[PersonRow]:
    """The access-review matrix: every member and invitee, one row per person per team."""
    people = list_members(conn, connection_ids=connection_ids)
    people += list_invitations(conn, connection_ids=connection_ids)
    return sorted(people, key=lambda p: (p.connection, p.email, p.status))
