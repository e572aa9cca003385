"""Filtering and sorting for the sandbox's list views (pure functions over records)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from asc_access.sandbox.records import AppRecord, InvitationRecord, UserRecord

__all__ = [
    "Filters",
    "SortKey",
    "app_matches",
    "invitation_matches",
    "sort_records",
    "user_matches",
]

_T = TypeVar("_T")
_R = TypeVar("_R", UserRecord, InvitationRecord, AppRecord)
SortKey = tuple[str, ...]
Filters = tuple[tuple[str, tuple[str, ...]], ...]


def sort_records(
    records: list[_R], sort: SortKey, attrs: dict[str, Callable[[_R], str]]
) -> list[_R]:
    """Stable multi-key sort; ties fall back to creation order (``seq``)."""
    result = sorted(records, key=_seq)
    for expression in reversed(sort):
        folded = _folding(attrs[expression.lstrip("-")])
        result.sort(key=folded, reverse=expression.startswith("-"))
    return result


def _folding(read: Callable[[_T], str]) -> Callable[[_T], str]:
    return lambda record: read(record).casefold()


def _seq(record: UserRecord | InvitationRecord | AppRecord) -> int:
    return record.seq


def _filter_values(filters: Filters, name: str) -> tuple[str, ...] | None:
    for key, values in filters:
        if key == name:
            return values
    return None


def user_matches(user: UserRecord, filters: Filters) -> bool:
    """Whether the member passes the filters (``username``, ``roles``, ``visibleApps``)."""
    return _person_matches(user, user.username, "username", filters)


def invitation_matches(invitation: InvitationRecord, filters: Filters) -> bool:
    """Whether the invitation passes the filters (``email``, ``roles``, ``visibleApps``)."""
    return _person_matches(invitation, invitation.email, "email", filters)


def _person_matches(
    person: UserRecord | InvitationRecord, address: str, address_filter: str, filters: Filters
) -> bool:
    """A person's filters: the address (case-insensitive), any of the roles, any of the apps."""
    addresses = _filter_values(filters, address_filter)
    if addresses is not None and address.casefold() not in {a.casefold() for a in addresses}:
        return False
    roles = _filter_values(filters, "roles")
    if roles is not None and not set(roles) & set(person.roles):
        return False
    apps = _filter_values(filters, "visibleApps")
    return apps is None or bool(set(apps) & set(person.visible_app_ids))


def app_matches(app: AppRecord, filters: Filters) -> bool:
    for name, attr in (("name", "name"), ("bundleId", "bundle_id"), ("sku", "sku"), ("id", "id")):
        values = _filter_values(filters, name)
        if values is not None and getattr(app, attr) not in values:
            return False
    return True
