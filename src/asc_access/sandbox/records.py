"""The sandbox's in-memory records and its clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "AppRecord",
    "Clock",
    "InvitationRecord",
    "PersonRecord",
    "UserRecord",
    "format_timestamp",
    "person_fields",
]


@dataclass(slots=True)
class AppRecord:
    """An app on the team."""

    id: str
    name: str
    bundle_id: str
    sku: str
    primary_locale: str = "en-US"
    seq: int = 0


@dataclass(slots=True, kw_only=True)
class PersonRecord:
    """What a member and an invitation share: a name and app access.

    ``visible_app_ids`` is kept in app order.
    """

    id: str
    first_name: str
    last_name: str
    roles: list[str]
    all_apps_visible: bool
    provisioning_allowed: bool = False
    visible_app_ids: list[str] = field(default_factory=list)
    seq: int = 0


@dataclass(slots=True, kw_only=True)
class UserRecord(PersonRecord):
    """A team member."""

    username: str


@dataclass(slots=True, kw_only=True)
class InvitationRecord(PersonRecord):
    """A pending (or expired) invitation."""

    email: str
    expiration: datetime


def person_fields(
    first_name: str,
    last_name: str,
    roles: Iterable[str],
    visible_app_ids: Iterable[str] | None,
    provisioning_allowed: bool,
) -> dict[str, Any]:
    """A :class:`PersonRecord`'s name and app access as keyword arguments for a
    :class:`UserRecord` or an :class:`InvitationRecord`; ``visible_app_ids`` ``None``
    means every app."""
    return {
        "first_name": first_name,
        "last_name": last_name,
        "roles": list(roles),
        "all_apps_visible": visible_app_ids is None,
        "provisioning_allowed": provisioning_allowed,
        "visible_app_ids": list(visible_app_ids or ()),
    }


class Clock:
    """The sandbox's clock: real time (or an injected source) plus an offset."""

    def __init__(self, source: Callable[[], float] = time.time, offset_seconds: float = 0.0):
        self._source = source
        self.offset_seconds = offset_seconds

    def now(self) -> float:
        """Seconds since the epoch, as the sandbox sees them."""
        return self._source() + self.offset_seconds

    def now_datetime(self) -> datetime:
        """The sandbox's current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), tz=UTC)


def format_timestamp(moment: datetime) -> str:
    """Apple's timestamp form: ``2021-04-22T08:02:15.000+0000``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
