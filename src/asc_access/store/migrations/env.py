"""Alembic environment: runs on the connection :func:`asc_access.store.db.ensure_schema` passes.

Run from the command line as well (``alembic -c <ini>`` pointing here with
``sqlalchemy.url`` set); SQLite gets batch mode so ``ALTER`` works.

A schema change is: edit ``store/schema.py``, then generate the next revision
against a database at the current head, review it, and keep
``tests/sync/test_migrations.py`` green::

    .venv/bin/python - <<'PY'
    from alembic import command
    from asc_access.store.db import alembic_config, ensure_schema, make_engine
    engine = make_engine("sqlite:////tmp/asc-rev.db"); ensure_schema(engine)
    with engine.begin() as conn:
        command.revision(alembic_config(conn), message="what changed", autogenerate=True)
    PY
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from asc_access.store.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the given connection, or one made from ``sqlalchemy.url``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():  # pragma: no cover - offline SQL generation is not used
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
