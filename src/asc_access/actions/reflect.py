"""Make the mirror show what Apple showed after a step, without waiting for a sync.

After each step the executor holds a fresh, complete read of the person from
Apple; the mirror's rows for that person are brought in line with it through
the store's ``apply_*`` helpers, which also write the change events (carrying
the audit entry's id). The read is Apple's truth, not our intent, so a step
that found the mirror stale repairs it too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from asc_access.actions.model import Step, StepKind
from asc_access.actions.reads import PersonState
from asc_access.store.mirror import (
    apply_invitation_created,
    apply_invitation_deleted,
    apply_user_removed,
    apply_user_updated,
)

__all__ = ["reflect_step"]


def reflect_step(
    engine: Engine,
    connection_id: int,
    step: Step,
    state: PersonState,
    *,
    audit_id: int | None,
    at: datetime,
) -> int:
    """Write ``state`` (Apple's picture of ``step.email``) into the mirror; count the events."""
    events = 0
    with engine.begin() as conn:
        member = state.member
        subject = step.subject_id
        if member is not None:
            events += len(
                apply_user_updated(
                    conn,
                    connection_id,
                    member,
                    app_ids=member.visible_app_ids or (),
                    audit_id=audit_id,
                    at=at,
                )
            )
        gone_user = step.kind in (StepKind.REMOVE_USER, StepKind.UPDATE_USER)
        if gone_user and subject and (member is None or member.id != subject):
            removed = apply_user_removed(conn, connection_id, subject, audit_id=audit_id, at=at)
            events += len(removed)
        for inv in state.invitations:
            events += len(
                apply_invitation_created(
                    conn,
                    connection_id,
                    inv,
                    app_ids=inv.visible_app_ids or (),
                    audit_id=audit_id,
                    at=at,
                )
            )
        pending_ids = {inv.id for inv in state.invitations}
        if step.kind is StepKind.CANCEL_INVITATION and subject and subject not in pending_ids:
            events += len(
                apply_invitation_deleted(conn, connection_id, subject, audit_id=audit_id, at=at)
            )
    return events
