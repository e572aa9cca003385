"""Datetimes in the store are aware UTC: one column type makes them so, on every dialect.

SQLite hands datetimes back naive; :class:`UtcDateTime` (the type of every
timestamp column in :mod:`asc_access.store.schema`) re-attaches UTC on the way
out and binds every value as UTC on the way in, so neither readers nor writers convert.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

__all__ = ["UtcDateTime", "as_utc", "as_utc_or_none", "utc_now", "utc_or_now"]


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def as_utc_or_none(value: datetime | None) -> datetime | None:
    """:func:`as_utc`, passing ``None`` through."""
    return None if value is None else as_utc(value)


def utc_now() -> datetime:
    """The current time, aware UTC (the store's default clock)."""
    return datetime.now(UTC)


def utc_or_now(value: datetime | None) -> datetime:
    """:func:`as_utc` of ``value``, or the current time when ``None`` (writers' ``at=``)."""
    return as_utc(value) if value is not None else utc_now()


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` whose values are always aware UTC in Python.

    The database type is unchanged (``TIMESTAMP WITH TIME ZONE`` on PostgreSQL,
    ``DATETIME`` on SQLite), so no migration is needed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        """Aware UTC both ways: stored as UTC, read back aware (naive values are UTC)."""
        return as_utc_or_none(value)

    process_result_value = process_bind_param
