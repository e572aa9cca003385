"""What policies are evaluated against, read from the mirror.

:class:`MirrorFacts` answers the governance layer's questions: every person
on every team (members and invitees), every connection with its health, and
the role changes syncs saw that no action of ours caused (``audit_id`` unset).
"""

from __future__ import annotations

from sqlalchemy import Engine

from asc_access.store.changes import ChangeRecord, list_changes
from asc_access.store.connections import ConnectionRecord, list_connections
from asc_access.store.queries import PersonRow, export_rows

__all__ = ["MirrorFacts"]


class MirrorFacts:
    """The mirror as facts for policy evaluation (one engine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def people(self) -> list[PersonRow]:
        """Every member and invitee, one row per person per team."""
        with self.engine.connect() as conn:
            return export_rows(conn)

    def teams(self) -> list[ConnectionRecord]:
        """Every saved connection (health included)."""
        return list_connections(self.engine)

    def outside_role_changes(self) -> list[ChangeRecord]:
        """Role changes a sync found that no asc-access action made, oldest first."""
        with self.engine.connect() as conn:
            records = list_changes(conn, types=["user_roles_changed"])
        return [r for r in records if r.audit_id is None and r.run_id is not None]
