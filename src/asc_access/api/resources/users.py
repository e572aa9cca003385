"""Team members: ``/v1/users`` and their visible apps.

Apple's documentation: https://developer.apple.com/documentation/appstoreconnectapi/users
Users cannot be created here; people join by accepting an invitation. Reading
members and invitations is shared (:mod:`._people`).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Unpack

from asc_access.api.jsonapi import decode_linkage_page, decode_user
from asc_access.api.pagination import paginate
from asc_access.api.payloads import Access, encode_linkages, encode_user_update, id_list
from asc_access.api.query import USER_FIELDS, USER_SORTS, Query
from asc_access.api.resources._base import collect
from asc_access.api.resources._people import PersonKind, PersonResource
from asc_access.errors import UsageError
from asc_access.ids import AppId
from asc_access.models import User

__all__ = ["UsersResource"]

USERS = PersonKind(
    path="/v1/users",
    type="users",
    label="user id",
    address="username",
    filters=("roles", "username", "visibleApps"),
    field_names=USER_FIELDS,
    sorts=USER_SORTS,
    decode=decode_user,
)


class UsersResource(PersonResource[User]):
    """``client.users``: list, read, update and remove team members, and their app access."""

    kind = USERS

    async def update(
        self, user_id: str, *, roles: Iterable[str] | None = None, **access: Unpack[Access]
    ) -> User:
        """``PATCH /v1/users/{id}``: change roles, flags and/or the full visible-apps list.

        Keywords: ``roles``, ``all_apps_visible``, ``provisioning_allowed``,
        ``visible_app_ids`` (not together with ``all_apps_visible=True``). Only the
        arguments given are sent. Replayable (absolute values), so the client may
        repeat it after a lost answer.
        """
        roles_list = None if roles is None else id_list(roles, "roles")
        if roles_list is not None and not roles_list:
            raise UsageError("roles must not be empty: a team member needs at least one role")
        if roles_list is None and all(value is None for value in access.values()):
            raise UsageError("nothing to update: give roles, flags or visible_app_ids")
        body = encode_user_update(str(user_id).strip(), roles=roles_list, **access)
        path = self._path(user_id)
        return await self._single("PATCH", path, decode_user, body=body, replayable=True)

    async def visible_app_ids(self, user_id: str) -> builtins.list[AppId]:
        """``GET /v1/users/{id}/relationships/visibleApps``: the app ids only, all pages."""
        query = Query().limit(200)
        pages = paginate(
            self._transport,
            self._path(user_id, "/relationships/visibleApps"),
            query.params(),
            lambda doc: decode_linkage_page(doc, requested_limit=200),
            key=str,
        )
        return await collect(pages)

    async def _linkages(self, method: str, user_id: str, app_ids: Iterable[str]) -> None:
        ids = id_list(app_ids, "app ids")
        if not ids and method != "PATCH":
            return
        await self._transport.request(
            method,
            self._path(user_id, "/relationships/visibleApps"),
            body=encode_linkages(ids),
            replayable=True,
        )

    async def add_visible_apps(self, user_id: str, app_ids: Iterable[str]) -> None:
        """``POST .../relationships/visibleApps``: the user also sees these (no-op if empty)."""
        await self._linkages("POST", user_id, app_ids)

    async def replace_visible_apps(self, user_id: str, app_ids: Iterable[str]) -> None:
        """``PATCH .../relationships/visibleApps``: the user sees exactly these apps."""
        await self._linkages("PATCH", user_id, app_ids)

    async def remove_visible_apps(self, user_id: str, app_ids: Iterable[str]) -> None:
        """``DELETE .../relationships/visibleApps``: stop showing these apps (no-op if empty)."""
        await self._linkages("DELETE", user_id, app_ids)
