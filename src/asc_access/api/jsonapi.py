"""Decoding Apple's JSON:API documents into models, and Apple's error documents.

Forward compatible: unknown attributes are ignored (logged at debug level),
unknown role strings are kept as they are, resources of other types in
``included[]`` are skipped. What the spec requires and we rely on (``data``,
resource ``type`` and ``id``, value types) is checked, and a violation raises
:class:`~asc_access.errors.UnexpectedResponseError` naming where it is; the
transport adds the request's context. Error documents are decoded leniently
and never raise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypedDict, TypeVar

from asc_access.api.query import INVITATION_FIELDS, USER_FIELDS
from asc_access.api.types import IncludedApps, Page
from asc_access.api.wellformed import LOCALE_MAX, MAX_ID, MAX_TEXT, app_fields, person_fields
from asc_access.errors import AppleError, UnexpectedResponseError
from asc_access.ids import AppId, InvitationId, UserId
from asc_access.models import App, Invitation, User
from asc_access.redaction import redact

__all__ = [
    "associated_errors",
    "decode_app",
    "decode_errors",
    "decode_invitation",
    "decode_json",
    "decode_linkage_page",
    "decode_page",
    "decode_single",
    "decode_user",
    "errors_from_document",
    "parse_timestamp",
]

log = logging.getLogger("asc_access.api")

T = TypeVar("T")

#: The attributes of a person's resource: its ``fields[...]`` less the relationship.
_USER_ATTRIBUTES = USER_FIELDS - {"visibleApps"}
_INVITATION_ATTRIBUTES = INVITATION_FIELDS - {"visibleApps"}
_MAX_ERRORS = 100
#: Control characters stripped from the text of Apple's error documents.
_CONTROL = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def _bad(message: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(message, context={"reason": message})


def decode_json(body: bytes) -> Any:
    """Parse a response body as JSON, or raise ``UnexpectedResponseError``."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise _bad("the response body is not JSON") from exc


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(f"{where} is not an object")
    return value


def _opt_obj(value: Any, where: str) -> dict[str, Any]:
    return {} if value is None else _obj(value, where)


def _str(value: Any, where: str, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(f"{where} is not a string")
    _check_text(value, where, limit)
    return value


def _check_text(value: str, where: str, limit: int) -> None:
    """Refuse text no store can keep as it is (PostgreSQL rejects NUL; columns are bounded)."""
    if "\x00" in value:
        raise _bad(f"{where} contains a NUL character")
    if len(value) > limit:
        raise _bad(f"{where} is {len(value)} characters long (at most {limit} expected)")


def _bool(value: Any, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _bad(f"{where} is not a boolean")
    return value


def _opt_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{where} is not an integer")
    return value


def _roles(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise _bad(f"{where} is not a list of strings")
    for role in value:
        _check_text(role, where, MAX_TEXT)
    return tuple(value)


def parse_timestamp(value: Any, where: str = "timestamp") -> datetime | None:
    """Parse Apple's timestamps leniently into an aware datetime (``None`` stays ``None``).

    Accepts ``2021-04-22T08:02:15.000+0000``, ``...Z``, ``...+00:00``, any number
    of fraction digits, a bare date, and no offset (taken as UTC).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(f"{where} is not a string")
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # trim fractions to microseconds, keeping any offset
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)] or '0'}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _bad(f"{where} is not a date-time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _resource(value: Any, where: str, expected_type: str) -> tuple[str, dict[str, Any]]:
    resource = _obj(value, where)
    kind = resource.get("type")
    if kind != expected_type:
        raise _bad(f"{where}.type is {kind!r}, expected {expected_type!r}")
    ident = resource.get("id")
    if not isinstance(ident, str) or not ident:
        raise _bad(f"{where}.id is missing or not a string")
    _check_text(ident, f"{where}.id", MAX_ID)
    attributes = _opt_obj(resource.get("attributes"), f"{where}.attributes")
    return ident, attributes


def _note_unknown(kind: str, attributes: Mapping[str, Any], known: frozenset[str]) -> None:
    unknown = set(attributes) - known
    if unknown:
        log.debug("ignoring unknown %s attributes: %s", kind, ", ".join(sorted(unknown)))


def _visible_apps(value: Any, where: str) -> tuple[tuple[AppId, ...] | None, int | None]:
    relationships = _opt_obj(value.get("relationships"), f"{where}.relationships")
    relation = _opt_obj(relationships.get("visibleApps"), f"{where}.relationships.visibleApps")
    meta = _opt_obj(relation.get("meta"), f"{where}.relationships.visibleApps.meta")
    paging = _opt_obj(meta.get("paging"), f"{where}.relationships.visibleApps.meta.paging")
    total = _opt_int(paging.get("total"), f"{where}.relationships.visibleApps.meta.paging.total")
    data = relation.get("data")
    if data is None:
        return None, total
    if not isinstance(data, list):
        raise _bad(f"{where}.relationships.visibleApps.data is not a list")
    ids = tuple(
        AppId(_resource(item, f"{where}.relationships.visibleApps.data[{i}]", "apps")[0])
        for i, item in enumerate(data)
    )
    return ids, total


class _PersonFields(TypedDict):
    first_name: str
    last_name: str
    roles: tuple[str, ...]
    all_apps_visible: bool
    provisioning_allowed: bool
    visible_app_ids: tuple[AppId, ...] | None
    visible_apps_total: int | None


def _person(
    value: Any, where: str, kind: str, known: frozenset[str], address: str
) -> tuple[str, Any, str, _PersonFields]:
    """A ``users`` or ``userInvitations`` object: its id, attributes, e-mail and shared fields.

    ``address`` names the e-mail attribute (``username`` or ``email``); attributes are
    checked in the order they always were, so the first bad one is the one reported.
    """
    quick = person_fields(value, kind, address)
    if quick is not None:
        if not known.issuperset(quick[1]):
            _note_unknown(kind, quick[1], known)
        return quick  # type: ignore[no-any-return]
    ident, attrs = _resource(value, where, kind)
    _note_unknown(kind, attrs, known)
    visible, total = _visible_apps(value, where)
    at = f"{where}.attributes"
    email = _str(attrs.get(address), f"{at}.{address}")
    fields = _PersonFields(
        first_name=_str(attrs.get("firstName"), f"{at}.firstName"),
        last_name=_str(attrs.get("lastName"), f"{at}.lastName"),
        roles=_roles(attrs.get("roles"), f"{at}.roles"),
        all_apps_visible=_bool(attrs.get("allAppsVisible"), f"{at}.allAppsVisible"),
        provisioning_allowed=_bool(attrs.get("provisioningAllowed"), f"{at}.provisioningAllowed"),
        visible_app_ids=visible,
        visible_apps_total=total,
    )
    return ident, attrs, email, fields


def decode_user(value: Any, where: str = "data") -> User:
    """A ``users`` resource object as a :class:`~asc_access.models.User`."""
    ident, _, username, fields = _person(value, where, "users", _USER_ATTRIBUTES, "username")
    return User(id=UserId(ident), username=username, **fields)


def decode_invitation(value: Any, where: str = "data") -> Invitation:
    """A ``userInvitations`` resource object as an :class:`~asc_access.models.Invitation`."""
    kind, known = "userInvitations", _INVITATION_ATTRIBUTES
    ident, attrs, email, fields = _person(value, where, kind, known, "email")
    expires = parse_timestamp(attrs.get("expirationDate"), f"{where}.attributes.expirationDate")
    return Invitation(id=InvitationId(ident), email=email, expiration_date=expires, **fields)


def decode_app(value: Any, where: str = "data") -> App:
    """An ``apps`` resource object as an :class:`~asc_access.models.App`.

    Only name, bundle id, SKU and primary locale are kept; other attributes are ignored.
    """
    quick = app_fields(value)
    if quick is not None:
        return App(AppId(quick[0]), *quick[1:])
    ident, attrs = _resource(value, where, "apps")
    at = f"{where}.attributes"
    return App(
        id=AppId(ident),
        name=_str(attrs.get("name"), f"{at}.name"),
        bundle_id=_str(attrs.get("bundleId"), f"{at}.bundleId"),
        sku=_str(attrs.get("sku"), f"{at}.sku"),
        primary_locale=_str(attrs.get("primaryLocale"), f"{at}.primaryLocale", LOCALE_MAX),
    )


def _included(value: Any) -> list[dict[str, Any]]:
    """``included[]``: a list of objects (checked now; its apps are decoded on first use)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad("included is not a list")
    for i, item in enumerate(value):
        if type(item) is not dict:
            _obj(item, f"included[{i}]")
    return value


def _included_apps(value: list[dict[str, Any]]) -> dict[AppId, App]:
    apps: dict[AppId, App] = {}
    for i, item in enumerate(value):
        if item.get("type") == "apps":
            app = decode_app(item, f"included[{i}]")
            apps[app.id] = app
    return apps


def decode_single(document: Any, decode: Callable[[Any, str], T]) -> T:
    """The resource of a single-resource document (``{"data": {...}}``)."""
    doc = _obj(document, "the document")
    if "data" not in doc:
        raise _bad("the document has no data")
    return decode(doc["data"], "data")


def decode_page(
    document: Any, decode: Callable[[Any, str], T], *, requested_limit: int = 0
) -> Page[T]:
    """A collection document as a :class:`Page` (items, included apps, paging, next link)."""
    doc = _obj(document, "the document")
    data = doc.get("data")
    if not isinstance(data, list):
        raise _bad("the document's data is not a list")
    items = [decode(item, f"data[{i}]") for i, item in enumerate(data)]
    included = _included(doc.get("included"))
    links = _opt_obj(doc.get("links"), "links")
    next_url = links.get("next")
    if next_url is not None and (not isinstance(next_url, str) or not next_url):
        raise _bad("links.next is not a string")
    meta = _opt_obj(doc.get("meta"), "meta")
    paging = _opt_obj(meta.get("paging"), "meta.paging")
    limit = _opt_int(paging.get("limit"), "meta.paging.limit")
    return Page(
        items=items,
        included_apps=IncludedApps(partial(_included_apps, included)) if included else {},
        total=_opt_int(paging.get("total"), "meta.paging.total"),
        limit=limit if limit is not None else requested_limit,
        next_url=next_url,
    )


def decode_linkage_page(document: Any, *, requested_limit: int = 0) -> Page[AppId]:
    """A ``relationships/visibleApps`` linkage document as a page of app ids."""
    return decode_page(
        document,
        lambda item, where: AppId(_resource(item, where, "apps")[0]),
        requested_limit=requested_limit,
    )


# -- error documents ------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.translate(_CONTROL)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _scrubbed(value: Any) -> Any:
    """Upstream JSON with every string redacted (an error's meta may echo a header too)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return _scrubbed(value) if isinstance(value, dict) and value else None


def _apple_error(value: Any) -> AppleError | None:
    if not isinstance(value, dict):
        return None
    ident = value.get("id")
    return AppleError(
        status=_text(value.get("status")),
        code=_text(value.get("code")),
        title=redact(_text(value.get("title"))),
        detail=redact(_text(value.get("detail"))),
        id=ident if isinstance(ident, str) else None,
        source=_dict_or_none(value.get("source")),
        meta=_dict_or_none(value.get("meta")),
        links=_dict_or_none(value.get("links")),
    )


def errors_from_document(document: Any) -> tuple[AppleError, ...]:
    """The ``errors[]`` of an already parsed error document (``()`` when there is none)."""
    if not isinstance(document, dict):
        return ()
    entries = document.get("errors")
    if not isinstance(entries, list):
        return ()
    found = (_apple_error(entry) for entry in entries[:_MAX_ERRORS])
    return tuple(error for error in found if error is not None)


def decode_errors(body: bytes) -> tuple[AppleError, ...]:
    """Apple's error document in a response body; ``()`` when the body is not one. Never raises."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return ()
    return errors_from_document(document)


def associated_errors(error: AppleError) -> tuple[AppleError, ...]:
    """The errors nested in ``meta.associatedErrors`` (a map of arrays), flattened."""
    nested = (error.meta or {}).get("associatedErrors")
    if not isinstance(nested, dict):
        return ()
    out: list[AppleError] = []
    for entries in nested.values():
        out.extend(errors_from_document({"errors": entries}))
    return tuple(out)
