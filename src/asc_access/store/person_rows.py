"""What a reader of the mirror gets per person, and the connection facts it joins to.

:class:`PersonRow` (with the :class:`AppRef` of each app the person sees), the
connection names (:func:`resolve_connections`) and sync times (:func:`synced_at`).

Both :mod:`asc_access.store.people` (the paged query) and
:mod:`asc_access.store.queries` (the CLI's lists, built on it) use these, so
they live below both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, func, select

from asc_access.errors import NotFoundLocallyError
from asc_access.models import ALWAYS_ALL_APPS_ROLES
from asc_access.store import schema
from asc_access.store.rows import json_view

__all__ = ["AppRef", "PersonRow", "resolve_connections", "synced_at"]


@dataclass(frozen=True, slots=True)
class AppRef:
    """An app as shown next to a person."""

    id: str
    bundle_id: str
    name: str

    def as_dict(self) -> dict[str, str]:
        """The export shape: ``id``, ``bundle_id``, ``name``."""
        return json_view(self)


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

    @property
    def app_refs(self) -> list[str]:
        """The apps seen, by bundle id (else by id), sorted; empty for one who sees every app."""
        if self.sees_all_apps:
            return []
        return sorted(a.bundle_id or a.id for a in self.apps)

    def is_expired(self, now: datetime) -> bool:
        """An invitation whose expiry has passed at ``now``."""
        return self.expiration_date is not None and self.expiration_date <= now

    def export_dict(self) -> dict[str, Any]:
        """One object of ``export --format json`` (shape fixed in design.md)."""
        return json_view(
            self,
            *("connection", "email", "first_name", "last_name", "status", "roles"),
            *("all_apps_visible", "provisioning_allowed", "apps", "synced_at"),
            apps=[] if self.all_apps_visible else [a.as_dict() for a in self.apps],
        )

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
    out.update((row.connection_id, row[1]) for row in conn.execute(query))
    return out
