"""The Alembic migrations build exactly the tables ``store/schema.py`` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from asc_access.store import schema
from asc_access.store.db import ensure_schema, head_revision, make_engine


def test_migrated_database_matches_schema(store: Engine) -> None:
    with store.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, schema.metadata)
        assert context.get_current_revision() == head_revision()
    assert diff == []
    assert set(inspect(store).get_table_names()) >= set(schema.metadata.tables)


def test_comparison_can_fail(store: Engine) -> None:
    """A table the migrations do not create shows up as a difference."""
    from sqlalchemy import Column, Integer, MetaData, Table

    extra = MetaData()
    for table in schema.metadata.tables.values():
        table.to_metadata(extra)
    Table("not_migrated", extra, Column("id", Integer, primary_key=True))
    with store.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), extra)
    assert [d[0] for d in diff] == ["add_table"]


def test_ensure_schema_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        ensure_schema(engine)
        ensure_schema(engine)
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    finally:
        engine.dispose()


def test_tables_made_without_alembic_are_adopted_when_they_match(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        schema.metadata.create_all(engine)
        ensure_schema(engine)
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    finally:
        engine.dispose()


def test_unversioned_tables_that_differ_are_refused(db_url: str) -> None:
    import pytest
    from sqlalchemy import Column, Integer, MetaData, Table

    from asc_access.errors import StoreError

    engine = make_engine(db_url)
    try:
        Table("connections", MetaData(), Column("id", Integer, primary_key=True)).create(engine)
        with pytest.raises(StoreError, match="no schema revision"):
            ensure_schema(engine)
    finally:
        engine.dispose()
