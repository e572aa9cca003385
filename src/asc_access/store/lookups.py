"""Small named questions the actions and the sync ask the mirror.

Each is one query; callers outside the store ask here instead of writing SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select, union

from asc_access.store import schema

__all__ = ["MirrorCounts", "known_addresses", "mirror_counts", "mirrored_ids"]


def mirrored_ids(conn: Connection, connection_id: int, email: str) -> tuple[set[str], set[str]]:
    """Ids of the mirror's members and invitations with exactly this e-mail."""
    u, i = schema.users.c, schema.invitations.c
    users = conn.execute(
        select(u.user_id).where(u.connection_id == connection_id, u.username == email)
    ).scalars()
    invitations = conn.execute(
        select(i.invitation_id).where(i.connection_id == connection_id, i.email == email)
    ).scalars()
    return set(users), set(invitations)


def known_addresses(engine: Engine) -> set[str]:
    """Every e-mail any mirrored team has had (lower-cased): members, invitees, the history."""
    u, i, c = schema.users.c, schema.invitations.c, schema.changes.c
    query = union(
        select(func.lower(u.username)),
        select(func.lower(i.email)),
        select(func.lower(c.email)).where(c.email.is_not(None)),
    )
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(query) if row[0]}


@dataclass(frozen=True, slots=True)
class MirrorCounts:
    """How much of one team the mirror holds."""

    users: int
    invitations: int
    apps: int
    capped_users: int  # members restricted to at least ``capped_at`` apps

    @property
    def empty(self) -> bool:
        """Nobody and nothing mirrored."""
        return not (self.users or self.invitations or self.apps)


def mirror_counts(engine: Engine, connection_id: int, *, capped_at: int) -> MirrorCounts:
    """Rows of members, invitations and apps, and members seeing ``capped_at`` apps or more."""
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for name in ("users", "invitations", "apps"):
            table = schema.metadata.tables[name]
            query = select(func.count()).select_from(table)
            counts[name] = int(
                conn.execute(query.where(table.c.connection_id == connection_id)).scalar_one()
            )
        ua = schema.user_apps.c
        capped = select(ua.user_id).where(ua.connection_id == connection_id)
        capped = capped.group_by(ua.user_id).having(func.count() >= capped_at)
        counts["capped_users"] = int(
            conn.execute(select(func.count()).select_from(capped.subquery())).scalar_one()
        )
    return MirrorCounts(**counts)
