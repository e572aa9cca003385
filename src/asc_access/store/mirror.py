"""The mirror: read a connection's picture, write a new one, reflect applied actions.

Writing a sync (:func:`write_snapshot`) touches only rows that changed: new
rows are inserted, changed rows updated, rows that went away deleted; a team
that did not change costs no writes at all. The caller runs it inside the one
transaction that also writes the change events and closes the run, after
:func:`lock_connection` has serialised writers of that connection's mirror.

Actions (``asc_access.actions``) call the ``apply_*`` helpers right after Apple
accepted a write, inside their own transaction, so the mirror shows the change
at once; each helper also writes the matching change events with ``audit_id``
set and returns them:

- :func:`apply_user_removed` — a member was removed (``user_removed``).
- :func:`apply_user_updated` — roles, flags or app list changed (``user_roles_changed``,
  ``user_flags_changed``, ``user_apps_changed``); pass the full app list.
- :func:`apply_user_visible_apps` — only the app list changed (``user_apps_changed``).
- :func:`apply_invitation_created` — an invitation was sent (``invitation_created``).
- :func:`apply_invitation_deleted` — an invitation was cancelled (``invitation_cancelled``).

They are idempotent: applying the same state twice writes nothing the second time.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, select, type_coerce, update

from asc_access.models import Invitation, User
from asc_access.store import schema
from asc_access.store.changes import (
    ChangeEvent,
    insert_changes,
    invitation_events,
    user_events,
)
from asc_access.store.rows import record
from asc_access.store.snapshot import MirrorApp, MirrorInvitation, MirrorUser, Snapshot
from asc_access.store.timeutil import utc_or_now
from asc_access.store.writer import record_digest, write_snapshot

__all__ = [
    "apply_invitation_created",
    "apply_invitation_deleted",
    "apply_user_removed",
    "apply_user_updated",
    "apply_user_visible_apps",
    "fill_snapshot",
    "load_snapshot",
    "lock_connection",
    "mirror_generation",
    "mirror_state",
    "record_digest",
    "write_snapshot",
]


def lock_connection(conn: Connection, connection_id: int) -> None:
    """Serialise mirror writers of one connection until the transaction ends.

    PostgreSQL: a row lock on the connection. SQLite: a no-op write, which takes
    the database's write lock before anything is read.
    """
    c = schema.connections.c
    if conn.dialect.name == "postgresql":
        conn.execute(select(c.id).where(c.id == connection_id).with_for_update())
    else:
        conn.execute(update(schema.connections).where(c.id == connection_id).values(id=c.id))


#: Rows read between two pauses of :func:`fill_snapshot` (about a millisecond of work).
_STEP = 100


def _batches(conn: Connection, query: Any, size: int) -> Iterator[Sequence[Any]]:
    """The rows of ``query``, ``size`` at a time (the driver's ``fetchmany``, not row by row)."""
    result = conn.execute(query)
    while batch := result.fetchmany(size):
        yield batch


def _app_ids(conn: Connection, query: Any, out: dict[str, set[str]]) -> Iterator[None]:
    for batch in _batches(conn, query, _STEP * 4):
        for person_id, app_id in batch:
            out.setdefault(person_id, set()).add(app_id)
        yield None


def _roles_reader() -> Callable[[Any], tuple[str, ...]]:
    """Stored ``roles`` (JSON text, or a list where the driver parses JSON) as a tuple.

    A team has a handful of distinct role sets, so each text is parsed once.
    """
    parsed: dict[str, tuple[str, ...]] = {}

    def read(raw: Any) -> tuple[str, ...]:
        if type(raw) is not str:
            return tuple(raw)
        if raw not in parsed:
            parsed[raw] = tuple(json.loads(raw))
        return parsed[raw]

    return read


def _people(
    conn: Connection,
    kind: Any,
    table: Any,
    links: Any,
    connection_id: int,
    ids: Any,
    into: dict[str, Any],
) -> Iterator[None]:
    """Put the ``kind`` records (members or invitations) of one connection, with their app
    ids, into ``into`` by id, pausing every :data:`_STEP` rows.

    Only the record's columns are selected, in batches, and the records built from
    them directly (no per-row field lookup): a 10,000-member re-sync reads its whole
    picture back.
    """
    t, link = table.c, links.c
    names = [f.name for f in fields(kind) if f.name != "app_ids"]
    id_col = next(c.name for c in link if c.name not in ("connection_id", "app_id"))
    columns = [type_coerce(t[n], String) if n == "roles" else t[n] for n in names]
    rows = select(*columns).where(t.connection_id == connection_id)
    apps = select(link[id_col], link.app_id).where(link.connection_id == connection_id)
    if ids is not None:
        rows = rows.where(t[id_col].in_(list(ids)))
        apps = apps.where(link[id_col].in_(list(ids)))
    app_ids: dict[str, set[str]] = {}
    yield from _app_ids(conn, apps, app_ids)
    roles_at, key_at, roles = names.index("roles"), names.index(id_col), _roles_reader()
    none: frozenset[str] = frozenset()
    for batch in _batches(conn, rows, _STEP):
        for row in batch:
            values = list(row)
            values[roles_at] = roles(values[roles_at])
            ident = values[key_at]
            found = app_ids.get(ident)
            person = dict(zip(names, values, strict=True))
            into[ident] = kind(**person, app_ids=frozenset(found) if found else none)
        yield None


def load_snapshot(
    conn: Connection,
    connection_id: int,
    *,
    users: Collection[str] | None = None,
    invitations: Collection[str] | None = None,
    apps: bool = True,
) -> Snapshot:
    """The stored picture of one connection.

    ``users`` / ``invitations`` limit it to those ids (``None``: everyone);
    ``apps=False`` leaves the apps out. A partial snapshot written back with
    :func:`write_snapshot` touches only what it holds.
    """
    snapshot = Snapshot()
    deque(
        fill_snapshot(
            conn, connection_id, snapshot, users=users, invitations=invitations, apps=apps
        ),
        maxlen=0,
    )
    return snapshot


def fill_snapshot(
    conn: Connection,
    connection_id: int,
    into: Snapshot,
    *,
    users: Collection[str] | None = None,
    invitations: Collection[str] | None = None,
    apps: bool = True,
) -> Iterator[None]:
    """:func:`load_snapshot` into ``into``, pausing (a ``yield``) every :data:`_STEP` rows.

    A caller on an event loop lets other work run at each pause (a sync reads the
    stored picture while Apple's pages are in flight).
    """
    yield from _people(
        conn, MirrorUser, schema.users, schema.user_apps, connection_id, users, into.users
    )
    yield from _people(
        conn,
        MirrorInvitation,
        schema.invitations,
        schema.invitation_apps,
        connection_id,
        invitations,
        into.invitations,
    )
    if apps:
        a = schema.apps.c
        for row in conn.execute(select(schema.apps).where(a.connection_id == connection_id)):
            into.apps[row.app_id] = record(MirrorApp, row)


def mirror_generation(conn: Connection, connection_id: int) -> int:
    """How many times the connection's mirror has been written (see :func:`write_snapshot`).

    A picture read after this value was read is still the stored one while the value
    has not moved.
    """
    return mirror_state(conn, connection_id)[0]


def mirror_state(conn: Connection, connection_id: int) -> tuple[int, str | None]:
    """``(generation, digest)`` of the connection's stored picture (``(0, None)``: no row).

    The digest (:meth:`Snapshot.digest`) is ``None`` when unknown: nothing synced yet,
    or a write since the last sync that compared the whole picture.
    """
    c = schema.mirror_state.c
    query = select(c.generation, c.digest).where(c.connection_id == connection_id)
    row = conn.execute(query).first()
    return (0, None) if row is None else (int(row.generation), row.digest)


# -- applied actions --


def _apply(
    conn: Connection,
    connection_id: int,
    old: Snapshot,
    new: Snapshot,
    events: list[ChangeEvent],
    *,
    now: datetime,
    audit_id: int | None,
) -> list[ChangeEvent]:
    write_snapshot(conn, connection_id, old, new, now=now)
    insert_changes(conn, connection_id, events, at=now, audit_id=audit_id)
    return events


def apply_user_removed(
    conn: Connection,
    connection_id: int,
    user_id: str,
    *,
    audit_id: int | None = None,
    at: datetime | None = None,
) -> list[ChangeEvent]:
    """A member was removed from the team: drop them from the mirror (``user_removed``)."""
    now = utc_or_now(at)
    old = _locked(conn, connection_id, users={user_id})
    before = old.users.get(user_id)
    if before is None:
        return []
    new = Snapshot()
    return _apply(
        conn, connection_id, old, new, user_events(before, None), now=now, audit_id=audit_id
    )


def _locked(
    conn: Connection,
    connection_id: int,
    *,
    users: Collection[str] = (),
    invitations: Collection[str] = (),
) -> Snapshot:
    """Lock the connection's mirror and load those members and invitations of it."""
    lock_connection(conn, connection_id)
    return load_snapshot(conn, connection_id, users=users, invitations=invitations, apps=False)


def apply_user_updated(
    conn: Connection,
    connection_id: int,
    user: User,
    *,
    app_ids: Iterable[str] | None = None,
    audit_id: int | None = None,
    at: datetime | None = None,
) -> list[ChangeEvent]:
    """A member's roles, flags or apps changed; ``user`` is Apple's answer after the write.

    The app list is ``app_ids`` when given, else the user's included list when it
    is complete (not capped), else the one already mirrored.
    """
    now = utc_or_now(at)
    old = _locked(conn, connection_id, users={user.id})
    before = old.users.get(user.id)
    ids: Iterable[str]
    if app_ids is not None:
        ids = app_ids
    elif user.visible_app_ids is not None and not user.visible_apps_capped:
        ids = user.visible_app_ids
    else:
        ids = before.app_ids if before is not None else ()
    after = MirrorUser.from_model(user, ids)
    new = Snapshot(users={user.id: after})
    return _apply(
        conn, connection_id, old, new, user_events(before, after), now=now, audit_id=audit_id
    )


def apply_user_visible_apps(
    conn: Connection,
    connection_id: int,
    user_id: str,
    app_ids: Iterable[str],
    *,
    audit_id: int | None = None,
    at: datetime | None = None,
) -> list[ChangeEvent]:
    """A restricted member's full app list is now ``app_ids`` (``user_apps_changed``)."""
    now = utc_or_now(at)
    old = _locked(conn, connection_id, users={user_id})
    before = old.users.get(user_id)
    if before is None or before.all_apps_visible:
        return []
    after = replace(before, app_ids=frozenset(app_ids))
    new = Snapshot(users={user_id: after})
    return _apply(
        conn, connection_id, old, new, user_events(before, after), now=now, audit_id=audit_id
    )


def apply_invitation_created(
    conn: Connection,
    connection_id: int,
    invitation: Invitation,
    *,
    app_ids: Iterable[str] | None = None,
    audit_id: int | None = None,
    at: datetime | None = None,
) -> list[ChangeEvent]:
    """An invitation was sent; ``invitation`` is Apple's answer (``invitation_created``)."""
    now = utc_or_now(at)
    old = _locked(conn, connection_id, invitations={invitation.id})
    before = old.invitations.get(invitation.id)
    after = MirrorInvitation.from_model(invitation, now=now, app_ids=app_ids)
    new = Snapshot(invitations={invitation.id: after})
    events = invitation_events(before, after)
    return _apply(conn, connection_id, old, new, events, now=now, audit_id=audit_id)


def apply_invitation_deleted(
    conn: Connection,
    connection_id: int,
    invitation_id: str,
    *,
    audit_id: int | None = None,
    at: datetime | None = None,
) -> list[ChangeEvent]:
    """An invitation was cancelled: drop it from the mirror (``invitation_cancelled``)."""
    now = utc_or_now(at)
    old = _locked(conn, connection_id, invitations={invitation_id})
    before = old.invitations.get(invitation_id)
    if before is None:
        return []
    events = invitation_events(before, None)
    return _apply(conn, connection_id, old, Snapshot(), events, now=now, audit_id=audit_id)
