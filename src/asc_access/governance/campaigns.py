"""Access-review campaigns: freeze who has what, collect decisions, show progress.

:func:`start` freezes one item per person per team from the mirror, with
flags a reviewer should look at first: ``admin`` (Admin or Account Holder),
``all_apps`` (sees every app), ``leaver`` (not in the staff directory, when
one is given), ``invitation_pending`` (an invitation open over
``pending_days``). :func:`decide` records ``keep`` / ``revoke`` / ``reduce``
(new roles and/or apps) with a comment, on one person or on every item a
filter matches. Closing (:mod:`asc_access.governance.remediate`) freezes the
decisions and carries them out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asc_access.errors import UsageError
from asc_access.models import Role
from asc_access.store import campaigns as store
from asc_access.store.queries import PersonRow, export_rows, resolve_connections
from asc_access.store.review import load_directory
from asc_access.store.snapshot import normalise_email

if TYPE_CHECKING:
    from asc_access.store.handle import Database

__all__ = ["DECISIONS", "FLAGS", "Filter", "decide", "progress", "start"]

DECISIONS = ("keep", "revoke", "reduce")
FLAGS = ("admin", "all_apps", "leaver", "invitation_pending")
PENDING_DAYS = 7


def _flags(
    person: PersonRow, staff: set[str] | None, now: datetime, pending: timedelta
) -> list[str]:
    flags: list[str] = []
    if {Role.ADMIN, Role.ACCOUNT_HOLDER} & set(person.roles):
        flags.append("admin")
    if person.sees_all_apps:
        flags.append("all_apps")
    if staff is not None and person.email not in staff:
        flags.append("leaver")
    if person.status == "invited" and now - person.first_seen_at > pending:
        flags.append("invitation_pending")
    return flags


def _item(person: PersonRow, flags: list[str]) -> dict[str, Any]:
    return {
        "connection": person.connection,
        "email": person.email,
        "status": person.status,
        "name": person.name,
        "roles": list(person.roles),
        "all_apps_visible": person.sees_all_apps,
        "apps": person.app_refs,
        "flags": flags,
    }


def check_due(due: str | None) -> str | None:
    """``YYYY-MM-DD`` or nothing.

    Raises:
        UsageError: any other shape.
    """
    if due is None:
        return None
    try:
        return date.fromisoformat(due).isoformat()
    except ValueError:
        raise UsageError(f"--due takes a date as YYYY-MM-DD, not {due!r}") from None


def start(
    engine: Database,
    name: str,
    *,
    actor: str,
    now: datetime,
    connections: Sequence[str] | None = None,
    due: str | None = None,
    reviewers: Sequence[str] = (),
    directory: Path | None = None,
    pending_days: float = PENDING_DAYS,
) -> int:
    """Freeze the people on ``connections`` (default: every team) into a new campaign; its id."""
    if not name.strip():
        raise UsageError("a campaign needs a name")
    due_date = check_due(due)
    staff = load_directory(directory) if directory is not None else None
    with engine.connect() as conn:
        teams = resolve_connections(conn, list(connections) if connections else None)
        people = export_rows(conn, connection_ids=list(teams))
    if not teams:
        raise UsageError("no connections yet: save one with `asc-access connect NAME ...`")
    pending = timedelta(days=pending_days)
    items = [_item(p, _flags(p, staff, now, pending)) for p in people]
    return store.create_campaign(
        engine,
        name=name.strip(),
        due_date=due_date,
        connections=sorted(teams.values()),
        reviewers=list(dict.fromkeys(reviewers)),
        created_by=actor,
        items=items,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class Filter:
    """Which items a decision applies to (every given field must match)."""

    connection: str | None = None
    email: str | None = None
    flag: str | None = None
    role: str | None = None
    undecided: bool = False

    def matches(self, item: store.Item) -> bool:
        """Whether ``item`` is selected."""
        return (
            (self.connection is None or item.connection == self.connection)
            and (self.email is None or item.email == normalise_email(self.email))
            and (self.flag is None or self.flag in item.flags)
            and (self.role is None or self.role.upper() in item.roles)
            and (not self.undecided or item.decision is None)
        )

    @property
    def is_bulk(self) -> bool:
        """Whether this selects by a filter rather than one person."""
        return self.email is None


def _decision_values(
    decision: str,
    roles: Sequence[str],
    apps: Sequence[str],
    comment: str | None,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    if decision not in DECISIONS:
        raise UsageError(f"--decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    if decision == "reduce" and not roles and not apps:
        raise UsageError("reduce needs the access they keep: --role and/or --app")
    if decision != "reduce" and (roles or apps):
        raise UsageError("--role and --app go with --decision reduce")
    return {
        "decision": decision,
        "decision_roles": [r.upper() for r in roles] if roles else None,
        "decision_apps": list(apps) if apps else None,
        "comment": comment,
        "decided_by": actor,
        "decided_at": now,
    }


def decide(
    engine: Database,
    campaign_id: int,
    selection: Filter,
    decision: str,
    *,
    actor: str,
    now: datetime,
    roles: Sequence[str] = (),
    apps: Sequence[str] = (),
    comment: str | None = None,
) -> int:
    """Record ``decision`` on every item ``selection`` matches; how many.

    Raises:
        UsageError: a bad decision, nothing matched, or the campaign is closed.
    """
    if selection.flag is not None and selection.flag not in FLAGS:
        raise UsageError(f"--flag is one of {', '.join(FLAGS)}, not {selection.flag!r}")
    values = _decision_values(decision, roles, apps, comment, actor, now)
    campaign = store.get_campaign(engine, campaign_id)
    if campaign.status != "open":
        raise UsageError(f"campaign {campaign_id} is closed: its decisions can no longer change")
    chosen = [i for i in store.list_items(engine, campaign_id) if selection.matches(i)]
    if not chosen:
        raise UsageError("no item of the campaign matches (see `asc-access campaigns show ID`)")
    if decision == "reduce" and any(i.status == "invited" for i in chosen):
        raise UsageError("an invitation cannot be reduced: revoke it (and invite again)")
    return store.set_decisions(engine, campaign_id, [i.id for i in chosen], values)


def progress(items: Iterable[store.Item]) -> dict[str, Any]:
    """``{"items", "decided", "undecided", "decisions": {...}, "flags": {...}}``."""
    listed = list(items)
    decisions = Counter(i.decision for i in listed if i.decision)
    flags = Counter(f for i in listed for f in i.flags)
    decided = sum(decisions.values())
    return {
        "items": len(listed),
        "decided": decided,
        "undecided": len(listed) - decided,
        "decisions": {d: decisions.get(d, 0) for d in DECISIONS},
        "flags": {f: flags.get(f, 0) for f in FLAGS},
    }
