"""The decoder's fast path: a well-formed resource read without building error paths.

:mod:`asc_access.api.jsonapi` checks every value and names where a bad one is
(``data[3].attributes.roles is not a list of strings``); building those names for
every field of every member costs more than the reading itself (a page is 200
members and their included apps). The functions here make the same checks with
no names, and answer ``None`` as soon as anything is off; the caller then runs the
naming decoder, which finds the fault and reports it exactly as before. So a
document is accepted here only if the naming decoder would accept it, and gives
the same values.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LOCALE_MAX", "MAX_ID", "MAX_TEXT", "app_fields", "person_fields", "text"]

#: Longest text attribute accepted. Apple's names, e-mails and bundle ids are far
#: shorter; the store's columns hold 500 characters (PostgreSQL enforces it).
MAX_TEXT = 500
#: Longest resource id accepted (Apple's are short digit strings and UUIDs; the store holds 64).
MAX_ID = 64
LOCALE_MAX = 32
_BAD: Any = object()


def text(value: Any, limit: int = MAX_TEXT) -> Any:
    """``value`` as accepted text (``None``: empty), or ``_BAD``."""
    if value is None:
        return ""
    if type(value) is str and len(value) <= limit and "\x00" not in value:
        return value
    return _BAD


def _flag(value: Any) -> Any:
    if value is None:
        return False
    return value if type(value) is bool else _BAD


def _resource(value: Any, kind: str) -> tuple[str, dict[str, Any]] | None:
    """``(id, attributes)`` of a resource object of type ``kind``, or ``None``."""
    if type(value) is not dict or value.get("type") != kind:
        return None
    ident = value.get("id")
    if type(ident) is not str or not ident or len(ident) > MAX_ID or "\x00" in ident:
        return None
    attributes = value.get("attributes")
    if attributes is None:
        return ident, {}
    return (ident, attributes) if type(attributes) is dict else None


def _roles(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if type(value) is not list:
        return None
    for role in value:
        if type(role) is not str or len(role) > MAX_TEXT or "\x00" in role:
            return None
    return tuple(value)


def _member(mapping: dict[str, Any], key: str) -> Any:
    """``mapping[key]``, an optional object (``{}`` when absent), or ``_BAD``."""
    value = mapping.get(key)
    if value is None:
        return {}
    return value if type(value) is dict else _BAD


def _visible_apps(resource: dict[str, Any]) -> Any:
    """``(app ids or None, total or None)`` of the ``visibleApps`` relationship, or ``_BAD``."""
    relationships = _member(resource, "relationships")
    relation = _BAD if relationships is _BAD else _member(relationships, "visibleApps")
    meta = _BAD if relation is _BAD else _member(relation, "meta")
    paging = _BAD if meta is _BAD else _member(meta, "paging")
    if paging is _BAD:
        return _BAD
    total = paging.get("total")
    if total is not None and type(total) is not int:
        return _BAD
    data = relation.get("data")
    if data is None:
        return None, total
    if type(data) is not list:
        return _BAD
    ids = []
    for item in data:
        linked = _resource(item, "apps")
        if linked is None:
            return _BAD
        ids.append(linked[0])
    return tuple(ids), total


def person_fields(resource: Any, kind: str, address: str) -> Any:
    """``(id, attributes, e-mail, shared fields)`` of a well-formed person, or ``None``."""
    found = _resource(resource, kind)
    if found is None:
        return None
    ident, attrs = found
    visible = _visible_apps(resource)
    email = text(attrs.get(address))
    roles = _roles(attrs.get("roles"))
    values = (
        text(attrs.get("firstName")),
        text(attrs.get("lastName")),
        _flag(attrs.get("allAppsVisible")),
        _flag(attrs.get("provisioningAllowed")),
    )
    if visible is _BAD or email is _BAD or roles is None or _BAD in values:
        return None
    fields = {
        "first_name": values[0],
        "last_name": values[1],
        "roles": roles,
        "all_apps_visible": values[2],
        "provisioning_allowed": values[3],
        "visible_app_ids": visible[0],
        "visible_apps_total": visible[1],
    }
    return ident, attrs, email, fields


def app_fields(resource: Any) -> tuple[str, str, str, str, str] | None:
    """``(id, name, bundle id, SKU, primary locale)`` of a well-formed app, or ``None``."""
    found = _resource(resource, "apps")
    if found is None:
        return None
    ident, attrs = found
    name, bundle_id, sku = (text(attrs.get(k)) for k in ("name", "bundleId", "sku"))
    locale = text(attrs.get("primaryLocale"), LOCALE_MAX)
    if _BAD in (name, bundle_id, sku, locale):
        return None
    return ident, name, bundle_id, sku, locale
