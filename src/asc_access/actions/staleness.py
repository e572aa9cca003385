"""Compare the mirror with Apple's fresh answer, so a plan can say when the mirror was stale.

Plans are always built from Apple's answer, never from the mirror; these notes
only tell the person that what they saw in ``asc-access users`` (or the
console) was out of date, and that applying the plan (or the next sync)
brings the mirror in line. A connection that never completed a sync gets no
notes: its mirror is empty, not stale.
"""

from __future__ import annotations

from collections.abc import Iterable

from asc_access.actions.access import Access
from asc_access.actions.reads import PersonState, normalise_email
from asc_access.models import Invitation, User
from asc_access.store.handle import Database, reading
from asc_access.store.lookups import mirrored_ids
from asc_access.store.mirror import load_snapshot
from asc_access.store.runs import last_succeeded_run
from asc_access.store.snapshot import MirrorInvitation, MirrorUser, Snapshot

__all__ = ["person_note", "team_note"]


def _mirror_access(row: MirrorUser | MirrorInvitation) -> Access:
    return Access.of(
        row.roles,
        all_apps_visible=row.all_apps_visible,
        provisioning_allowed=row.provisioning_allowed,
        app_ids=row.app_ids,
    )


def _load(engine: Database, connection_id: int, email: str | None) -> Snapshot | None:
    with reading(engine) as conn:
        if last_succeeded_run(conn, connection_id) is None:
            return None
        if email is None:
            return load_snapshot(conn, connection_id, apps=False)
        users, invitations = mirrored_ids(conn, connection_id, email)
        return load_snapshot(conn, connection_id, users=users, invitations=invitations)


def _picture(
    users: Iterable[tuple[str, Access]], invitations: Iterable[tuple[str, Access]]
) -> set[tuple[str, str, Access]]:
    return {("member", e, a) for e, a in users} | {("invited", e, a) for e, a in invitations}


def _apple(
    users: Iterable[User], invitations: Iterable[Invitation]
) -> set[tuple[str, str, Access]]:
    return _picture(
        ((normalise_email(u.username), Access.of_user(u)) for u in users),
        ((normalise_email(i.email), Access.of_invitation(i)) for i in invitations),
    )


def _mirror(snapshot: Snapshot) -> set[tuple[str, str, Access]]:
    return _picture(
        ((u.username, _mirror_access(u)) for u in snapshot.users.values()),
        ((i.email, _mirror_access(i)) for i in snapshot.invitations.values()),
    )


def _text(entries: set[tuple[str, str, Access]], labels: dict[str, str]) -> str:
    if not entries:
        return "not on the team"
    return "; ".join(
        f"{kind} {access.describe(labels)}" for kind, _, access in sorted(entries, key=str)
    )


def person_note(engine: Database, connection_id: int, team: str, state: PersonState) -> str | None:
    """A note when the mirror's picture of ``state.email`` differs from Apple's."""
    snapshot = _load(engine, connection_id, state.email)
    if snapshot is None:
        return None
    mirror = _mirror(snapshot)
    apple = _apple([state.member] if state.member else [], state.invitations)
    if mirror == apple:
        return None
    labels = {a.app_id: a.bundle_id or a.name for a in snapshot.apps.values()}
    return (
        f"the mirror of team {team} was out of date for {state.email} "
        f"(mirror: {_text(mirror, labels)}; Apple now: {_text(apple, labels)}); "
        "this plan follows Apple"
    )


def team_note(
    engine: Database,
    connection_id: int,
    team: str,
    users: list[User],
    invitations: list[Invitation],
) -> str | None:
    """A note when the mirror of a whole team differs from Apple's (how many people)."""
    snapshot = _load(engine, connection_id, None)
    if snapshot is None:
        return None
    differ = {e for _, e, _ in _mirror(snapshot) ^ _apple(users, invitations)}
    if not differ:
        return None
    return (
        f"the mirror of team {team} was out of date for {len(differ)} "
        f"{'person' if len(differ) == 1 else 'people'} ({', '.join(sorted(differ)[:5])}"
        f"{', ...' if len(differ) > 5 else ''}); this plan follows Apple"
    )
