"""Engine creation and schema set-up for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event

from asc_access.store.schema import metadata

__all__ = ["ensure_schema", "make_engine"]


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with SQLite made safe for concurrent readers."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the current schema (Alembic upgrade to head)."""
    metadata.create_all(engine)
