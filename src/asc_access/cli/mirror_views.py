"""Human output for the mirror commands: tables and one-line change descriptions.

Everything here prints to a rich console; ``--json`` output never comes through
this module. Values from Apple are escaped before rich sees them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from asc_access.store.export import EXPORT_COLUMNS, export_csv
from asc_access.store.queries import AppRow, PersonRow
from asc_access.store.review import SECTIONS, Review

__all__ = [
    "EXPORT_COLUMNS",
    "ago",
    "describe_change",
    "export_csv",
    "export_json",
    "print_apps",
    "print_changes",
    "print_people",
    "print_review",
    "when",
]

_SECTION_TITLES = {
    "privileged": "Account Holder and Admins",
    "all_apps": "Everyone else who sees every app",
    "invitations": "Expired or stale invitations",
    "no_apps": "Restricted to no app at all",
    "not_in_directory": "Not in the staff directory (leavers who kept access?)",
}


class ChangeLike(Protocol):
    """A change event or a stored change record."""

    @property
    def subject_id(self) -> str: ...

    @property
    def email(self) -> str | None: ...

    @property
    def details(self) -> dict[str, Any]: ...


def when(at: datetime | None) -> str:
    """``2026-11-26 19:25 UTC`` (or ``never``)."""
    if at is None:
        return "never"
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def ago(at: datetime | None, now: datetime | None = None) -> str:
    """``5 minutes ago`` (or ``never``)."""
    if at is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - at).total_seconds())
    if seconds < 90:
        return "just now" if seconds >= 0 else "in the future"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size * (2 if unit != "minute" else 1):
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"  # pragma: no cover - unreachable


def _apps_text(person: PersonRow, limit: int = 3) -> str:
    if person.sees_all_apps:
        return "[green]all apps[/]"
    if not person.apps:
        return "[yellow]none[/]"
    names = [escape(a.name or a.bundle_id or a.id) for a in person.apps]
    more = f" [dim]+{len(names) - limit} more[/]" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _roles_text(roles: Sequence[str]) -> str:
    return ", ".join(escape(r.replace("_", " ").title()) for r in roles) or "-"


def print_people(
    console: Console, people: Sequence[PersonRow], *, title: str, now: datetime
) -> None:
    """A table of members or invitations."""
    invited = any(p.status == "invited" for p in people)
    multi = len({p.connection for p in people}) > 1
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    if multi:
        table.add_column("team", style="cyan", no_wrap=True)
    table.add_column("e-mail", no_wrap=True)
    table.add_column("name")
    table.add_column("roles")
    table.add_column("apps")
    if invited:
        table.add_column("expires")
    for p in people:
        cells = [escape(p.email), escape(p.name), _roles_text(p.roles), _apps_text(p)]
        if multi:
            cells.insert(0, escape(p.connection))
        if invited:
            if p.expiration_date is None:
                cells.append("-")
            elif p.is_expired(now):
                cells.append(f"[red]expired {ago(p.expiration_date, now)}[/]")
            else:
                cells.append(when(p.expiration_date))
        table.add_row(*cells)
    console.print(table)
    _freshness(console, people, now)


def _freshness(console: Console, rows: Iterable[PersonRow | AppRow], now: datetime) -> None:
    synced: dict[str, datetime | None] = {r.connection: r.synced_at for r in rows}
    for name, at in sorted(synced.items()):
        console.print(f"[dim]{escape(name)}: last complete sync {ago(at, now)} ({when(at)})[/]")


def print_apps(console: Console, apps: Sequence[AppRow], *, now: datetime) -> None:
    """A table of apps."""
    multi = len({a.connection for a in apps}) > 1
    table = Table(title=f"{len(apps)} apps", title_justify="left")
    if multi:
        table.add_column("team", style="cyan", no_wrap=True)
    for name in ("name", "bundle id", "app id", "sku", "restricted members"):
        table.add_column(name, justify="right" if name == "restricted members" else "left")
    for a in apps:
        cells = [
            escape(a.name),
            escape(a.bundle_id),
            a.id,
            escape(a.sku),
            str(a.restricted_members),
        ]
        if multi:
            cells.insert(0, escape(a.connection))
        table.add_row(*cells)
    console.print(table)
    _freshness(console, apps, now)


def _list(values: Iterable[str], names: Mapping[str, str]) -> str:
    return ", ".join(escape(names.get(v, v)) for v in values)


#: The changes told in one fixed sentence: {who}, {roles} and {app} are filled in.
_ONE_LINERS = {
    "user_removed": "[red]-[/] {who} left the team (was {roles})",
    "invitation_created": "[green]+[/] {who} invited as {roles}",
    "invitation_accepted": "[green]✓[/] {who} accepted the invitation",
    "invitation_expired": "[yellow]![/] {who}'s invitation expired",
    "invitation_cancelled": "[red]-[/] {who}'s invitation was cancelled",
    "app_added": "[green]+[/] app {app} appeared",
    "app_removed": "[red]-[/] app {app} is gone",
}


def describe_change(kind: str, change: ChangeLike, app_names: Mapping[str, str]) -> str:
    """One readable line for a change (rich markup)."""
    d = change.details
    who = escape(change.email or change.subject_id)
    if kind == "user_added":
        via = " (accepted their invitation)" if d.get("invitation_id") else ""
        return f"[green]+[/] {who} joined as {_roles_text(d.get('roles', []))}{via}"
    if kind == "user_roles_changed":
        parts = [f"+{_roles_text([r])}" for r in d.get("added", [])]
        parts += [f"-{_roles_text([r])}" for r in d.get("removed", [])]
        return f"[yellow]~[/] {who} roles: {' '.join(parts)}"
    if kind == "user_apps_changed":
        parts = []
        if d.get("granted"):
            parts.append(f"granted {_list(d['granted'], app_names)}")
        if d.get("revoked"):
            parts.append(f"revoked {_list(d['revoked'], app_names)}")
        return f"[yellow]~[/] {who} apps: {'; '.join(parts)}"
    if kind == "user_flags_changed":
        parts = []
        labels = {"all_apps_visible": "sees all apps", "provisioning_allowed": "provisioning"}
        for key, label in labels.items():
            if key in d:
                parts.append(f"{label} {'on' if d[key]['new'] else 'off'}")
        return f"[yellow]~[/] {who} {', '.join(parts)}"
    template = _ONE_LINERS.get(kind, "{kind} {who}")
    roles = _roles_text(d.get("roles", []))
    app = escape(d.get("name") or change.subject_id)
    return template.format(who=who, roles=roles, app=app, kind=escape(kind))


def print_changes(
    console: Console,
    changes: Sequence[tuple[str, datetime, str, ChangeLike]],
    *,
    app_names: Mapping[str, str],
    limit: int | None = None,
) -> None:
    """Changes as ``time  team  description`` lines, oldest first."""
    shown = changes if limit is None else changes[-limit:]
    multi = len({c[2] for c in changes}) > 1
    for kind, at, team, change in shown:
        prefix = f"[cyan]{escape(team)}[/] " if multi else ""
        console.print(f"[dim]{when(at)}[/] {prefix}{describe_change(kind, change, app_names)}")
    if limit is not None and len(changes) > limit:
        console.print(f"[dim]… {len(changes) - limit} earlier changes not shown[/]")


def _freshness_text(name: str, at: datetime | None, review: Review) -> str:
    """``acme: last complete sync 5 minutes ago (…)``, and whether the latest sync failed."""
    complete = f"last complete sync {ago(at)} ({when(at)})" if at else "no complete sync yet"
    run = review.latest_sync.get(name)
    if run is None or run.status != "failed":
        return f"{name}: {complete}"
    what = " ".join(p for p in (run.error_code, run.error_cause) if p)
    failed = f"the latest sync failed {ago(run.finished_at)} ({when(run.finished_at)})"
    return f"{name}: {failed}{f': {what}' if what else ''}; {complete}"


def print_review(console: Console, review: Review) -> None:
    """The review, section by section."""
    console.print(f"[bold]Access review[/] — {review.people} people and invitations")
    for name, at in sorted(review.synced_at.items()):
        console.print(f"[dim]{escape(_freshness_text(name, at, review))}[/]")
    for name, kept in sorted(review.same_team.items()):
        console.print(
            f"[yellow]{escape(name)} is the same team as {escape(kept)} "
            "(same key or Issuer ID): its people are counted once, under "
            f"{escape(kept)}.[/]"
        )
    for section in SECTIONS:
        items = review.sections.get(section, [])
        if section == "not_in_directory" and review.directory_size is None:
            console.print(
                "\n[dim]Leavers: pass --directory staff.csv (your current staff e-mails) "
                "to list team members who are not in it.[/]"
            )
            continue
        colour = "green" if not items else "yellow"
        console.print(f"\n[bold {colour}]{_SECTION_TITLES[section]}[/] ({len(items)})")
        if not items:
            console.print("  [dim]nobody[/]")
        multi = len({f.person.connection for f in items}) > 1
        for finding in items:
            p = finding.person
            team = f"[cyan]{escape(p.connection)}[/] " if multi else ""
            name = f" ({escape(p.name)})" if p.name else ""
            console.print(f"  {team}{escape(p.email)}{name} — {escape(finding.reason)}")


def export_json(rows: list[dict[str, Any]]) -> str:
    """``export --format json``: a list of the design's per-person objects."""
    return json.dumps(rows, indent=2) + "\n"
