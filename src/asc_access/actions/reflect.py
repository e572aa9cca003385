"""Make the mirror show what Apple showed after a step, without waiting for a sync.

After each step the executor holds a fresh, complete read of the person from
Apple; the mirror's rows for that e-mail (members and invitations) are brought
in line with it through
the store's ``apply_*`` helpers, which also write the change events (carrying
the audit entry's id). The read is Apple's truth, not our intent, so a step
that found the mirror stale repairs it too.
"""

from __future__ import annotations

from datetime import datetime

from asc_access.actions.model import Step, StepKind
from asc_access.actions.reads import PersonState
from asc_access.store.handle import Database, transaction
from asc_access.store.lookups import mirrored_ids
from asc_access.store.mirror import (
    apply_invitation_created,
    apply_invitation_deleted,
    apply_user_removed,
    apply_user_updated,
)

__all__ = ["reflect_step"]


def reflect_step(
    engine: Database,
    connection_id: int,
    step: Step,
    state: PersonState,
    *,
    audit_id: int | None,
    at: datetime,
) -> int:
    """Write ``state`` (Apple's picture of ``step.email``) into the mirror; count the events.

    Raises:
        StoreError: the database failed (nothing of this step is written).
    """
    events = 0
    with transaction(engine) as conn:
        member = state.member
        subject = step.subject_id
        mirrored_users, mirrored_invitations = mirrored_ids(conn, connection_id, state.email)
        if subject and step.kind in (StepKind.REMOVE_USER, StepKind.UPDATE_USER):
            mirrored_users.add(subject)
        if subject and step.kind is StepKind.CANCEL_INVITATION:
            mirrored_invitations.add(subject)
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
        for user_id in sorted(mirrored_users - ({member.id} if member else set())):
            removed = apply_user_removed(conn, connection_id, user_id, audit_id=audit_id, at=at)
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
        for invitation_id in sorted(mirrored_invitations - pending_ids):
            events += len(
                apply_invitation_deleted(
                    conn, connection_id, invitation_id, audit_id=audit_id, at=at
                )
            )
    return events
