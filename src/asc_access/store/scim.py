"""What the SCIM bridge keeps besides the mirror: stable ids, IdP documents, group mappings.

A SCIM User is a person on a team (a member or a pending invitation, from the
mirror); ``scim_users`` gives each one our stable ``id``, keyed by the
lower-cased e-mail so the id survives an invitation being accepted, and keeps
the last document the IdP wrote (``externalId`` and every attribute Apple cannot
hold). ``scim_groups`` are the groups the IdP pushes; ``scim_group_access`` is
the admin's mapping from a group's name to roles and apps.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update

from asc_access.store.rows import json_view, record, values_of
from asc_access.store.schema import scim_group_access, scim_groups, scim_users

__all__ = [
    "GroupAccess",
    "ScimGroupRecord",
    "ScimUserRecord",
    "delete_group",
    "delete_group_access",
    "delete_user",
    "ensure_user_ids",
    "get_group",
    "get_user",
    "insert_group",
    "insert_user",
    "list_group_access",
    "list_groups",
    "list_users",
    "set_group_access",
    "update_group",
    "update_user",
]


@dataclass(frozen=True, slots=True)
class ScimUserRecord:
    """One row of ``scim_users``."""

    id: str
    connection_id: int
    email: str
    external_id: str | None
    document: dict[str, Any]
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ScimGroupRecord:
    """One row of ``scim_groups``."""

    id: str
    connection_id: int
    display_name: str
    document: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def member_ids(self) -> list[str]:
        """The SCIM user ids listed as members."""
        members = self.document.get("members") or []
        return [str(m["value"]) for m in members if isinstance(m, dict) and m.get("value")]


@dataclass(frozen=True, slots=True)
class GroupAccess:
    """What membership of the IdP group ``group_name`` gives on a team."""

    connection_id: int
    group_name: str
    roles: tuple[str, ...]
    all_apps: bool
    apps: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return json_view(self, "group=group_name", "roles", "all_apps", "apps")


def _user(row: Any) -> ScimUserRecord:
    return record(ScimUserRecord, row, document=dict(row.document or {}), active=bool(row.active))


def _group(row: Any) -> ScimGroupRecord:
    return record(ScimGroupRecord, row, document=dict(row.document or {}))


def new_id() -> str:
    """A fresh resource id."""
    return uuid.uuid4().hex


def list_users(conn: Connection, connection_id: int) -> list[ScimUserRecord]:
    """Every SCIM user record of a connection."""
    u = scim_users.c
    rows = conn.execute(select(scim_users).where(u.connection_id == connection_id))
    return [_user(r) for r in rows]


def ensure_user_ids(
    conn: Connection, connection_id: int, emails: Iterable[str], now: datetime
) -> None:
    """Give every e-mail without a record one (active, empty document)."""
    known = {r.email for r in list_users(conn, connection_id)}
    fresh = sorted({e.lower() for e in emails} - known)
    if fresh:
        conn.execute(
            insert(scim_users),
            [
                {
                    "id": new_id(),
                    "connection_id": connection_id,
                    "email": email,
                    "external_id": None,
                    "document": {},
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for email in fresh
            ],
        )


def _on_team(conn: Connection, table: Table, connection_id: int, ident: str) -> Any:
    """The row ``ident`` of ``table`` on the connection, or ``None``."""
    c = table.c
    return conn.execute(
        select(table).where(c.connection_id == connection_id, c.id == ident)
    ).first()


def get_user(conn: Connection, connection_id: int, user_id: str) -> ScimUserRecord | None:
    """The record ``user_id`` on the connection, or ``None``."""
    row = _on_team(conn, scim_users, connection_id, user_id)
    return _user(row) if row else None


def insert_user(conn: Connection, record: ScimUserRecord) -> None:
    """Store a new record (replacing a record of the same e-mail, if any)."""
    u = scim_users.c
    conn.execute(
        delete(scim_users).where(
            u.connection_id == record.connection_id, u.email == record.email.lower()
        )
    )
    conn.execute(insert(scim_users).values(values_of(record, email=record.email.lower())))


def update_user(
    conn: Connection,
    user_id: str,
    *,
    document: dict[str, Any],
    external_id: str | None,
    active: bool,
    now: datetime,
) -> None:
    """Replace the stored document of ``user_id``."""
    conn.execute(
        update(scim_users)
        .where(scim_users.c.id == user_id)
        .values(document=document, external_id=external_id, active=active, updated_at=now)
    )


def delete_user(conn: Connection, user_id: str) -> None:
    """Forget ``user_id``."""
    conn.execute(delete(scim_users).where(scim_users.c.id == user_id))


def list_groups(conn: Connection, connection_id: int) -> list[ScimGroupRecord]:
    """Every group the IdP pushed to the connection."""
    rows = conn.execute(select(scim_groups).where(scim_groups.c.connection_id == connection_id))
    return [_group(r) for r in rows]


def get_group(conn: Connection, connection_id: int, group_id: str) -> ScimGroupRecord | None:
    """The group ``group_id`` on the connection, or ``None``."""
    row = _on_team(conn, scim_groups, connection_id, group_id)
    return _group(row) if row else None


def insert_group(conn: Connection, record: ScimGroupRecord) -> None:
    """Store a new group."""
    conn.execute(insert(scim_groups).values(values_of(record)))


def update_group(
    conn: Connection, group_id: str, *, display_name: str, document: dict[str, Any], now: datetime
) -> None:
    """Replace a group's name and document."""
    conn.execute(
        update(scim_groups)
        .where(scim_groups.c.id == group_id)
        .values(display_name=display_name, document=document, updated_at=now)
    )


def delete_group(conn: Connection, group_id: str) -> None:
    """Forget a group."""
    conn.execute(delete(scim_groups).where(scim_groups.c.id == group_id))


def list_group_access(engine_or_conn: Engine | Connection, connection_id: int) -> list[GroupAccess]:
    """The admin's group mappings for a connection, by group name."""
    query = (
        select(scim_group_access)
        .where(scim_group_access.c.connection_id == connection_id)
        .order_by(scim_group_access.c.group_name)
    )
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.connect() as conn:
            rows = conn.execute(query).all()
    else:
        rows = engine_or_conn.execute(query).all()
    return [
        GroupAccess(
            connection_id=r.connection_id,
            group_name=r.group_name,
            roles=tuple(r.roles or ()),
            all_apps=bool(r.all_apps),
            apps=tuple(r.apps or ()),
        )
        for r in rows
    ]


def set_group_access(engine: Engine, mapping: GroupAccess) -> None:
    """Set (or replace) what membership of a group gives."""
    a = scim_group_access.c
    with engine.begin() as conn:
        conn.execute(
            delete(scim_group_access).where(
                a.connection_id == mapping.connection_id, a.group_name == mapping.group_name
            )
        )
        conn.execute(
            insert(scim_group_access).values(
                connection_id=mapping.connection_id,
                group_name=mapping.group_name,
                roles=list(mapping.roles),
                all_apps=mapping.all_apps,
                apps=list(mapping.apps),
            )
        )


def delete_group_access(engine: Engine, connection_id: int, group_name: str) -> bool:
    """Remove a group mapping; whether there was one."""
    a = scim_group_access.c
    with engine.begin() as conn:
        result = conn.execute(
            delete(scim_group_access).where(
                a.connection_id == connection_id, a.group_name == group_name
            )
        )
    return bool(result.rowcount)
