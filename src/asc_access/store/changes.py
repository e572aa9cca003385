"""The change log: what changed between consecutive complete syncs, or by an action.

Change types (stable names, design.md) and their ``details``:

======================  ==============================================================
``user_added``          ``roles``, ``all_apps_visible``, ``apps``; ``invitation_id`` when
                        an invitation of the same e-mail went away in the same sync
``user_removed``        ``roles``, ``all_apps_visible``, ``apps`` (what they had)
``user_roles_changed``  ``added``, ``removed`` (role names), ``roles`` (now)
``user_apps_changed``   ``granted``, ``revoked`` (app ids); only while restricted both
                        before and after (a switch to or from "all apps" is a flag change)
``user_flags_changed``  ``all_apps_visible`` / ``provisioning_allowed``: ``{"old", "new"}``
                        for each flag that changed; ``apps`` (now) when apps became restricted
``invitation_created``  ``roles``, ``all_apps_visible``, ``apps``, ``expiration_date``
``invitation_accepted`` ``user_id`` of the member it became (matched by e-mail)
``invitation_expired``  ``expiration_date``; emitted once, when it first is expired
``invitation_cancelled`` gone without a new member of that e-mail (cancelled or deleted)
``app_added``           ``name``, ``bundle_id``
``app_removed``         ``name``, ``bundle_id``
======================  ==============================================================

Events from a sync carry its ``run_id``; events written because an applied
action changed the mirror (see :mod:`asc_access.store.mirror`) carry the audit
entry's ``audit_id``. Entity-level comparisons live here so that sync and
actions describe a change in exactly the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict, Unpack

from sqlalchemy import ColumnElement, Connection, func, select

from asc_access.errors import UsageError
from asc_access.store import schema
from asc_access.store.rows import json_view, record
from asc_access.store.snapshot import MirrorApp, MirrorInvitation, MirrorPerson, MirrorUser

__all__ = [
    "ChangeEvent",
    "ChangeFilters",
    "ChangeRecord",
    "ChangeType",
    "app_events",
    "check_change_types",
    "count_changes",
    "insert_changes",
    "invitation_events",
    "list_changes",
    "user_events",
]


class ChangeType(StrEnum):
    """The change types of design.md."""

    USER_ADDED = "user_added"
    USER_REMOVED = "user_removed"
    USER_ROLES_CHANGED = "user_roles_changed"
    USER_APPS_CHANGED = "user_apps_changed"
    USER_FLAGS_CHANGED = "user_flags_changed"
    INVITATION_CREATED = "invitation_created"
    INVITATION_ACCEPTED = "invitation_accepted"
    INVITATION_EXPIRED = "invitation_expired"
    INVITATION_CANCELLED = "invitation_cancelled"
    APP_ADDED = "app_added"
    APP_REMOVED = "app_removed"


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change, before it is written."""

    change_type: ChangeType
    subject_id: str
    email: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One change as stored, with its connection's name."""

    id: int
    connection_id: int
    connection: str
    run_id: int | None
    audit_id: int | None
    at: datetime
    change_type: str
    subject_id: str
    email: str | None
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` / REST shape."""
        shown = ("id", "connection", "at", "type=change_type", "subject_id", "email", "details")
        return json_view(self, *shown, "run_id", "audit_id")


def insert_changes(
    conn: Connection,
    connection_id: int,
    events: Iterable[ChangeEvent],
    *,
    at: datetime,
    run_id: int | None = None,
    audit_id: int | None = None,
) -> int:
    """Write ``events`` inside the caller's transaction; returns how many were written."""
    rows = [
        {
            "connection_id": connection_id,
            "run_id": run_id,
            "audit_id": audit_id,
            "at": at,
            "change_type": str(event.change_type),
            "subject_id": event.subject_id,
            "email": event.email,
            "details": event.details,
        }
        for event in events
    ]
    if rows:
        conn.execute(schema.changes.insert(), rows)
    return len(rows)


def check_change_types(types: Sequence[str]) -> list[str]:
    """The change types asked for, lower-cased; :class:`UsageError` names the known ones."""
    wanted = [t.strip().lower() for t in types]
    known = [t.value for t in ChangeType]
    unknown = sorted({t for t in wanted if t not in known})
    if unknown:
        raise UsageError(
            f"unknown change type {', '.join(unknown)}; known types: {', '.join(known)}"
        )
    return wanted


class ChangeFilters(TypedDict, total=False):
    """What :func:`list_changes` and :func:`count_changes` keep (every key optional)."""

    connection_ids: Sequence[int] | None
    since: datetime | None
    types: Sequence[str] | None
    subject_id: str | None
    run_id: int | None
    #: Changes whose e-mail contains this text (case-insensitive).
    email: str | None


def _where(filters: ChangeFilters) -> list[ColumnElement[bool]]:
    c = schema.changes.c
    where: list[ColumnElement[bool]] = []
    if (connection_ids := filters.get("connection_ids")) is not None:
        where.append(c.connection_id.in_(list(connection_ids)))
    if (since := filters.get("since")) is not None:
        where.append(c.at >= since)
    if types := filters.get("types"):
        where.append(c.change_type.in_(check_change_types(types)))
    if (subject_id := filters.get("subject_id")) is not None:
        where.append(c.subject_id == subject_id)
    if (run_id := filters.get("run_id")) is not None:
        where.append(c.run_id == run_id)
    if email := filters.get("email"):
        where.append(func.lower(c.email).contains(email.strip().lower(), autoescape=True))
    return where


def count_changes(conn: Connection, **filters: Unpack[ChangeFilters]) -> int:
    """How many changes :func:`list_changes` with the same filters would list."""
    return int(conn.execute(select(func.count()).where(*_where(filters))).scalar_one())


def list_changes(
    conn: Connection,
    *,
    newest_first: bool = False,
    limit: int | None = None,
    offset: int = 0,
    **filters: Unpack[ChangeFilters],
) -> list[ChangeRecord]:
    """Changes, oldest first, filtered by connection, time, type, subject, run or e-mail.

    ``newest_first`` reverses the order before ``offset`` and ``limit`` page it.
    """
    c = schema.changes
    query = select(c, schema.connections.c.name).join(
        schema.connections, schema.connections.c.id == c.c.connection_id
    )
    order = (c.c.at.desc(), c.c.id.desc()) if newest_first else (c.c.at, c.c.id)
    query = query.where(*_where(filters)).order_by(*order).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [
        record(ChangeRecord, row, connection=row.name, details=dict(row.details or {}))
        for row in conn.execute(query)
    ]


# -- entity-level comparisons (shared by the sync and the actions' mirror updates) --


def _apps(ids: frozenset[str]) -> list[str]:
    return sorted(ids)


def user_events(old: MirrorUser | None, new: MirrorUser | None) -> list[ChangeEvent]:
    """What changed for one member (``None`` = not on the team)."""
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        return [ChangeEvent(ChangeType.USER_ADDED, new.user_id, new.username, _access_facts(new))]
    if new is None:
        return [ChangeEvent(ChangeType.USER_REMOVED, old.user_id, old.username, _access_facts(old))]
    events: list[ChangeEvent] = []
    if old.roles != new.roles:
        added = sorted(set(new.roles) - set(old.roles))
        removed = sorted(set(old.roles) - set(new.roles))
        details = {"added": added, "removed": removed, "roles": list(new.roles)}
        events.append(
            ChangeEvent(ChangeType.USER_ROLES_CHANGED, new.user_id, new.username, details)
        )
    flags: dict[str, Any] = {}
    for name in ("all_apps_visible", "provisioning_allowed"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            flags[name] = {"old": before, "new": after}
    if flags:
        if old.all_apps_visible and not new.all_apps_visible:
            flags["apps"] = _apps(new.app_ids)
        events.append(ChangeEvent(ChangeType.USER_FLAGS_CHANGED, new.user_id, new.username, flags))
    if not old.all_apps_visible and not new.all_apps_visible and old.app_ids != new.app_ids:
        details = {
            "granted": _apps(new.app_ids - old.app_ids),
            "revoked": _apps(old.app_ids - new.app_ids),
        }
        events.append(ChangeEvent(ChangeType.USER_APPS_CHANGED, new.user_id, new.username, details))
    return events


def _access_facts(person: MirrorPerson) -> dict[str, Any]:
    """A person's roles, all-apps visibility and apps (member added or removed, invitation sent)."""
    return {
        "roles": list(person.roles),
        "all_apps_visible": person.all_apps_visible,
        "apps": _apps(person.app_ids),
    }


def invitation_events(
    old: MirrorInvitation | None, new: MirrorInvitation | None, *, accepted_by: str | None = None
) -> list[ChangeEvent]:
    """What changed for one invitation; a vanished one was accepted when ``accepted_by``."""
    if old is None and new is None:
        return []
    if new is None:
        assert old is not None
        if accepted_by is not None:
            details: dict[str, Any] = {"user_id": accepted_by}
            kind = ChangeType.INVITATION_ACCEPTED
        else:
            details = {"roles": list(old.roles), "expired": old.expired}
            kind = ChangeType.INVITATION_CANCELLED
        return [ChangeEvent(kind, old.invitation_id, old.email, details)]
    events: list[ChangeEvent] = []
    if old is None:
        created = {**_access_facts(new), "expiration_date": _iso(new.expiration_date)}
        events.append(
            ChangeEvent(ChangeType.INVITATION_CREATED, new.invitation_id, new.email, created)
        )
    if new.expired and (old is None or not old.expired):
        expired = {"expiration_date": _iso(new.expiration_date)}
        events.append(
            ChangeEvent(ChangeType.INVITATION_EXPIRED, new.invitation_id, new.email, expired)
        )
    return events


def app_events(old: MirrorApp | None, new: MirrorApp | None) -> list[ChangeEvent]:
    """An app that appeared or went away (renames are not change events)."""
    if old is None and new is not None:
        details = {"name": new.name, "bundle_id": new.bundle_id}
        return [ChangeEvent(ChangeType.APP_ADDED, new.app_id, None, details)]
    if new is None and old is not None:
        details = {"name": old.name, "bundle_id": old.bundle_id}
        return [ChangeEvent(ChangeType.APP_REMOVED, old.app_id, None, details)]
    return []


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
