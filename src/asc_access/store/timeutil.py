"""Datetimes in the store are aware UTC: one column type makes them so, on every dialect.

SQLite hands datetimes back naive; :class:`UtcDateTime` (the type of every
timestamp column in :mod:`asc_access.store.schema`) re-attaches UTC on the way
out and turns aware values into UTC on the way in, so no reader converts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

__all__ = ["UtcDateTime", "as_utc", "as_utc_or_none"]


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def as_utc_or_none(value: datetime | None) -> datetime | None:
    """:func:`as_utc`, passing ``None`` through."""
    return None if value is None else as_utc(value)


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` whose values are always aware UTC in Python.

    The database type is unchanged (``TIMESTAMP WITH TIME ZONE`` on PostgreSQL,
    ``DATETIME`` on SQLite), so no migration is needed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self,
        value: datetime | None,
        dialect: Any,  # noqa: ARG002
    ) -> datetime | None:
        """Aware values are stored as UTC; naive ones are taken to be UTC already."""
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC)

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Any,  # noqa: ARG002
    ) -> datetime | None:
        """Always aware UTC."""
        return as_utc_or_none(value)
