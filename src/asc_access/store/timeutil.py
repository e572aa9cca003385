"""Datetimes in the store are aware UTC; SQLite hands them back naive, so re-attach UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["as_utc", "as_utc_or_none"]


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def as_utc_or_none(value: datetime | None) -> datetime | None:
    """:func:`as_utc`, passing ``None`` through."""
    return None if value is None else as_utc(value)
