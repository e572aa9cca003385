"""Query parameters: parsing and Apple's 400 ``PARAMETER_ERROR.*`` checks."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from asc_access.sandbox import problems
from asc_access.sandbox.vocabulary import APP_FIELDS, INVITATION_FIELDS, ROLES, USER_FIELDS

__all__ = [
    "DEFAULT_INCLUDE_LIMIT",
    "DEFAULT_LIMIT",
    "MAX_INCLUDE_LIMIT",
    "MAX_LIMIT",
    "ROUTE_PARAMS",
    "Query",
    "RouteParams",
    "decode_cursor",
    "encode_cursor",
    "parse_query",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
DEFAULT_INCLUDE_LIMIT = 10
MAX_INCLUDE_LIMIT = 50


@dataclass(frozen=True, slots=True)
class RouteParams:
    """Which parameters a route accepts."""

    filters: dict[str, tuple[str, ...] | None] = field(default_factory=dict)  # name -> enum
    sorts: tuple[str, ...] = ()
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    includes: tuple[str, ...] = ()
    paged: bool = False
    # Parameters Apple accepts on this route that the sandbox does not model.
    unsupported_prefixes: tuple[str, ...] = ()


_ROLE_ENUM: tuple[str, ...] = ROLES


def _people(kind: str, person_fields: tuple[str, ...], address: str) -> tuple[RouteParams, ...]:
    """A people collection's routes (members, invitations): the listing, then one resource."""
    fields = {kind: person_fields, "apps": APP_FIELDS}
    listing = RouteParams(
        filters={address: None, "roles": _ROLE_ENUM, "visibleApps": None},
        sorts=(address, "lastName"),
        fields=fields,
        includes=("visibleApps",),
        paged=True,
    )
    return listing, RouteParams(fields=fields, includes=("visibleApps",))


_USERS, _USER = _people("users", USER_FIELDS, "username")
_INVITATIONS, _INVITATION = _people("userInvitations", INVITATION_FIELDS, "email")

ROUTE_PARAMS: dict[str, RouteParams] = {
    "users": _USERS,
    "user": _USER,
    "invitations": _INVITATIONS,
    "invitation": _INVITATION,
    "related_apps": RouteParams(fields={"apps": APP_FIELDS}, paged=True),
    "linkages": RouteParams(paged=True),
    "apps": RouteParams(
        filters={"name": None, "bundleId": None, "sku": None, "id": None},
        sorts=("name", "bundleId", "sku"),
        fields={"apps": APP_FIELDS},
        paged=True,
        unsupported_prefixes=(
            "filter[appStoreVersions",
            "filter[reviewSubmissions",
            "exists[",
            "include",
            "fields[",
            "limit[",
        ),
    ),
    "app": RouteParams(
        fields={"apps": APP_FIELDS}, unsupported_prefixes=("include", "fields[", "limit[")
    ),
    "write": RouteParams(),
}


@dataclass(frozen=True, slots=True)
class Query:
    """A validated query."""

    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sort: tuple[str, ...] = ()
    fields: dict[str, frozenset[str]] = field(default_factory=dict)
    include: frozenset[str] = frozenset()
    limit: int = DEFAULT_LIMIT
    include_limit: int = DEFAULT_INCLUDE_LIMIT
    offset: int = 0
    items: tuple[tuple[str, str], ...] = ()  # the raw parameters, for links

    def fields_for(self, resource_type: str) -> frozenset[str] | None:
        """The sparse fieldset for a type (``None``: all fields)."""
        return self.fields.get(resource_type)


def encode_cursor(offset: int) -> str:
    """An opaque cursor for the page starting at ``offset``."""
    raw = json.dumps({"offset": str(offset)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset inside a cursor (raises the 400 document when it is not one of ours)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(data["offset"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise problems.parameter_invalid(
            "cursor", f"'{cursor}' is not a valid cursor for this request."
        ) from None
    if offset < 0:
        raise problems.parameter_invalid("cursor", f"'{cursor}' is not a valid cursor.")
    return offset


def _split(value: str) -> tuple[str, ...]:
    return tuple(part for part in (p.strip() for p in value.split(",")) if part)


def _int_param(name: str, value: str, maximum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise problems.parameter_invalid(
            name, f"'{value}' is not a valid value for '{name}'. It must be an integer."
        ) from None
    if number < 1:
        raise problems.parameter_invalid(
            name, f"'{value}' is not a valid value for '{name}'. The minimum value is 1."
        )
    if number > maximum:
        raise problems.parameter_invalid(
            name,
            f"'{value}' is not a valid value for '{name}'. The maximum allowed value is {maximum}.",
        )
    return number


def parse_query(query_string: str, route: str) -> Query:
    """Parse and check a query string against a route's parameters."""
    spec = ROUTE_PARAMS[route]
    pairs = parse_qsl(query_string, keep_blank_values=True)
    merged: dict[str, str] = {}
    for name, value in pairs:
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    filters: list[tuple[str, tuple[str, ...]]] = []
    sort: tuple[str, ...] = ()
    fields: dict[str, frozenset[str]] = {}
    include: frozenset[str] = frozenset()
    limit = DEFAULT_LIMIT
    include_limit = DEFAULT_INCLUDE_LIMIT
    offset = 0
    for name, value in merged.items():
        if name.startswith("filter[") and name.endswith("]") and spec.filters:
            filters.append(_filter(spec, name, value))
        elif name == "sort" and spec.sorts:
            sort = _sort(spec, value)
        elif name.startswith("fields[") and name.endswith("]") and name[7:-1] in spec.fields:
            fields[name[7:-1]] = _fields(spec, name, value)
        elif name == "include" and spec.includes:
            include = _include(spec, value)
        elif name == "limit" and spec.paged:
            limit = _int_param(name, value, MAX_LIMIT)
        elif name.startswith("limit[") and name.endswith("]") and spec.includes:
            if name[6:-1] not in spec.includes:
                raise problems.parameter_invalid(
                    name, f"'{name[6:-1]}' is not a valid relationship name for {name}"
                )
            include_limit = _int_param(name, value, MAX_INCLUDE_LIMIT)
        elif name == "cursor" and spec.paged:
            offset = decode_cursor(value)
        elif any(name.startswith(p) for p in spec.unsupported_prefixes):
            raise _unsupported(name)
        elif name.startswith("fields[") and name.endswith("]") and spec.fields:
            raise problems.parameter_invalid(name, f"'{name[7:-1]}' is not a valid field type")
        else:
            raise problems.parameter_illegal(name)
    return Query(
        filters=tuple(sorted(filters)),
        sort=sort,
        fields=fields,
        include=include,
        limit=limit,
        include_limit=include_limit,
        offset=offset,
        items=tuple(pairs),
    )


def _filter(spec: RouteParams, name: str, value: str) -> tuple[str, tuple[str, ...]]:
    """``filter[key]=a,b``: a known key with allowed values, sorted and deduplicated."""
    key = name[7:-1]
    if key not in spec.filters:
        if any(name.startswith(p) for p in spec.unsupported_prefixes):
            raise _unsupported(name)
        raise problems.parameter_invalid(name, f"'{key}' is not a valid filter type")
    values = _split(value)
    if not values:
        raise problems.parameter_invalid(name, f"'{name}' requires a value")
    allowed = spec.filters[key]
    for item in values:
        if allowed is not None and item not in allowed:
            raise problems.parameter_invalid(name, f"'{item}' is not a valid value for {name}")
    return key, tuple(sorted(set(values)))


def _sort(spec: RouteParams, value: str) -> tuple[str, ...]:
    sort = _split(value)
    if not sort:
        raise problems.parameter_invalid("sort", "'sort' requires a value")
    for item in sort:
        if item.lstrip("-") not in spec.sorts or item.startswith("--"):
            raise problems.parameter_invalid("sort", f"'{item}' is not a valid sort field")
    return sort


def _fields(spec: RouteParams, name: str, value: str) -> frozenset[str]:
    chosen = _split(value)
    for item in chosen:
        if item not in spec.fields[name[7:-1]]:
            raise problems.parameter_invalid(name, f"'{item}' is not a valid field name for {name}")
    return frozenset(chosen)


def _include(spec: RouteParams, value: str) -> frozenset[str]:
    include = frozenset(_split(value))
    for item in include:
        if item not in spec.includes:
            raise problems.parameter_invalid(
                "include", f"'{item}' is not a valid relationship name"
            )
    return include


def _unsupported(name: str) -> problems.ApiProblem:
    return problems.parameter_illegal(
        name,
        f"The parameter '{name}' is valid at Apple but the sandbox does not support it.",
    )
