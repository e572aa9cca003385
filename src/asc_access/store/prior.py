"""The previous picture of a connection: what a sync compares its new one with.

:func:`load_prior` equals :func:`asc_access.store.mirror.load_snapshot` for a
whole connection, read in bulk (every table in one go, app lists grouped before
any object is made).

:class:`PriorRead` reads it in a thread, on its own connection, while the
sync's pages are in flight; :meth:`PriorRead.take`, called under the
connection's lock in the sync's one write transaction, hands it over only if
the stored mirror is still exactly what was read. That check is a
:func:`fingerprint`: every mirror row of the connection, each field
length-prefixed, concatenated by the database itself (one small query, no rows
sent back), so equal fingerprints mean equal rows. When they differ (anything
wrote the mirror meanwhile), or the read failed, or the engine shares one
connection between threads, the picture is read again under the lock.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, String, cast, func, literal, select
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.elements import ColumnElement

from asc_access.store import schema
from asc_access.store.snapshot import MirrorApp, MirrorInvitation, MirrorUser, Snapshot
from asc_access.store.timeutil import as_utc_or_none

__all__ = ["PriorRead", "fingerprint", "load_prior"]

_NO_APPS: frozenset[str] = frozenset()
_CHUNK = 200  #: rows fetched and turned into objects between two pauses

Pause = Callable[[], None]


def _rows(conn: Connection, table: Any, names: str, connection_id: int, pause: Pause) -> Any:
    """The connection's rows of ``table`` (the columns ``names``, in order), ``pause`` between
    chunks."""
    columns = [table.c[name] for name in names.split()]
    result = conn.execute(select(*columns).where(table.c.connection_id == connection_id))
    while chunk := result.fetchmany(_CHUNK):
        yield from chunk
        pause()


def _app_lists(
    conn: Connection, table: Any, key: str, connection_id: int, pause: Pause
) -> dict[str, Any]:
    grouped: defaultdict[str, list[str]] = defaultdict(list)
    for ident, app_id in _rows(conn, table, f"{key} app_id", connection_id, pause):
        grouped[ident].append(app_id)
    return {ident: frozenset(ids) for ident, ids in grouped.items()}


def _users(conn: Connection, connection_id: int, pause: Pause) -> dict[str, MirrorUser]:
    apps = _app_lists(conn, schema.user_apps, "user_id", connection_id, pause)
    names = "user_id username first_name last_name roles all_apps_visible provisioning_allowed"
    return {
        r[0]: MirrorUser(r[0], r[1], r[2], r[3], tuple(r[4]), r[5], r[6], apps.get(r[0], _NO_APPS))
        for r in _rows(conn, schema.users, names, connection_id, pause)
    }


def _invitations(conn: Connection, connection_id: int, pause: Pause) -> dict[str, MirrorInvitation]:
    apps = _app_lists(conn, schema.invitation_apps, "invitation_id", connection_id, pause)
    names = (
        "invitation_id email first_name last_name roles all_apps_visible provisioning_allowed "
        "expiration_date expired"
    )
    return {
        r[0]: MirrorInvitation(
            r[0],
            r[1],
            r[2],
            r[3],
            tuple(r[4]),
            r[5],
            r[6],
            as_utc_or_none(r[7]),
            r[8],
            apps.get(r[0], _NO_APPS),
        )
        for r in _rows(conn, schema.invitations, names, connection_id, pause)
    }


def _no_pause() -> None:
    return None


def _let_others_run() -> None:
    time.sleep(0)  # hands the GIL over: the event loop's many short waits for it stay short


def load_prior(conn: Connection, connection_id: int, *, pause: Pause = _no_pause) -> Snapshot:
    """The whole stored picture of one connection (members, invitations, apps).

    ``pause`` is called every few hundred rows (the prefetch thread lets the
    event loop run there: without it, each of the loop's socket calls can wait
    for the interpreter lock for a whole switch interval).
    """
    names = "app_id name bundle_id sku primary_locale"
    return Snapshot(
        users=_users(conn, connection_id, pause),
        invitations=_invitations(conn, connection_id, pause),
        apps={r[0]: MirrorApp(*r) for r in _rows(conn, schema.apps, names, connection_id, pause)},
    )


def _field(column: Any) -> ColumnElement[Any]:
    """One field, self-delimiting: ``<length>:<text>``, or ``-`` for NULL."""
    text = cast(column, String)
    return func.coalesce(cast(func.length(text), String) + literal(":") + text, literal("-"))


def fingerprint(conn: Connection, connection_id: int) -> tuple[Any, ...]:
    """Every mirror row of the connection, encoded by the database (equal iff the rows are)."""
    parts: list[Any] = []
    for table in (
        schema.users,
        schema.user_apps,
        schema.invitations,
        schema.invitation_apps,
        schema.apps,
    ):
        columns = [c for c in table.c if c.name != "connection_id"]
        row = _field(columns[0])
        for column in columns[1:]:
            row = row + _field(column)
        where = table.c.connection_id == connection_id
        parts.append(select(func.count()).select_from(table).where(where).scalar_subquery())
        parts.append(select(func.aggregate_strings(row, ";")).where(where).scalar_subquery())
    return tuple(conn.execute(select(*parts)).one())


def _one_snapshot(conn: Connection) -> None:
    """Make the reads that follow see one state of the database (one read snapshot)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")  # the driver opens none for reads: reads would drift
    elif conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ")


class PriorRead:
    """The previous picture of one connection, read in a thread (see the module docstring)."""

    def __init__(self, engine: Engine, connection_id: int) -> None:
        self.connection_id = connection_id
        self.prefetched = False  #: whether :meth:`take` handed over the thread's read
        self._read: tuple[Snapshot, tuple[Any, ...]] | None = None
        self._thread: threading.Thread | None = None
        if isinstance(engine.pool, QueuePool):  # one connection per thread
            self._thread = threading.Thread(
                target=self._run, args=(engine,), name="asc-access-prior", daemon=True
            )
            self._thread.start()

    def _run(self, engine: Engine) -> None:
        try:
            with engine.connect() as conn:
                _one_snapshot(conn)
                mark = fingerprint(conn, self.connection_id)
                picture = load_prior(conn, self.connection_id, pause=_let_others_run)
                self._read = (picture, mark)
        except Exception:  # noqa: BLE001 - the picture is then read under the lock
            self._read = None

    def wait(self) -> None:
        """Until the thread's read is over (whatever its outcome)."""
        if self._thread is not None:
            self._thread.join()

    def take(self, conn: Connection) -> Snapshot:
        """The stored picture, on ``conn`` (which holds the connection's lock)."""
        self.wait()
        read = self._read
        self._read = None
        if read is not None and fingerprint(conn, self.connection_id) == read[1]:
            self.prefetched = True
            return read[0]
        return load_prior(conn, self.connection_id)
