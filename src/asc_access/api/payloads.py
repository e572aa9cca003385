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


def _document(
    data: dict[str, Any],
    attributes: dict[str, Any],
    *,
    all_apps_visible: bool | None,
    provisioning_allowed: bool | None,
    visible_app_ids: Iterable[str] | None,
) -> dict[str, Any]:
    """A member's or invitation's request: the access flags given, then the apps."""
    if all_apps_visible is not None:
        attributes["allAppsVisible"] = all_apps_visible
    if provisioning_allowed is not None:
        attributes["provisioningAllowed"] = provisioning_allowed
    if attributes:
        data["attributes"] = attributes
    if visible_app_ids is not None:
        data["relationships"] = {"visibleApps": {"data": _linkages(visible_app_ids)}}
    return {"data": data}


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
    return _document(
        {"type": "users", "id": user_id},
        attributes,
        all_apps_visible=all_apps_visible,
        provisioning_allowed=provisioning_allowed,
        visible_app_ids=visible_app_ids,
    )


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
    return _document(
        {"type": "userInvitations"},
        attributes,
        all_apps_visible=all_apps_visible,
        provisioning_allowed=provisioning_allowed,
        visible_app_ids=visible_app_ids,
    )
