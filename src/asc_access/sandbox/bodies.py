"""Request bodies: JSON checks (400 / 415 / 422) and JSON:API document shapes."""

from __future__ import annotations

import json
from typing import Any

from asc_access.sandbox import problems

__all__ = ["invitation_create", "linkage_ids", "read_json", "user_update"]


def read_json(content_type: str | None, body: bytes) -> Any:
    """Parse a JSON body; 415 for another media type, 400 ENTITY_INVALID for bad JSON."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise problems.unsupported_media_type(content_type or "(none)")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise problems.entity_invalid("The request entity is not valid JSON.") from None


def _unprocessable(where: str, pointer: str) -> problems.ApiProblem:
    return problems.entity_unprocessable(f"Unexpected or invalid value at '{where}'.", pointer)


def _data_object(document: Any, expected_type: str) -> dict[str, Any]:
    if not isinstance(document, dict) or "data" not in document:
        raise _unprocessable("data", "/data")
    extra = set(document) - {"data", "included"}
    if extra:
        raise _unprocessable(min(extra), f"/{min(extra)}")
    data = document["data"]
    if not isinstance(data, dict):
        raise _unprocessable("data", "/data")
    if data.get("type") != expected_type:
        raise _unprocessable("type", "/data/type")
    unknown = set(data) - {"type", "id", "attributes", "relationships"}
    if unknown:
        name = min(unknown)
        raise _unprocessable(name, f"/data/{name}")
    return data


def _attributes(
    data: dict[str, Any], types: dict[str, type], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    attributes = data.get("attributes", {})
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise _unprocessable("attributes", "/data/attributes")
    for name, value in attributes.items():
        pointer = f"/data/attributes/{name}"
        if name not in types:
            raise problems.entity_error(
                "ENTITY_ERROR.ATTRIBUTE.UNKNOWN",
                f"'{name}' is not an attribute that can be set on this resource.",
                pointer,
            )
        if value is None:
            continue
        wanted = types[name]
        if wanted is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _unprocessable(name, pointer)
        elif wanted is bool:
            if not isinstance(value, bool):
                raise _unprocessable(name, pointer)
        elif not isinstance(value, wanted):
            raise _unprocessable(name, pointer)
    for name in required:
        if attributes.get(name) is None:
            raise problems.entity_error(
                "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
                f"You must provide a value for the attribute '{name}' with this request",
                f"/data/attributes/{name}",
            )
    return {k: v for k, v in attributes.items() if v is not None}


def _linkage_list(value: Any, pointer: str) -> list[str]:
    if not isinstance(value, list):
        raise _unprocessable("data", pointer)
    ids: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or item.get("type") != "apps":
            raise _unprocessable("type", f"{pointer}/{index}/type")
        if not isinstance(item.get("id"), str) or not item["id"]:
            raise _unprocessable("id", f"{pointer}/{index}/id")
        ids.append(item["id"])
    return ids


def _visible_apps(data: dict[str, Any]) -> list[str] | None:
    relationships = data.get("relationships")
    if relationships is None:
        return None
    if not isinstance(relationships, dict):
        raise _unprocessable("relationships", "/data/relationships")
    for name in relationships:
        if name != "visibleApps":
            raise problems.entity_error(
                "ENTITY_ERROR.RELATIONSHIP.UNKNOWN",
                f"'{name}' is not a relationship that can be set on this resource.",
                f"/data/relationships/{name}",
            )
    visible = relationships.get("visibleApps")
    if visible is None:
        return None
    if not isinstance(visible, dict) or "data" not in visible:
        raise _unprocessable("visibleApps", "/data/relationships/visibleApps")
    return _linkage_list(visible["data"], "/data/relationships/visibleApps/data")


def user_update(document: Any, user_id: str) -> dict[str, Any]:
    """A UserUpdateRequest as keyword arguments for :meth:`World.update_user`."""
    data = _data_object(document, "users")
    if not isinstance(data.get("id"), str):
        raise _unprocessable("id", "/data/id")
    if data["id"] != user_id:
        raise problems.entity_error(
            "ENTITY_ERROR.ATTRIBUTE.INVALID",
            f"The id '{data['id']}' in the request does not match the id in the URL.",
            "/data/id",
        )
    attributes = _attributes(
        data, {"roles": list, "allAppsVisible": bool, "provisioningAllowed": bool}
    )
    return {
        "roles": attributes.get("roles"),
        "all_apps_visible": attributes.get("allAppsVisible"),
        "provisioning_allowed": attributes.get("provisioningAllowed"),
        "visible_app_ids": _visible_apps(data),
    }


def invitation_create(document: Any) -> dict[str, Any]:
    """A UserInvitationCreateRequest as keyword arguments for ``create_invitation``."""
    data = _data_object(document, "userInvitations")
    if "id" in data:
        raise _unprocessable("id", "/data/id")
    if not isinstance(data.get("attributes"), dict):
        raise _unprocessable("attributes", "/data/attributes")
    attributes = _attributes(
        data,
        {
            "email": str,
            "firstName": str,
            "lastName": str,
            "roles": list,
            "allAppsVisible": bool,
            "provisioningAllowed": bool,
        },
        required=("email", "firstName", "lastName", "roles"),
    )
    return {
        "email": attributes["email"],
        "first_name": attributes["firstName"],
        "last_name": attributes["lastName"],
        "roles": attributes["roles"],
        "all_apps_visible": attributes.get("allAppsVisible"),
        "provisioning_allowed": attributes.get("provisioningAllowed"),
        "visible_app_ids": _visible_apps(data),
    }


def linkage_ids(document: Any) -> list[str]:
    """The app ids of a UserVisibleAppsLinkagesRequest."""
    if not isinstance(document, dict) or "data" not in document:
        raise _unprocessable("data", "/data")
    return _linkage_list(document["data"], "/data")
