"""The change events between two complete pictures of a team.

Entity-level wording comes from :mod:`asc_access.store.changes`; this module
adds what only a whole-team comparison can tell: an invitation that vanished
while a member of the same e-mail appeared was *accepted* (linked to that
member), otherwise it was *cancelled*.

Order: apps added, member events, invitation events, apps removed — each group
sorted by id, so the same two pictures always give the same list.
"""

from __future__ import annotations

from asc_access.store.changes import (
    ChangeEvent,
    ChangeType,
    app_events,
    invitation_events,
    user_events,
)
from asc_access.store.snapshot import Snapshot

__all__ = ["diff_snapshots"]


def diff_snapshots(old: Snapshot, new: Snapshot) -> list[ChangeEvent]:
    """Every change from ``old`` to ``new``."""
    added_apps: list[ChangeEvent] = []
    removed_apps: list[ChangeEvent] = []
    for app_id in sorted(old.apps.keys() | new.apps.keys()):
        for event in app_events(old.apps.get(app_id), new.apps.get(app_id)):
            (added_apps if event.change_type == ChangeType.APP_ADDED else removed_apps).append(
                event
            )

    newcomers = {u.username: u.user_id for k, u in new.users.items() if k not in old.users}
    accepted: dict[str, str] = {}  # invitation id -> user id
    joined_by: dict[str, str] = {}  # user id -> invitation id
    for invitation_id, invitation in old.invitations.items():
        if invitation_id in new.invitations:
            continue
        user_id = newcomers.get(invitation.email)
        if user_id is not None and user_id not in joined_by:
            accepted[invitation_id] = user_id
            joined_by[user_id] = invitation_id

    members: list[ChangeEvent] = []
    for user_id in sorted(old.users.keys() | new.users.keys()):
        for event in user_events(old.users.get(user_id), new.users.get(user_id)):
            if event.change_type == ChangeType.USER_ADDED and user_id in joined_by:
                event.details["invitation_id"] = joined_by[user_id]
            members.append(event)

    invites: list[ChangeEvent] = []
    for invitation_id in sorted(old.invitations.keys() | new.invitations.keys()):
        invites.extend(
            invitation_events(
                old.invitations.get(invitation_id),
                new.invitations.get(invitation_id),
                accepted_by=accepted.get(invitation_id),
            )
        )
    return added_apps + members + invites + removed_apps
