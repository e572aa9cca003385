"""A connection resolved once: :class:`ConnectionRef`, read from the store a single time.

A sync, a queued task or an action resolves its connection here once (by name
or id) and passes the value down: the sync engine, the API client and the
workers take it instead of reading the ``connections`` row again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from asc_access.errors import NotFoundLocallyError
from asc_access.store.connections import ConnectionRecord, get_connection_by_id, list_connections
from asc_access.store.connections import get_connection as _by_name
from asc_access.store.handle import Database
from asc_access.store.rows import record, values_of

__all__ = ["ConnectionRef", "find_ref", "ref_of", "resolve_ref", "resolve_refs"]


@dataclass(frozen=True, slots=True)
class ConnectionRef:
    """A connection resolved once and passed down: who it is, its team, its key.

    Read from the store a single time (:func:`resolve_refs`, :func:`find_ref`);
    the sync, the client and the workers take it instead of reading the row again.
    ``encrypted_private_key`` is the vault's ciphertext (never plain key material).
    """

    id: int
    name: str
    key_id: str
    issuer_id: str | None  #: the team (``None`` for an individual key)
    key_type: str
    api_url: str
    sync_interval_seconds: int
    encrypted_private_key: bytes | None = field(default=None, repr=False)


def ref_of(rec: ConnectionRecord) -> ConnectionRef:
    """The :class:`ConnectionRef` of a full record."""
    return record(ConnectionRef, values_of(rec))


def find_ref(db: Database, connection: str | int) -> ConnectionRef | None:
    """A connection by id (``int``) or name (``str``); ``None`` when there is none."""
    try:
        return resolve_ref(db, connection)
    except NotFoundLocallyError:
        return None


def resolve_refs(db: Database, names: Sequence[str] | None = None) -> list[ConnectionRef]:
    """Every connection by name (``None``), or the ``names`` given in their order, once each.

    Raises:
        NotFoundLocallyError: a name is unknown (nothing else is resolved).
    """
    everyone = [ref_of(record) for record in list_connections(db)]
    if names is None:
        return everyone
    by_name = {ref.name: ref for ref in everyone}
    missing = [n for n in names if n not in by_name]
    if missing:
        known = ", ".join(sorted(by_name)) or "none yet (asc-access connect NAME ...)"
        raise NotFoundLocallyError(
            f"no connection named {', '.join(repr(m) for m in missing)}; known: {known}"
        )
    return [by_name[n] for n in dict.fromkeys(names)]


def resolve_ref(db: Database, connection: str | int) -> ConnectionRef:
    """A connection by id (``int``) or name (``str``).

    Raises:
        NotFoundLocallyError: there is none.
    """
    if isinstance(connection, int):
        return ref_of(get_connection_by_id(db, connection))
    return ref_of(_by_name(db, connection))
