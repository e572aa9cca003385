"""Request documents for Apple's write endpoints (the only JSON the client sends)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["encode_invitation_create", "encode_linkages", "encode_user_update"]


def _linkages(app_ids: Iterable[str]) -> list[dict[str, str]]:
    return [{"type": "apps", "id": str(app_id)} for app_id in app_ids]


def encode_linkages(app_ids: Iterable[str]) -> dict[str, Any]:
    """``UserVisibleAppsLinkagesRequest``: ``{"data": [{"type": "apps", "id": ...}]}``."""
    return {"data": _linkages(app_ids)}


def encode_user_update(
    user_id: str,
    *,
    roles: Iterable[str] | None = None,
    all_apps_visible: bool | None = None,
    provisioning_allowed: bool | None = None,
    visible_app_ids: Iterable[str] | None = None,
) -> dict[str, Any]:
    """``UserUpdateRequest``: only the given fields are sent (``None`` = leave unchanged)."""
    attributes: dict[str, Any] = {}
    if roles is not None:
        attributes["roles"] = [str(role) for role in roles]
    if all_apps_visible is not None:
        attributes["allAppsVisible"] = all_apps_visible
    if provisioning_allowed is not None:
        attributes["provisioningAllowed"] = provisioning_allowed
    data: dict[str, Any] = {"type": "users", "id": user_id}
    if attributes:
        data["attributes"] = attributes
    if visible_app_ids is not None:
        data["relationships"] = {"visibleApps": {"data": _linkages(visible_app_ids)}}
    return {"data": data}


def encode_invitation_create(
    *,
    email: str,
    first_name: str,
    last_name: str,
    roles: Iterable[str],
    all_apps_visible: bool | None = None,
    provisioning_allowed: bool | None = None,
    visible_app_ids: Iterable[str] | None = None,
) -> dict[str, Any]:
    """``UserInvitationCreateRequest`` (optional flags left out when ``None``)."""
    attributes: dict[str, Any] = {
        "email": email,
        "firstName": first_name,
        "lastName": last_name,
        "roles": [str(role) for role in roles],
    }
    if all_apps_visible is not None:
        attributes["allAppsVisible"] = all_apps_visible
    if provisioning_allowed is not None:
        attributes["provisioningAllowed"] = provisioning_allowed
    data: dict[str, Any] = {"type": "userInvitations", "attributes": attributes}
    if visible_app_ids is not None:
        data["relationships"] = {"visibleApps": {"data": _linkages(visible_app_ids)}}
    return {"data": data}
