"""Team members: ``/v1/users`` and their visible apps.

Apple's documentation: https://developer.apple.com/documentation/appstoreconnectapi/users
Users cannot be created here; people join by accepting an invitation.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable

from asc_access.api.jsonapi import (
    decode_app,
    decode_linkage_page,
    decode_page,
    decode_single,
    decode_user,
)
from asc_access.api.pagination import paginate
from asc_access.api.payloads import encode_linkages, encode_user_update
from asc_access.api.query import APP_LIST_FIELDS, USER_FIELDS, USER_SORTS, Query, Values
from asc_access.api.resources._base import (
    Resource,
    collect,
    id_list,
    path_id,
    visible_apps_query,
)
from asc_access.api.types import Page
from asc_access.errors import UsageError
from asc_access.ids import AppId
from asc_access.models import App, User

__all__ = ["UsersResource"]


class UsersResource(Resource):
    """``client.users``: list, read, update and remove team members, and their app access."""

    def pages(
        self,
        *,
        roles: Values = None,
        username: Values = None,
        visible_app_ids: Values = None,
        sort: Values = None,
        fields: Values = None,
        include_visible_apps: bool = False,
        limit: int = 200,
        visible_apps_limit: int = 50,
    ) -> AsyncIterator[Page[User]]:
        """``GET /v1/users``, page by page (arguments are checked before any request).

        Filters: ``roles`` (any of), ``username`` (the sign-in e-mail), ``visible_app_ids``
        (people who see any of these apps). ``fields`` are ``fields[users]`` (``visibleApps``
        is added when apps are included). With ``include_visible_apps`` each user carries up
        to ``visible_apps_limit`` app ids; check ``User.visible_apps_capped``, and the page's
        ``included_apps`` holds those apps' names and bundle ids.
        """
        query = (
            Query()
            .filter("roles", roles)
            .filter("username", username)
            .filter("visibleApps", visible_app_ids)
            .sort(sort, USER_SORTS)
        )
        if fields is not None:
            wanted = [fields] if isinstance(fields, str) else builtins.list(fields)
            if include_visible_apps and "visibleApps" not in wanted:
                wanted.append("visibleApps")
            query.fields("users", wanted, USER_FIELDS)
        visible_apps_query(query, include=include_visible_apps, limit=visible_apps_limit)
        query.limit(limit)
        return paginate(
            self._transport,
            "/v1/users",
            query.params(),
            lambda doc: decode_page(doc, decode_user, requested_limit=limit),
            key=lambda user: user.id,
        )

    async def get(
        self, user_id: str, *, include_visible_apps: bool = False, visible_apps_limit: int = 50
    ) -> User:
        """``GET /v1/users/{id}`` (``ResourceNotFoundError`` when the id is not on the team)."""
        query = visible_apps_query(Query(), include=include_visible_apps, limit=visible_apps_limit)
        response = await self._transport.request(
            "GET", f"/v1/users/{path_id(user_id, 'user id')}", params=query.params()
        )
        return response.decode(lambda doc: decode_single(doc, decode_user))

    async def update(
        self,
        user_id: str,
        *,
        roles: Iterable[str] | None = None,
        all_apps_visible: bool | None = None,
        provisioning_allowed: bool | None = None,
        visible_app_ids: Iterable[str] | None = None,
    ) -> User:
        """``PATCH /v1/users/{id}``: change roles, flags and/or the full visible-apps list.

        Only the arguments given are sent. Replayable (absolute values), so the
        client may repeat it after a lost answer.
        """
        roles_list = None if roles is None else id_list(roles, "roles")
        if roles_list is not None and not roles_list:
            raise UsageError("roles must not be empty: a team member needs at least one role")
        apps = None if visible_app_ids is None else id_list(visible_app_ids, "visible_app_ids")
        if all_apps_visible and apps:
            raise UsageError("visible_app_ids cannot be set together with all_apps_visible=True")
        given = (roles_list, all_apps_visible, provisioning_allowed, apps)
        if all(value is None for value in given):
            raise UsageError("nothing to update: give roles, flags or visible_app_ids")
        ident = path_id(user_id, "user id")
        body = encode_user_update(
            str(user_id).strip(),
            roles=roles_list,
            all_apps_visible=all_apps_visible,
            provisioning_allowed=provisioning_allowed,
            visible_app_ids=apps,
        )
        response = await self._transport.request(
            "PATCH", f"/v1/users/{ident}", body=body, replayable=True
        )
        return response.decode(lambda doc: decode_single(doc, decode_user))

    async def delete(self, user_id: str) -> None:
        """``DELETE /v1/users/{id}``: remove the person from the team.

        Repeated after a lost answer; a 404 on the repetition is raised with
        ``context["after_retry"] = True`` (the first attempt probably worked).
        """
        await self._transport.request(
            "DELETE", f"/v1/users/{path_id(user_id, 'user id')}", replayable=True
        )

    def visible_apps_pages(self, user_id: str, *, limit: int = 200) -> AsyncIterator[Page[App]]:
        """``GET /v1/users/{id}/visibleApps`` page by page (name, bundle id, SKU, locale)."""
        query = Query().fields("apps", APP_LIST_FIELDS).limit(limit)
        return paginate(
            self._transport,
            f"/v1/users/{path_id(user_id, 'user id')}/visibleApps",
            query.params(),
            lambda doc: decode_page(doc, decode_app, requested_limit=limit),
            key=lambda app: app.id,
        )

    async def visible_apps(self, user_id: str) -> builtins.list[App]:
        """Every app the user can see (all pages; empty when the user sees all apps)."""
        return await collect(self.visible_apps_pages(user_id))

    async def visible_app_ids(self, user_id: str) -> builtins.list[AppId]:
        """``GET /v1/users/{id}/relationships/visibleApps``: the app ids only, all pages."""
        query = Query().limit(200)
        pages = paginate(
            self._transport,
            f"/v1/users/{path_id(user_id, 'user id')}/relationships/visibleApps",
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
            f"/v1/users/{path_id(user_id, 'user id')}/relationships/visibleApps",
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

    async def list(
        self,
        *,
        roles: Values = None,
        username: Values = None,
        visible_app_ids: Values = None,
        sort: Values = None,
        fields: Values = None,
        include_visible_apps: bool = False,
        limit: int = 200,
        visible_apps_limit: int = 50,
    ) -> builtins.list[User]:
        """Every user across all pages (same arguments as :meth:`pages`)."""
        return await collect(
            self.pages(
                roles=roles,
                username=username,
                visible_app_ids=visible_app_ids,
                sort=sort,
                fields=fields,
                include_visible_apps=include_visible_apps,
                limit=limit,
                visible_apps_limit=visible_apps_limit,
            )
        )
