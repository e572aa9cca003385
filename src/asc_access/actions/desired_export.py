"""Today's access as a desired-state file: the starting point ``export-desired`` writes.

The document lists every member and pending invitation of each team from the
mirror (the Account Holder and expired invitations left out), apps by bundle
id, and ``remove_unlisted: false``, so applying it unchanged plans nothing.
docs/desired-state.md describes every field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import yaml

from asc_access.models import Role
from asc_access.store.queries import PersonRow

__all__ = ["desired_document", "render_desired"]


def _person(row: PersonRow) -> dict[str, Any]:
    person: dict[str, Any] = {
        "email": row.email,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "roles": list(row.roles),
    }
    if row.sees_all_apps:
        person["all_apps"] = True
    else:
        person["apps"] = [a.bundle_id or a.id for a in row.apps]
    person["provisioning"] = row.provisioning_allowed
    return person


def desired_document(
    rows: Iterable[PersonRow], teams: Iterable[str], *, now: datetime
) -> dict[str, Any]:
    """The desired-state document for ``teams`` (every one listed, even when empty)."""
    connections: dict[str, dict[str, Any]] = {name: {"people": []} for name in teams}
    seen: set[tuple[str, str]] = set()
    ordered = sorted(rows, key=lambda r: (r.connection, r.status != "member", r.email))
    for row in ordered:
        if Role.ACCOUNT_HOLDER in row.roles or (row.status == "invited" and row.is_expired(now)):
            continue
        if (row.connection, row.email) in seen or row.connection not in connections:
            continue
        seen.add((row.connection, row.email))
        connections[row.connection]["people"].append(_person(row))
    for body in connections.values():
        body["people"].sort(key=lambda p: p["email"])
    return {"remove_unlisted": False, "connections": connections}


def render_desired(
    document: Mapping[str, Any], *, synced: Mapping[str, datetime | None], as_json: bool
) -> str:
    """The document as YAML with a commented header (or as JSON, which has no comments)."""
    if as_json:
        return json.dumps(document, indent=2) + "\n"
    header = [
        "# Desired state for asc-access (docs/desired-state.md describes every field).",
        "# Written by `asc-access export-desired` from the mirror:",
    ]
    header += [
        f"#   {name}: last complete sync {at.strftime('%Y-%m-%d %H:%M UTC') if at else 'never'}"
        for name, at in synced.items()
    ]
    header += [
        "# Edit it, then `asc-access plan FILE` shows what `asc-access apply FILE` would change.",
        "# People on a team but not listed here are left alone while remove_unlisted is false;",
        "# set it to true to remove them (the Account Holder is never listed, never removed).",
    ]
    body = yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True)
    return "\n".join(header) + "\n" + body
