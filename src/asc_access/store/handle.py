"""The store's handle and the one place its driver errors become the product's errors.

Outside ``asc_access.store`` nothing imports SQLAlchemy: callers hold a
:data:`Database` (from :func:`asc_access.store.db.open_engine`), pass it back to
store functions, and open a unit of work with :func:`transaction` (writes,
committed at the end) or :func:`reading` (reads). Both turn a failing database
into the error tree of :mod:`asc_access.errors`:

- :class:`~asc_access.errors.StoreConflictError`: a unique key was taken by
  another writer first (read again and retry);
- :class:`~asc_access.errors.StoreValueError`: the database refused a value (a
  NUL character, text far too long for its column);
- :class:`~asc_access.errors.StoreError`: anything else the database failed at.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeAlias

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from asc_access.errors import StoreConflictError, StoreError, StoreValueError

__all__ = [
    "REFUSED_VALUE",
    "Database",
    "DatabaseConnection",
    "reading",
    "store_errors",
    "transaction",
    "translate",
]

#: The store's handle: callers pass it back to store functions and never run SQL on it.
Database: TypeAlias = Engine
#: One open unit of work on the store (from :func:`transaction` or :func:`reading`);
#: callers pass it to store functions, never run SQL on it.
DatabaseConnection: TypeAlias = Connection

#: The driver's exception class for a value the database refused, for a web framework
#: that dispatches handlers on the raised class; :func:`translate` turns it into
#: :class:`~asc_access.errors.StoreValueError`.
REFUSED_VALUE: type[Exception] = DataError


def translate(error: BaseException) -> StoreError | None:
    """The product's error for a database failure (``None``: ``error`` is not one).

    Its ``context["error"]`` names the driver's error class; the statement and its
    parameters are left out (they may hold request values).
    """
    if not isinstance(error, SQLAlchemyError):
        return None
    name = type(error).__name__
    context = {"error": name}
    if isinstance(error, IntegrityError):
        return StoreConflictError(
            f"another writer saved the same row first ({name})", context=context
        )
    if isinstance(error, DataError):
        return StoreValueError(f"the database refused a value ({name})", context=context)
    return StoreError(f"the database failed ({name})", context=context)


@contextmanager
def store_errors() -> Iterator[None]:
    """Raise the product's error (:func:`translate`) for a database failure inside."""
    try:
        yield
    except SQLAlchemyError as error:
        translated = translate(error)
        assert translated is not None
        raise translated from error


@contextmanager
def transaction(db: Database) -> Iterator[DatabaseConnection]:
    """A unit of work committed when the block ends (rolled back on an error)."""
    with store_errors(), db.begin() as conn:
        yield conn


@contextmanager
def reading(db: Database) -> Iterator[DatabaseConnection]:
    """A connection for reads (nothing is committed)."""
    with store_errors(), db.connect() as conn:
        yield conn
