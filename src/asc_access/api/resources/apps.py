"""Apps on the team: ``/v1/apps`` (read only here).

Apple's documentation: https://developer.apple.com/documentation/appstoreconnectapi/apps
Only ``name``, ``bundleId``, ``sku`` and ``primaryLocale`` are asked for by
default (``fields[apps]``), which keeps pages small.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from typing import TypedDict, Unpack

from asc_access.api.jsonapi import decode_app
from asc_access.api.query import APP_LIST_FIELDS, APP_SORTS, Query, Values
from asc_access.api.resources._base import Resource, collect, path_id
from asc_access.api.types import Page
from asc_access.models import App

__all__ = ["AppListOptions", "AppsResource"]


class AppListOptions(TypedDict, total=False):
    """The keywords of :meth:`AppsResource.pages`, for :meth:`AppsResource.list`."""

    ids: Values
    bundle_ids: Values
    names: Values
    sort: Values
    fields: Values
    limit: int


class AppsResource(Resource):
    """``client.apps``: list and read apps."""

    def pages(
        self,
        *,
        ids: Values = None,
        bundle_ids: Values = None,
        names: Values = None,
        sort: Values = None,
        fields: Values = APP_LIST_FIELDS,
        limit: int = 200,
    ) -> AsyncIterator[Page[App]]:
        """``GET /v1/apps``, page by page.

        Filters: ``ids`` (``filter[id]``), ``bundle_ids`` (``filter[bundleId]``), ``names``
        (``filter[name]``). ``fields`` are ``fields[apps]``.
        """
        query = (
            Query()
            .filter("id", ids)
            .filter("bundleId", bundle_ids)
            .filter("name", names)
            .sort(sort, APP_SORTS)
            .fields("apps", fields)
            .limit(limit)
        )
        return self._paginate("/v1/apps", query, decode_app, limit=limit)

    async def list(self, **options: Unpack[AppListOptions]) -> builtins.list[App]:
        """Every app across all pages (same arguments as :meth:`pages`)."""
        return await collect(self.pages(**options))

    async def get(self, app_id: str, *, fields: Values = APP_LIST_FIELDS) -> App:
        """``GET /v1/apps/{id}`` (``ResourceNotFoundError`` when the id is unknown)."""
        query = Query().fields("apps", fields)
        path = f"/v1/apps/{path_id(app_id, 'app id')}"
        return await self._single("GET", path, decode_app, params=query.params())
