"""The mirror of one connection as plain values: what a sync compares and writes.

A :class:`Snapshot` is the complete picture of a team (members, invitations,
apps and who sees which app). Rows are normalised so that two snapshots of an
unchanged team compare equal: e-mails lower-cased, roles sorted, no app rows
for people who see all apps, datetimes in UTC.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from asc_access.models import App, Invitation, User
from asc_access.store.timeutil import as_utc_or_none

__all__ = [
    "MirrorApp",
    "MirrorInvitation",
    "MirrorPerson",
    "MirrorUser",
    "Snapshot",
    "mirror_row",
    "normalise_email",
    "row_names",
    "row_values",
]


def normalise_email(email: str) -> str:
    """The form e-mails are stored and matched in (trimmed, lower case)."""
    return email.strip().lower()


def _roles(roles: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(roles)))


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorPerson:
    """What a mirrored member and a mirrored invitee share: names, roles and app visibility.

    ``app_ids`` is empty when ``all_apps_visible``; it is kept in the person's
    app table, not on the person's own row.
    """

    first_name: str = ""
    last_name: str = ""
    roles: tuple[str, ...] = ()
    all_apps_visible: bool = False
    provisioning_allowed: bool = False
    app_ids: frozenset[str] = frozenset()

    @staticmethod
    def fields_of(person: User | Invitation, app_ids: Iterable[str] | None) -> dict[str, Any]:
        """The shared fields from an API model; ``app_ids`` overrides its (possibly capped) list."""
        ids: Iterable[str] = app_ids if app_ids is not None else (person.visible_app_ids or ())
        return {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "roles": _roles(person.roles),
            "all_apps_visible": person.all_apps_visible,
            "provisioning_allowed": person.provisioning_allowed,
            "app_ids": frozenset() if person.all_apps_visible else frozenset(ids),
        }

    def row_differs(self, other: MirrorPerson) -> bool:
        """Whether the person's own row (everything but the app list) differs."""
        return row_values(self) != row_values(other)


@dataclass(frozen=True, slots=True)
class MirrorUser(MirrorPerson):
    """A member as mirrored."""

    user_id: str
    username: str

    @classmethod
    def from_model(cls, user: User, app_ids: Iterable[str] | None = None) -> MirrorUser:
        """From an API model; ``app_ids`` overrides the (possibly capped) included list."""
        return cls(
            user_id=user.id,
            username=normalise_email(user.username),
            **MirrorPerson.fields_of(user, app_ids),
        )


@dataclass(frozen=True, slots=True)
class MirrorInvitation(MirrorPerson):
    """An invitation as mirrored; ``expired`` is judged by the writer's clock."""

    invitation_id: str
    email: str
    expiration_date: datetime | None = None
    expired: bool = False

    @classmethod
    def from_model(
        cls, invitation: Invitation, *, now: datetime, app_ids: Iterable[str] | None = None
    ) -> MirrorInvitation:
        """From an API model, judging expiry at ``now``."""
        return cls(
            invitation_id=invitation.id,
            email=normalise_email(invitation.email),
            expiration_date=as_utc_or_none(invitation.expiration_date),
            expired=invitation.is_expired(now),
            **MirrorPerson.fields_of(invitation, app_ids),
        )


@dataclass(frozen=True, slots=True)
class MirrorApp:
    """An app as mirrored."""

    app_id: str
    name: str = ""
    bundle_id: str = ""
    sku: str = ""
    primary_locale: str = ""

    @classmethod
    def from_model(cls, app: App) -> MirrorApp:
        """From an API model."""
        return cls(app.id, app.name, app.bundle_id, app.sku, app.primary_locale)


#: The key field of each mirrored kind (the row's key column; not part of the row's values).
_KEYS = {MirrorUser: "user_id", MirrorInvitation: "invitation_id", MirrorApp: "app_id"}


_ROW_NAMES: dict[type[Any], tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _row_shape(kind: type[Any]) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    """The row's column names of ``kind`` and a getter of their values (found once per kind)."""
    shape = _ROW_NAMES.get(kind)
    if shape is None:
        skip = {_KEYS[kind], "app_ids"}
        names = tuple(f.name for f in fields(kind) if f.name not in skip)
        get = attrgetter(*names)
        values = get if len(names) > 1 else lambda item: (get(item),)
        shape = _ROW_NAMES[kind] = (names, values)
    return shape


def row_names(kind: type[MirrorPerson | MirrorApp]) -> tuple[str, ...]:
    """The fields of ``kind`` that are columns of its own row: all but its key and ``app_ids``."""
    return _row_shape(kind)[0]


def row_values(item: MirrorPerson | MirrorApp) -> tuple[Any, ...]:
    """``item``'s values of :func:`row_names`, in that order (``roles`` as its tuple)."""
    return _row_shape(type(item))[1](item)


def mirror_row(item: MirrorPerson | MirrorApp) -> dict[str, Any]:
    """The column values of ``item``'s own row, but its key (``roles`` as a list).

    A person's ``app_ids`` live in the person's app table and are left out too.
    """
    row = dict(zip(row_names(type(item)), row_values(item), strict=True))
    if "roles" in row:
        row["roles"] = list(row["roles"])
    return row


@dataclass(slots=True)
class Snapshot:
    """A team's complete picture, keyed by Apple id."""

    users: dict[str, MirrorUser] = field(default_factory=dict)
    invitations: dict[str, MirrorInvitation] = field(default_factory=dict)
    apps: dict[str, MirrorApp] = field(default_factory=dict)

    def count(self) -> int:
        """How many members, invitations and apps it holds."""
        return len(self.users) + len(self.invitations) + len(self.apps)

    def digest(self) -> str:
        """A fingerprint of the whole picture (SHA-256 of a canonical JSON text).

        Equal snapshots give equal digests: records in key order, each as its key,
        its row's values and its sorted app ids. Values that compare equal but are
        written differently (one instant in two zones) give different digests, which
        costs only a comparison the slow way, never a missed change.
        """
        parts: list[Any] = []
        with _collector_paused():  # tens of thousands of tuples, no cycles
            for kind, people in (("users", self.users), ("invitations", self.invitations)):
                parts.append(kind)
                parts.extend(
                    (key, row_values(p), sorted(p.app_ids) if p.app_ids else None)
                    for key, p in sorted(people.items())
                )
            parts.append("apps")
            parts.extend((key, row_values(app)) for key, app in sorted(self.apps.items()))
            text = json.dumps(parts, default=_instant, separators=(",", ":"), check_circular=False)
        return hashlib.sha256(text.encode()).hexdigest()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a burst of allocations that makes no cycles.

    With a whole team in memory, collections set off by such a burst walk every
    object in it again and again (a 10,000-member digest took a third longer).
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _instant(value: Any) -> str:
    """How :meth:`Snapshot.digest` writes a datetime (the only non-JSON value of a row)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"a mirrored value of type {type(value).__name__} has no digest form")
