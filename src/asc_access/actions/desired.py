"""Desired state: a YAML or JSON file saying who should be on each team, and how.

::

    connections:
      acme:                       # a connection name (asc-access connections)
        people:
          - email: dana@example.com
            first_name: Dana
            last_name: Reyes
            roles: [DEVELOPER]
            apps: [com.example.notes, "1459876543"]   # ids or bundle ids
            provisioning: false
          - email: max@example.com
            first_name: Max
            last_name: Lee
            roles: [ADMIN]
            all_apps: true

``connections.<name>`` may also be the list of people itself. For people whose
roles can be limited, say ``apps`` (app ids, bundle ids or unambiguous names)
or ``all_apps: true``; for roles that see every app (Admin, Finance, ...), give
``all_apps`` or nothing. The Account Holder is never listed, and never removed.

People on a team but not in the file are left alone unless the file says
``remove_unlisted: true`` (at the top, or in one connection's mapping next to
``people:``); the plan then removes those members and cancels their
invitations. Without it the plan notes how many were left alone.

:func:`plan_desired_state` compares the file with a fresh read of each team
and plans, like Terraform: invitations to send (pending invitations are
matched by e-mail, and re-sent when their access differs or they expired),
changes to make (roles, apps, provisioning) and, with ``remove_unlisted``,
people to remove. Steps already satisfied are left out, so applying a file
twice gives an empty second plan. docs/desired-state.md documents every field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from asc_access.actions.building import validate_roles
from asc_access.actions.desired_plan import DesiredPerson, DesiredState, plan_desired_state
from asc_access.actions.reads import normalise_email
from asc_access.actions.safety import needs_all_apps
from asc_access.errors import UsageError
from asc_access.models import Role

__all__ = [
    "DesiredPerson",
    "DesiredState",
    "load_desired_state",
    "parse_desired_state",
    "plan_desired_state",
]

_PERSON_KEYS = {"email", "first_name", "last_name", "roles", "apps", "all_apps", "provisioning"}
_TOP_KEYS = {"connections", "remove_unlisted"}
_TEAM_KEYS = {"people", "remove_unlisted"}


def _fail(where: str, message: str) -> UsageError:
    return UsageError(f"{where}: {message}")


def _text(value: Any, where: str, key: str, *, required: bool) -> str:
    if value is None:
        if required:
            raise _fail(where, f"{key} is missing")
        return ""
    if not isinstance(value, str):
        raise _fail(where, f"{key} must be text")
    return value.strip()


def _bool(value: Any, where: str, key: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _fail(where, f"{key} must be true or false")
    return value


def _person(raw: Any, where: str) -> DesiredPerson:
    if not isinstance(raw, Mapping):
        raise _fail(where, "each person is a mapping with email, first_name, last_name, roles")
    unknown = sorted(str(key) for key in set(raw) - _PERSON_KEYS)
    if unknown:
        raise _fail(
            where, f"unknown key {', '.join(unknown)} (known: {', '.join(sorted(_PERSON_KEYS))})"
        )
    email = normalise_email(_text(raw.get("email"), where, "email", required=True))
    if "@" not in email:
        raise _fail(where, f"{email!r} is not an e-mail address")
    where = f"{where} ({email})"
    roles_raw = raw.get("roles")
    if isinstance(roles_raw, str):
        roles_raw = [roles_raw]
    if not isinstance(roles_raw, list) or not all(isinstance(r, str) for r in roles_raw):
        raise _fail(where, "roles must be a list of role names")
    try:
        roles = validate_roles(roles_raw)
    except UsageError as error:
        raise _fail(where, error.message) from None
    if Role.ACCOUNT_HOLDER in roles:
        raise _fail(where, "the Account Holder is never in a desired-state file")
    apps_raw = raw.get("apps")
    apps: tuple[str, ...] | None = None
    if apps_raw is not None:
        if not isinstance(apps_raw, list):
            raise _fail(where, "apps must be a list of app ids or bundle ids")
        apps = tuple(str(a).strip() for a in apps_raw)
    all_apps = _bool(raw.get("all_apps"), where, "all_apps")
    if apps is not None and all_apps:
        raise _fail(where, "give apps or all_apps: true, not both")
    if apps is None and not all_apps and not needs_all_apps(roles):
        raise _fail(where, "say which apps they see: apps: [...] or all_apps: true")
    return DesiredPerson(
        email=email,
        first_name=_text(raw.get("first_name"), where, "first_name", required=True),
        last_name=_text(raw.get("last_name"), where, "last_name", required=True),
        roles=roles,
        apps=apps,
        all_apps=all_apps,
        provisioning=_bool(raw.get("provisioning"), where, "provisioning"),
    )


def _known_keys(raw: Mapping[Any, Any], known: set[str], where: str) -> None:
    unknown = sorted(str(key) for key in set(raw) - known)
    if unknown:
        raise UsageError(
            f"{where}: unknown key {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )


def parse_desired_state(document: Any, source: str) -> DesiredState:
    """Validate a parsed YAML/JSON document; :class:`UsageError` names what is wrong where."""
    if not isinstance(document, Mapping) or not isinstance(document.get("connections"), Mapping):
        raise UsageError(f"{source}: expected a top-level 'connections:' mapping of name -> people")
    _known_keys(document, _TOP_KEYS, source)
    everywhere = _bool(document.get("remove_unlisted"), source, "remove_unlisted")
    teams: dict[str, tuple[DesiredPerson, ...]] = {}
    remove_unlisted: dict[str, bool] = {}
    for name, body in document["connections"].items():
        remove_unlisted[str(name)] = everywhere
        if isinstance(body, Mapping):
            where = f"{source}: connections.{name}"
            _known_keys(body, _TEAM_KEYS, where)
            if "remove_unlisted" in body:
                remove_unlisted[str(name)] = _bool(
                    body["remove_unlisted"], where, "remove_unlisted"
                )
        people_raw = body.get("people") if isinstance(body, Mapping) else body
        if people_raw is None:
            people_raw = []
        if not isinstance(people_raw, list):
            raise UsageError(f"{source}: connections.{name}: expected a list of people")
        people = tuple(
            _person(raw, f"{source}: connections.{name}.people[{i}]")
            for i, raw in enumerate(people_raw)
        )
        seen: set[str] = set()
        for person in people:
            if person.email in seen:
                raise UsageError(f"{source}: connections.{name}: {person.email} is listed twice")
            seen.add(person.email)
        teams[str(name)] = people
    return DesiredState(source=source, teams=teams, remove_unlisted=remove_unlisted)


def load_desired_state(path: Path) -> DesiredState:
    """Read and validate a ``.yaml`` / ``.yml`` / ``.json`` desired-state file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text: save it as UTF-8 YAML or JSON") from None
    try:
        is_json = path.suffix.lower() == ".json"
        document = json.loads(text) if is_json else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise UsageError(
            f"{path} is not valid {path.suffix.lstrip('.').upper() or 'YAML'}: {error}"
        ) from None
    except RecursionError:
        raise UsageError(f"{path} is nested too deeply to be a desired-state file") from None
    return parse_desired_state(document, str(path))
