"""Many rows into one table at the driver's speed (a first sync writes tens of thousands).

SQLAlchemy's ``execute(table.insert(), rows)`` prepares every parameter set on its
own, about 10 µs a row: most of the 0.5 s a 10,000-member first sync spent writing
its 38,000 rows into SQLite. :func:`insert_values` compiles the INSERT once for the
connection's dialect, converts each value with its column type's own bind processor
(the conversion SQLAlchemy itself applies: JSON text, aware datetimes, booleans), and
hands all the rows to the driver in one call, inside the caller's transaction:
``executemany``, or on PostgreSQL (psycopg) ``COPY … FROM STDIN`` (38,159 rows:
27,000 → 46,000 a second). A column's values repeat (the sync's clock, a few role
sets, two booleans), so each distinct value is converted once. Failures are the
same ``DBAPIError`` errors ``execute`` raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, Table
from sqlalchemy.exc import DBAPIError

__all__ = ["insert_rows", "insert_values"]


_ATOMS = (str, int, bool, type(None))


def _memo_key(value: Any) -> Hashable | None:
    """What ``value`` is converted by, when that can be told exactly; None: convert every time.

    Values that compare equal but convert differently must not share a key: ``1``,
    ``True`` and ``1.0`` differ by type; the same instant in two zones by ``tzinfo``;
    a float is never shared (``0.0 == -0.0``), nor a container of anything but text.
    """
    kind = type(value)
    if kind in _ATOMS:
        return (kind, value)
    if kind is datetime:
        return (kind, value, value.tzinfo)
    if (kind is tuple or kind is list) and all(type(item) is str for item in value):
        return (kind, tuple(value))
    return None


def _memoised(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process``, computed once for each distinct value that :func:`_memo_key` can tell."""
    done: dict[Hashable, Any] = {}

    def convert(value: Any) -> Any:
        key = _memo_key(value)
        if key is None:
            return process(value)
        if key not in done:
            done[key] = process(value)
        return done[key]

    return convert


def _copying(conn: Connection) -> bool:
    """Whether rows go in by ``COPY`` (PostgreSQL through psycopg) rather than ``executemany``."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def _converters(conn: Connection, table: Table, names: Sequence[str]) -> list[tuple[int, Any]]:
    """``(position, processor)`` of the columns whose type converts values on the way in.

    For ``COPY`` a JSON value is its text (the driver would serialise its wrapper
    again for every row), written by the dialect's serialiser as ``execute`` does.
    """
    dialect = conn.dialect
    out: list[tuple[int, Any]] = []
    for at, name in enumerate(names):
        kind = table.c[name].type
        if _copying(conn) and isinstance(kind, JSON):
            process = getattr(dialect, "_json_serializer", None) or json.dumps
        else:
            process = kind.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            out.append((at, _memoised(process)))
    return out


def insert_values(
    conn: Connection, table: Table, names: Sequence[str], values: Iterable[Sequence[Any]]
) -> int:
    """Insert ``values`` (one sequence a row, in the order of ``names``); returns how many.

    Every column without a value in ``names`` must be nullable with no default:
    a default would be applied per row, so it is refused before anything is written.
    """
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(names))
    missing = set(compiled.params) - set(names)
    if missing:
        raise ValueError(f"insert into {table.name} needs {sorted(missing)} given")
    order = list(compiled.positiontup or ()) if compiled.positional else list(names)
    converters = _converters(conn, table, order)
    where = [list(names).index(name) for name in order]
    lines: list[Sequence[Any]] = list(values)
    if lines and (converters or where != list(range(len(names)))):  # else as given
        given = list(zip(*lines, strict=True))  # column by column, in the driver's order
        columns: list[Iterable[Any]] = [given[at] for at in where]
        for at, process in converters:
            columns[at] = map(process, columns[at])
        lines = list(zip(*columns, strict=True))
    if not lines:
        return 0
    if _copying(conn):
        _copy(conn, table, order, lines)
    else:
        params = lines if compiled.positional else [dict(zip(order, v, strict=True)) for v in lines]
        conn.exec_driver_sql(str(compiled), params)
    return len(lines)


def _copy(conn: Connection, table: Table, order: Sequence[str], lines: list[Sequence[Any]]) -> None:
    """PostgreSQL: ``COPY … FROM STDIN`` in the caller's transaction (~4× executemany's speed).

    A failure is raised as the ``DBAPIError`` an ``execute`` would raise.
    """
    quote = conn.dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in order)
    statement = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
    dbapi: Any = conn.dialect.loaded_dbapi
    driver: Any = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for line in lines:
                copy.write_row(line)
    except dbapi.Error as error:
        raise DBAPIError.instance(
            statement, None, error, dbapi.Error, dialect=conn.dialect
        ) from error


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` (column name to value, the same keys in each); returns how many."""
    if not rows:
        return 0
    names = list(rows[0])
    return insert_values(conn, table, names, ([row[name] for name in names] for row in rows))
