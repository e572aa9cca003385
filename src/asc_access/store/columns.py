"""The one ``metadata`` every table joins, and the column shapes the tables share.

:mod:`asc_access.store.schema` and :mod:`asc_access.store.governance_schema`
both build on this module (neither imports the other's internals), so a column
that means the same thing — a row id, the owning connection, when a row was
created — is spelled once. The migrations under ``store/migrations`` are frozen
history and keep their own spelling.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, MetaData, String

from asc_access.store.timeutil import UtcDateTime

__all__ = [
    "TS",
    "cascade_to",
    "connection_owner",
    "created_updated",
    "metadata",
    "person_columns",
    "row_id",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Every timestamp column: aware UTC in Python on every dialect (:class:`UtcDateTime`).
TS = UtcDateTime()


def row_id() -> Column[Any]:
    """``id``: the table's own auto-incremented integer key."""
    return Column("id", Integer, primary_key=True, autoincrement=True)


def cascade_to(name: str, target: str, **options: Any) -> Column[Any]:
    """An integer column referring to ``target`` (``"table.id"``), deleted with it."""
    return Column(name, Integer, ForeignKey(target, ondelete="CASCADE"), **options)


def connection_owner(**options: Any) -> Column[Any]:
    """``connection_id``: the saved connection the row belongs to (deleted with it)."""
    return cascade_to("connection_id", "connections.id", **options)


def created_updated() -> tuple[Column[Any], Column[Any]]:
    """``created_at`` and ``updated_at`` (both required)."""
    return Column("created_at", TS, nullable=False), Column("updated_at", TS, nullable=False)


def person_columns() -> tuple[Column[Any], ...]:
    """What the mirror keeps of a member or an invitee: names, roles and app visibility."""
    return (
        Column("first_name", String(500), nullable=False, default=""),
        Column("last_name", String(500), nullable=False, default=""),
        Column("roles", JSON, nullable=False),  # sorted list of role strings, unknown ones kept
        Column("all_apps_visible", Boolean, nullable=False),
        Column("provisioning_allowed", Boolean, nullable=False),
    )
