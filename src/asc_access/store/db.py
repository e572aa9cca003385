"""Engine creation and schema set-up for SQLite and PostgreSQL.

The schema is owned by Alembic: :func:`ensure_schema` upgrades a database to
the newest migration under ``store/migrations`` (the migrations are kept equal
to :mod:`asc_access.store.schema` by a test). On PostgreSQL the upgrade runs
under an advisory lock, so several workers starting at once do not race.

:func:`open_engine` hands out the store's handle, a :data:`Database`
(:mod:`asc_access.store.handle`): callers pass it back to store functions and
never run SQL on it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from asc_access.config import Settings
from asc_access.errors import StoreError
from asc_access.store.handle import Database
from asc_access.store.schema import metadata

__all__ = [
    "Database",
    "alembic_config",
    "checkpoint_wal",
    "ensure_schema",
    "head_revision",
    "make_engine",
    "open_engine",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_ID = 0x41534341  # "ASCA": one advisory lock id for schema upgrades
_upgrade_lock = threading.Lock()


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 (owner only) and tighten an existing one and its WAL files.

    SQLite gives its ``-wal`` and ``-shm`` files the main file's mode, so a
    private main file keeps the write-ahead log (which holds page images with
    encrypted keys) private too.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            part.chmod(0o600)


def checkpoint_wal(engine: Database) -> None:
    """On SQLite, fold the write-ahead log into the file and truncate it (best effort).

    After a key is overwritten or deleted, the log still holds the earlier page
    images until a checkpoint; with ``secure_delete`` on, the checkpoint leaves
    no copy of the old bytes. A reader holding an old snapshot delays it.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def make_engine(url: str, **engine_kwargs: Any) -> Database:
    """An engine for ``url``; SQLite gets foreign keys, WAL, secure delete and a busy timeout.

    The SQLite file is the owner's alone (0600), like the master-key file.
    """
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        connect_args = {"timeout": 30, **engine_kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **engine_kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Deleted or moved content is zeroed, not left in free pages (removed keys).
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    engine_kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **engine_kwargs)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the packaged migrations (no ``alembic.ini`` needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StoreError("no migrations are packaged")
    return head


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _unversioned_but_current(connection: Connection) -> bool:
    """Tables made without Alembic (early development builds) that match the schema exactly.

    Raises:
        StoreError: tables exist without a revision and differ from the schema.
    """
    if _current_revision(connection) is not None:
        return False
    if not inspect(connection).has_table("connections"):
        return False
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    if compare_metadata(context, metadata):
        raise StoreError(
            "the database has asc-access tables but no schema revision, and they differ "
            "from this version's schema: point ASC_ACCESS_DATABASE_URL at a new database "
            "(or move the old file away)"
        )
    return True


def ensure_schema(engine: Database) -> None:
    """Bring the database to the current schema (Alembic upgrade to head).

    Cheap when the database is already current: one query reads its revision.

    Raises:
        StoreError: the database cannot be reached or upgraded, or it carries a
            revision this code does not know (a newer asc-access wrote it).
    """
    head = head_revision()
    try:
        with engine.connect() as connection:
            current = _current_revision(connection)
            connection.rollback()
        if current == head:
            return
        with _upgrade_lock, engine.begin() as connection:
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
            if _unversioned_but_current(connection):
                command.stamp(alembic_config(connection), "head")
            else:
                command.upgrade(alembic_config(connection), "head")
    except SQLAlchemyError as error:
        raise StoreError(
            f"the database could not be brought to schema revision {head}: {type(error).__name__}",
            context={"dialect": engine.dialect.name},
        ) from error
    except StoreError:
        raise
    except Exception as error:
        if type(error).__module__.startswith("alembic"):
            raise StoreError(
                f"the database schema is at an unknown revision ({error}); "
                "is a newer asc-access using this database?",
            ) from error
        raise


def open_engine(settings: Settings) -> Database:
    """The engine for ``settings.database_url``, schema ensured (home created for SQLite)."""
    if settings.database_url.startswith("sqlite"):
        settings.ensure_home()
    engine = make_engine(settings.database_url)
    ensure_schema(engine)
    return engine
