"""The column and constraint shapes the migrations repeat, spelled once.

Each helper returns exactly what the revision wrote out by hand before (the
offline DDL of ``alembic upgrade head --sql`` is the same byte for byte), so a
revision reads as its table: the columns that are its own, and the shared
pieces by name. Helpers run inside a revision's ``upgrade`` / ``downgrade``
(``op.f`` and ``op.batch_alter_table`` need the migration context).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

__all__ = [
    "cascade",
    "created_updated",
    "drop_indexes",
    "index",
    "moment",
    "of",
    "person",
    "primary_key",
    "row_id",
    "string",
]


def row_id() -> sa.Column[Any]:
    """``id``: the table's own auto-incremented integer key (see :func:`primary_key`)."""
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def moment(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A timestamp column (aware UTC)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def string(name: str, length: int, *, nullable: bool = False) -> sa.Column[Any]:
    """A ``VARCHAR(length)`` column."""
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def of(
    name: str, kind: type[sa.types.TypeEngine[Any]], *, nullable: bool = False
) -> sa.Column[Any]:
    """A column of a type without arguments (``sa.JSON``, ``sa.Integer``, ``sa.Boolean``...)."""
    return sa.Column(name, kind(), nullable=nullable)


def created_updated() -> tuple[sa.Column[Any], sa.Column[Any]]:
    """``created_at`` and ``updated_at`` (both required)."""
    return moment("created_at"), moment("updated_at")


def person() -> tuple[sa.Column[Any], ...]:
    """A mirrored member's or invitee's names, roles and app visibility."""
    return (
        string("first_name", 500),
        string("last_name", 500),
        of("roles", sa.JSON),
        of("all_apps_visible", sa.Boolean),
        of("provisioning_allowed", sa.Boolean),
    )


def cascade(
    table: str, column: str = "connection_id", parent: str = "connections", *, on: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    """``table.column`` refers to ``parent.id`` (by default: the owning connection)."""
    return sa.ForeignKeyConstraint(
        [column],
        [f"{parent}.id"],
        name=op.f(f"fk_{table}_{column}_{parent}"),
        ondelete=on,
    )


def primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    """The table's primary key (``id`` unless other columns are named)."""
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=op.f(f"pk_{table}"))


def index(table: str, *indexes: tuple[str, Sequence[str]]) -> None:
    """Create the named (non-unique) indexes ``(name, columns)`` on ``table``."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name, columns in indexes:
            batch_op.create_index(name, list(columns), unique=False)


def drop_indexes(table: str, *names: str) -> None:
    """Drop the named indexes of ``table`` (in the order given)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name in names:
            batch_op.drop_index(name)
