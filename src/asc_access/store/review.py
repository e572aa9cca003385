"""The access review: who deserves a second look, from the mirror.

Sections (stable keys in ``--json``):

``privileged``         the Account Holder and Admins (members and invitees);
``all_apps``           everyone else who sees every app (the flag, or a role such as
                       Finance or Access to Reports that always does);
``invitations``        invitations past their expiry (``expired``; listed only here, they
                       grant nothing any more), and pending ones
                       open longer than ``stale_after`` (``stale``) — nobody took them up;
``no_apps``            restricted people who can see no app at all;
``not_in_directory``   with a staff directory: members and invitees whose e-mail is not
                       in it — leavers who kept access, or guests to confirm.

A directory file is a CSV with an ``email`` column (any case; else the first
column that holds e-mail addresses), or JSON: a list of e-mail strings, or of
objects with an ``email`` key, or ``{"emails": [...]}`` / ``{"people": [...]}``.

Two connections whose keys belong to the same team (the same Issuer ID, or the
same individual key) are that team once: the people of the later one (by
name) are not counted again, and ``same_team`` says which was folded into
which. ``latest_sync`` names each team's newest sync run, so a review over a
mirror whose last sync failed says so next to the last *complete* sync.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from asc_access.errors import UsageError
from asc_access.models import Role
from asc_access.store import schema
from asc_access.store.person_rows import PersonRow, synced_at
from asc_access.store.rows import json_view
from asc_access.store.runs import RunRecord, list_runs
from asc_access.store.snapshot import normalise_email

__all__ = [
    "SECTIONS",
    "Finding",
    "Review",
    "build_review",
    "load_directory",
    "review_context",
    "same_team_aliases",
]

SECTIONS: tuple[str, ...] = ("privileged", "all_apps", "invitations", "no_apps", "not_in_directory")
DEFAULT_STALE_AFTER = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Finding:
    """One person on one team, and why they are listed."""

    person: PersonRow
    reason: str
    kind: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The ``review --json`` item shape."""
        shown = ("connection", "email", "name", "status", "roles", "id", "kind", "reason")
        return json_view(self.person, *shown, kind=self.kind or None, reason=self.reason)


@dataclass(slots=True)
class Review:
    """The review's sections, in :data:`SECTIONS` order."""

    generated_at: datetime
    synced_at: dict[str, datetime | None]
    people: int
    directory_size: int | None = None
    sections: dict[str, list[Finding]] = field(default_factory=dict)
    latest_sync: dict[str, RunRecord | None] = field(default_factory=dict)
    same_team: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The ``review --json`` document."""
        return {
            "generated_at": self.generated_at.isoformat(),
            "connections": {
                name: (at.isoformat() if at else None) for name, at in self.synced_at.items()
            },
            "people": self.people,
            "latest_sync": {
                name: (
                    {
                        "status": run.status,
                        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                        "code": run.error_code,
                        "cause": run.error_cause,
                    }
                    if run
                    else None
                )
                for name, run in self.latest_sync.items()
            },
            "same_team": dict(self.same_team),
            "directory_size": self.directory_size,
            "counts": {name: len(items) for name, items in self.sections.items()},
            "sections": {
                name: [f.as_dict() for f in items] for name, items in self.sections.items()
            },
        }


def build_review(
    people: Iterable[PersonRow],
    *,
    now: datetime,
    synced_at: dict[str, datetime | None] | None = None,
    directory: set[str] | None = None,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    latest_sync: dict[str, RunRecord | None] | None = None,
    same_team: dict[str, str] | None = None,
) -> Review:
    """Sort ``people`` (from :func:`~asc_access.store.queries.export_rows`) into sections.

    ``same_team`` maps a connection to the one it duplicates: its people are left out.
    """
    folded = dict(same_team or {})
    rows = sorted(
        (p for p in people if p.connection not in folded),
        key=lambda p: (p.connection, p.email, p.status),
    )
    review = Review(
        generated_at=now,
        synced_at={k: v for k, v in (synced_at or {}).items() if k not in folded},
        people=len(rows),
        directory_size=None if directory is None else len(directory),
        sections={name: [] for name in SECTIONS},
        latest_sync={k: v for k, v in (latest_sync or {}).items() if k not in folded},
        same_team=folded,
    )
    s = review.sections
    for p in rows:
        roles = set(p.roles)
        invited = " (invited)" if p.status == "invited" else ""
        if p.status == "invited" and p.is_expired(now):
            assert p.expiration_date is not None
            ago = _ago(now - p.expiration_date)
            s["invitations"].append(Finding(p, f"expired {ago} ago, never accepted", "expired"))
            continue  # grants nothing any more: listed once, here
        if Role.ACCOUNT_HOLDER in roles:
            s["privileged"].append(Finding(p, f"Account Holder{invited}", "account_holder"))
        elif Role.ADMIN in roles:
            s["privileged"].append(Finding(p, f"Admin{invited}", "admin"))
        elif p.sees_all_apps:
            why = (
                "all apps visible"
                if p.all_apps_visible
                else "role " + ", ".join(sorted(roles)) + " always sees every app"
            )
            s["all_apps"].append(Finding(p, why + invited, "all_apps"))
        if p.status == "invited" and now - p.first_seen_at >= stale_after:
            ago = _ago(now - p.first_seen_at)
            s["invitations"].append(Finding(p, f"pending for {ago}", "stale"))
        if not p.sees_all_apps and not p.apps:
            s["no_apps"].append(Finding(p, "restricted to no app at all", "no_apps"))
        if directory is not None and p.email not in directory:
            s["not_in_directory"].append(
                Finding(p, f"not in the staff directory{invited}", "not_in_directory")
            )
    return review


def same_team_aliases(conn: Connection, names: dict[int, str]) -> dict[str, str]:
    """Connections whose key is for a team another (earlier by name) connection already covers.

    A team key's Issuer ID names its team (at one API URL: a sandbox is not
    Apple); an individual key (no Issuer ID) is the same team only as the very
    same key.
    """
    c = schema.connections.c
    rows = conn.execute(
        select(c.id, c.name, c.key_id, c.issuer_id, c.api_url)
        .where(c.id.in_(list(names)))
        .order_by(c.name)
    ).all()
    first: dict[tuple[str, str, str], str] = {}
    aliases: dict[str, str] = {}
    for row in rows:
        where = row.api_url.rstrip("/")
        team = ("issuer", where, row.issuer_id) if row.issuer_id else ("key", where, row.key_id)
        if team in first:
            aliases[row.name] = first[team]
        else:
            first[team] = row.name
    return aliases


def review_context(conn: Connection, names: dict[int, str]) -> dict[str, Any]:
    """``build_review`` keywords for these connections: complete syncs, latest runs, aliases."""
    latest: dict[str, RunRecord | None] = {}
    for ident, name in names.items():
        runs = list_runs(conn, connection_ids=[ident], limit=1)
        latest[name] = runs[0] if runs else None
    return {
        "synced_at": {names[k]: v for k, v in synced_at(conn, list(names)).items()},
        "latest_sync": latest,
        "same_team": same_team_aliases(conn, names),
    }


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    return f"{max(1, seconds // 60)} minutes"


def load_directory(path: Path) -> set[str]:
    """The staff e-mails in a CSV or JSON file (see the module docstring).

    Raises:
        UsageError: the file is missing, unreadable, or holds no e-mail address.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the directory file {path}: {error}") from error
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith(("[", "{")):
        emails = _json_emails(path, text)
    else:
        emails = _csv_emails(text)
    found = {normalise_email(e) for e in emails if isinstance(e, str) and "@" in e}
    if not found:
        raise UsageError(
            f"no e-mail addresses found in {path}: give a CSV with an 'email' column "
            "or a JSON list of e-mails (or of objects with an 'email' key)"
        )
    return found


def _json_emails(path: Path, text: str) -> list[str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not valid JSON: {error}") from error
    if isinstance(data, dict):
        data = data.get("emails", data.get("people", data.get("staff", [])))
    if not isinstance(data, list):
        raise UsageError(f"{path}: expected a JSON list of e-mails or of objects")
    out: list[str] = []
    for item in data:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            value = next((v for k, v in item.items() if str(k).lower() == "email"), None)
            if isinstance(value, str):
                out.append(value)
    return out


def _csv_emails(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    for name in ("email", "e-mail", "mail", "email address", "work email"):
        if name in header:
            column = header.index(name)
            return [r[column] for r in rows[1:] if len(r) > column]
    # no header we know: the first column holding addresses (header row included)
    width = max(len(r) for r in rows)
    for column in range(width):
        values = [r[column] for r in rows if len(r) > column]
        if any("@" in v for v in values):
            return values
    return []
