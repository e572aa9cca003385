"""Request documents for Apple's write endpoints (the only JSON the client sends).

Their values are checked here (``UsageError``), before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict, Unpack

from asc_access.errors import UsageError

__all__ = [
    "Access",
    "NewInvitation",
    "encode_invitation_create",
    "encode_linkages",
    "encode_user_update",
    "id_list",
]


class Access(TypedDict, total=False):
    """What a member's update or a new invitation may set besides roles (``None``: not sent)."""

    all_apps_visible: bool | None
    provisioning_allowed: bool | None
    visible_app_ids: Iterable[str] | None


class NewInvitation(Access):
    """The keywords of ``client.invitations.create`` (:func:`encode_invitation_create`)."""

    email: str
    first_name: str
    last_name: str
    roles: Iterable[str]


def id_list(values: Iterable[str], what: str) -> list[str]:
    """Ids as a list of non-empty strings (``UsageError`` otherwise)."""
    if isinstance(values, str):
        raise UsageError(f"{what} must be a list of ids, not one string")
    items = [str(v).strip() for v in values]
    if any(not item for item in items):
        raise UsageError(f"{what} must not contain empty ids")
    return items


def _linkages(app_ids: Iterable[str]) -> list[dict[str, str]]:
    return [{"type": "apps", "id": str(app_id)} for app_id in app_ids]


def encode_linkages(app_ids: Iterable[str]) -> dict[str, Any]:
    """``UserVisibleAppsLinkagesRequest``: ``{"data": [{"type": "apps", "id": ...}]}``."""
    return {"data": _linkages(app_ids)}


def _document(
    data: dict[str, Any],
    attributes: dict[str, Any],
    *,
    all_apps_visible: bool | None = None,
    provisioning_allowed: bool | None = None,
    visible_app_ids: Iterable[str] | None = None,
) -> dict[str, Any]:
    """A member's or invitation's request: the access flags given, then the apps."""
    apps = None if visible_app_ids is None else id_list(visible_app_ids, "visible_app_ids")
    if all_apps_visible and apps:
        raise UsageError("visible_app_ids cannot be set together with all_apps_visible=True")
    if all_apps_visible is not None:
        attributes["allAppsVisible"] = all_apps_visible
    if provisioning_allowed is not None:
        attributes["provisioningAllowed"] = provisioning_allowed
    if attributes:
        data["attributes"] = attributes
    if apps is not None:
        data["relationships"] = {"visibleApps": {"data": _linkages(apps)}}
    return {"data": data}


def encode_user_update(
    user_id: str, *, roles: Iterable[str] | None = None, **access: Unpack[Access]
) -> dict[str, Any]:
    """``UserUpdateRequest``: only the given fields are sent (``None`` = leave unchanged)."""
    attributes: dict[str, Any] = {}
    if roles is not None:
        attributes["roles"] = [str(role) for role in roles]
    return _document({"type": "users", "id": user_id}, attributes, **access)


def encode_invitation_create(
    *, email: str, first_name: str, last_name: str, roles: Iterable[str], **access: Unpack[Access]
) -> dict[str, Any]:
    """``UserInvitationCreateRequest`` (optional flags left out when ``None``)."""
    if not email.strip() or "@" not in email:
        raise UsageError(f"{email!r} is not an e-mail address")
    if not first_name.strip() or not last_name.strip():
        raise UsageError("an invitation needs a first and a last name")
    role_list = id_list(roles, "roles")
    if not role_list:
        raise UsageError("an invitation needs at least one role")
    attributes: dict[str, Any] = {
        "email": email.strip(),
        "firstName": first_name.strip(),
        "lastName": last_name.strip(),
        "roles": role_list,
    }
    return _document({"type": "userInvitations"}, attributes, **access)
