"""Named API tokens for the service, kept as SHA-256 hashes only (``api_tokens``).

A token is shown once, when it is created; the database keeps its hash, so a
leaked database does not leak a usable token. The admin token (from
``ASC_ACCESS_API_TOKEN``, or generated on the service's first start) is the row
named ``admin``; every other row is a named token that can be revoked. The
audit log names the actor of a service call ``token:<name>``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from asc_access.errors import NotFoundLocallyError, UsageError
from asc_access.store.names import allowed_name
from asc_access.store.rows import json_view
from asc_access.store.rows import record as from_row
from asc_access.store.schema import api_tokens
from asc_access.store.timeutil import utc_now

__all__ = [
    "ADMIN_TOKEN_NAME",
    "TOKEN_PREFIX",
    "TOKEN_ROLES",
    "TokenRecord",
    "check_name",
    "check_role",
    "create_token",
    "ensure_admin_token",
    "find_token",
    "get_token",
    "get_token_by_id",
    "hash_token",
    "list_tokens",
    "revoke_token",
    "verify_token",
]

ADMIN_TOKEN_NAME = "admin"  # noqa: S105 (a name, not a secret)
#: Every token we mint starts with this, so a leaked one is easy to recognise in a scan.
TOKEN_PREFIX = "asca_"  # noqa: S105 (a prefix, not a secret)
#: The roles a token can carry, least to most (what each may do: ``service/roles.py``).
TOKEN_ROLES: tuple[str, ...] = ("viewer", "operator", "admin")
#: ``last_used_at`` is written at most this often per token (seconds), to keep reads cheap.
_TOUCH_EVERY = 60.0

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One row of ``api_tokens``, without the hash's secret input (there is none stored)."""

    id: int
    name: str
    is_admin: bool
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    token_hash: str
    #: ``viewer``, ``operator`` or ``admin`` (the admin token is always ``admin``).
    role: str = "admin"
    #: A SCIM token's connection (it opens ``/scim/v2`` for that team only); ``None`` otherwise.
    scim_connection_id: int | None = None

    @property
    def active(self) -> bool:
        """Whether the token may still be used."""
        return self.revoked_at is None

    @property
    def actor(self) -> str:
        """How the audit log names whoever used this token."""
        return f"token:{self.name}"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view (never the hash)."""
        shown = ("name", "is_admin", "role", "created_at", "revoked_at", "last_used_at")
        return json_view(self, *shown, "active", "scim_connection_id")


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _record(row: RowMapping) -> TokenRecord:
    return from_row(
        TokenRecord,
        row,
        id=int(row["id"]),
        name=str(row["name"]),
        is_admin=bool(row["is_admin"]),
        token_hash=str(row["token_hash"]),
        role=str(row.get("role") or "admin"),
        scim_connection_id=row.get("scim_connection_id"),
    )


def _new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def check_name(name: str) -> str:
    """Return ``name`` if it is a usable token name, else raise :class:`UsageError`."""
    return allowed_name(name, "token")


def get_token(engine: Engine, name: str) -> TokenRecord | None:
    """The token named ``name`` (active or revoked), or ``None``."""
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.name == name)).mappings().first()
    return _record(row) if row else None


def list_tokens(engine: Engine) -> list[TokenRecord]:
    """Every token, admin first, then by name."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(api_tokens).order_by(api_tokens.c.is_admin.desc(), api_tokens.c.name)
        ).mappings()
        return [_record(r) for r in rows]


def check_role(role: str) -> str:
    """Return ``role`` if it is one of :data:`TOKEN_ROLES`, else raise :class:`UsageError`."""
    if role not in TOKEN_ROLES:
        raise UsageError(
            f"role {role!r} is not a token role: use one of {', '.join(TOKEN_ROLES)}",
            context={"input": "role"},
        )
    return role


def create_token(
    engine: Engine,
    name: str,
    *,
    clock: Clock = utc_now,
    role: str = "admin",
    scim_connection_id: int | None = None,
) -> tuple[TokenRecord, str]:
    """Create the named token; return its record and the token itself (shown once).

    A revoked token's name may be used again (the old row is replaced); an
    active one's may not. ``role`` (``viewer``, ``operator``, ``admin``) says
    what the token may do. With ``scim_connection_id`` it is a SCIM token: it
    opens ``/scim/v2`` for that connection and nothing else (its role is
    ``viewer``, and unused).
    """
    check_name(name)
    check_role(role)
    if name == ADMIN_TOKEN_NAME:
        raise UsageError(
            f"the name {ADMIN_TOKEN_NAME!r} is reserved for the admin token"
            " (set ASC_ACCESS_API_TOKEN to choose it)",
            context={"input": "name"},
        )
    secret = _new_secret()
    now = clock()
    with engine.begin() as conn:
        existing = (
            conn.execute(select(api_tokens).where(api_tokens.c.name == name)).mappings().first()
        )
        if existing is not None:
            if existing["revoked_at"] is None:
                raise UsageError(
                    f"a token named {name!r} already exists: revoke it first or pick another name",
                    context={"input": "name", "conflict": True},
                )
            conn.execute(delete(api_tokens).where(api_tokens.c.id == existing["id"]))
        conn.execute(
            insert(api_tokens).values(
                name=name,
                token_hash=hash_token(secret),
                is_admin=False,
                created_at=now,
                role="viewer" if scim_connection_id is not None else role,
                scim_connection_id=scim_connection_id,
            )
        )
        row = conn.execute(select(api_tokens).where(api_tokens.c.name == name)).mappings().one()
    return _record(row), secret


def revoke_token(engine: Engine, name: str, *, clock: Clock = utc_now) -> TokenRecord:
    """Revoke the named token at once; revoking a revoked token changes nothing."""
    if name == ADMIN_TOKEN_NAME:
        raise UsageError(
            "the admin token cannot be revoked; change ASC_ACCESS_API_TOKEN to replace it",
            context={"input": "name"},
        )
    with engine.begin() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundLocallyError(
                f"no token named {name!r}: `asc-access tokens list` shows the names",
                context={"input": "name"},
            )
        if row["revoked_at"] is None:
            conn.execute(
                update(api_tokens).where(api_tokens.c.id == row["id"]).values(revoked_at=clock())
            )
            row = (
                conn.execute(select(api_tokens).where(api_tokens.c.id == row["id"]))
                .mappings()
                .one()
            )
    return _record(row)


#: The least a configured admin token must carry, estimated conservatively.
MIN_TOKEN_BITS = 128
_CLASSES = (
    (str.islower, 26),
    (str.isupper, 26),
    (str.isdigit, 10),
)


def token_entropy_bits(token: str) -> float:
    """A conservative estimate: length × log2(the alphabet of the character classes used).

    Classes are lower case (26), upper case (26), digits (10) and anything else
    (33, the printable ASCII punctuation). A token with fewer than 8 distinct
    characters (``aaaa…``, ``abab…``) is counted as 0: its length says nothing.
    """
    if len(set(token)) < 8:
        return 0.0
    alphabet = sum(size for test, size in _CLASSES if any(test(c) and c.isascii() for c in token))
    if any(not (c.isascii() and c.isalnum()) for c in token):
        alphabet += 33
    return len(token) * math.log2(max(alphabet, 2))


def check_token_strength(token: str) -> None:
    """Refuse an ``ASC_ACCESS_API_TOKEN`` with under :data:`MIN_TOKEN_BITS` bits."""
    bits = token_entropy_bits(token)
    if bits < MIN_TOKEN_BITS:
        raise UsageError(
            f"ASC_ACCESS_API_TOKEN is too weak: about {bits:.0f} bits of entropy, at least "
            f"{MIN_TOKEN_BITS} are needed (it guards every team's Admin key). Use a long random "
            'value, e.g. the output of: python -c "import secrets; '
            'print(secrets.token_urlsafe(32))" (or unset it and let the service make one)'
        )


def ensure_admin_token(
    engine: Engine, configured: str | None, *, clock: Clock = utc_now
) -> str | None:
    """Make sure an admin token exists; return a newly generated one (to print once).

    With ``configured`` (``ASC_ACCESS_API_TOKEN``) the admin row's hash is set to
    that token's, so changing the variable replaces the admin token. Without it,
    the stored admin token is kept, and one is generated only when none exists.
    """
    now = clock()
    with engine.begin() as conn:
        row = (
            conn.execute(select(api_tokens).where(api_tokens.c.name == ADMIN_TOKEN_NAME))
            .mappings()
            .first()
        )
        if configured is not None:
            if not configured.strip():
                raise UsageError("ASC_ACCESS_API_TOKEN is set but empty")
            check_token_strength(configured)
            wanted = hash_token(configured)
            if row is None or row["token_hash"] != wanted or row["revoked_at"] is not None:
                _put_admin_hash(conn, row, wanted, now, is_admin=True)
            return None
        if row is not None and row["revoked_at"] is None:
            return None
        secret = _new_secret()
        _put_admin_hash(conn, row, hash_token(secret), now)
        return secret


def _put_admin_hash(
    conn: Connection, row: RowMapping | None, token_hash: str, now: datetime, **also: bool
) -> None:
    """Store the admin token's hash: a new row, or ``row`` made active again with it."""
    if row is None:
        conn.execute(
            insert(api_tokens).values(
                name=ADMIN_TOKEN_NAME, token_hash=token_hash, is_admin=True, created_at=now
            )
        )
        return
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == row["id"])
        .values(token_hash=token_hash, revoked_at=None, created_at=now, **also)
    )


def find_token(engine: Engine, token: str) -> TokenRecord | None:
    """The record whose hash matches ``token``, active or revoked, or ``None``."""
    if not token or len(token) > 512:
        return None
    digest = hash_token(token)
    with engine.connect() as conn:
        row = (
            conn.execute(select(api_tokens).where(api_tokens.c.token_hash == digest))
            .mappings()
            .first()
        )
    if row is None:
        return None
    record = _record(row)
    # Compare in constant time as well, though the lookup is by a hash of a random secret.
    return record if secrets.compare_digest(record.token_hash, digest) else None


def verify_token(
    engine: Engine, token: str, *, clock: Clock = utc_now, scim: bool = False
) -> TokenRecord | None:
    """The active token record for ``token``, or ``None`` (unknown or revoked).

    SCIM tokens verify only with ``scim=True`` (the SCIM endpoint), and other
    tokens only without it, so a SCIM token never opens the API or the console.
    """
    record = find_token(engine, token)
    if record is None or not record.active:
        return None
    if (record.scim_connection_id is not None) != scim:
        return None
    now = clock()
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > _TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(
                update(api_tokens).where(api_tokens.c.id == record.id).values(last_used_at=now)
            )
    return record


def get_token_by_id(engine: Engine, token_id: int) -> TokenRecord | None:
    """The token with database id ``token_id`` (active or revoked), or ``None``."""
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).mappings().first()
    return _record(row) if row else None
