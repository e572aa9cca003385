"""What ``/v1/users`` and ``/v1/userInvitations`` share: one person resource, parameterised.

Members and invitations are read the same way (filters, sort, sparse fields, the
included visible apps and their cap), fetched and deleted by id, and list their
visible apps page by page. :class:`PersonKind` is the data that differs: the
path, the resource type, the filters in the order they are sent, the allowed
fields and sorts, and the decoder. Reading one by id, deleting and the visible
apps are the same methods for both.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypedDict, TypeVar, Unpack

from asc_access.api.jsonapi import decode_app
from asc_access.api.query import APP_LIST_FIELDS, Query, Values
from asc_access.api.resources._base import Resource, collect, path_id, visible_apps_query
from asc_access.api.types import Page
from asc_access.models import App, Invitation, User

__all__ = ["ListOptions", "PersonKind", "PersonResource"]

P = TypeVar("P", User, Invitation)


class ListOptions(TypedDict, total=False):
    """The keywords of :meth:`PersonResource.pages`, for :meth:`PersonResource.list`."""

    roles: Values
    username: Values  #: members only
    email: Values  #: invitations only
    visible_app_ids: Values
    sort: Values
    fields: Values
    include_visible_apps: bool
    limit: int
    visible_apps_limit: int


@dataclass(frozen=True, slots=True)
class PersonKind(Generic[P]):
    """What differs between members and invitations."""

    path: str  #: ``/v1/users``
    type: str  #: ``users``: the ``fields[...]`` and resource type
    label: str  #: ``user id``: how a bad id is named
    address: str  #: ``username``: the keyword (and filter) of the e-mail address
    filters: tuple[str, ...]  #: ``filter[...]`` names, in the order they are sent
    field_names: frozenset[str]
    sorts: frozenset[str]
    decode: Callable[[Any, str], P]


class PersonResource(Resource, Generic[P]):
    """Members or invitations, as :attr:`kind` says."""

    kind: PersonKind[P]

    def pages(
        self,
        *,
        roles: Values = None,
        visible_app_ids: Values = None,
        sort: Values = None,
        fields: Values = None,
        include_visible_apps: bool = False,
        limit: int = 200,
        visible_apps_limit: int = 50,
        **address: Values,
    ) -> AsyncIterator[Page[P]]:
        """``GET /v1/users`` or ``/v1/userInvitations``, page by page (arguments are checked
        before any request).

        Filters: ``roles`` (any of), the e-mail (``username=`` for members, ``email=`` for
        invitations), ``visible_app_ids`` (people who see any of these apps). ``fields`` are
        ``fields[users]`` / ``fields[userInvitations]`` (``visibleApps`` is added when apps
        are included). With ``include_visible_apps`` each person carries up to
        ``visible_apps_limit`` app ids; check ``visible_apps_capped``, and the page's
        ``included_apps`` holds those apps' names and bundle ids.
        """
        kind = self.kind
        unknown = set(address) - {kind.address}
        if unknown:
            name = f"{type(self).__name__}.pages()"
            raise TypeError(f"{name} got an unexpected keyword argument {min(unknown)!r}")
        values = {
            kind.address: address.get(kind.address),
            "roles": roles,
            "visibleApps": visible_app_ids,
        }
        query = Query()
        for filter_name in kind.filters:
            query.filter(filter_name, values[filter_name])
        query.sort(sort, kind.sorts)
        if fields is not None:
            wanted = [fields] if isinstance(fields, str) else builtins.list(fields)
            if include_visible_apps and "visibleApps" not in wanted:
                wanted.append("visibleApps")
            query.fields(kind.type, wanted, kind.field_names)
        visible_apps_query(query, include=include_visible_apps, limit=visible_apps_limit)
        return self._paginate(kind.path, query.limit(limit), kind.decode, limit=limit)

    async def list(self, **options: Unpack[ListOptions]) -> builtins.list[P]:
        """Every member or invitation across all pages (same arguments as :meth:`pages`)."""
        return await collect(self.pages(**options))

    def _path(self, ident: str, suffix: str = "") -> str:
        return f"{self.kind.path}/{path_id(ident, self.kind.label)}{suffix}"

    async def get(
        self, ident: str, *, include_visible_apps: bool = False, visible_apps_limit: int = 50
    ) -> P:
        """``GET /v1/users/{id}`` or ``/v1/userInvitations/{id}``.

        ``ResourceNotFoundError`` when the id is not on the team; for an invitation
        404 or 410: cancelled, expired away or accepted.
        """
        query = visible_apps_query(Query(), include=include_visible_apps, limit=visible_apps_limit)
        return await self._single("GET", self._path(ident), self.kind.decode, params=query.params())

    async def delete(self, ident: str) -> None:
        """``DELETE /v1/users/{id}`` (remove the member) or ``/v1/userInvitations/{id}``
        (cancel the invitation).

        Repeated after a lost answer; a 404 on the repetition is raised with
        ``context["after_retry"] = True`` (the first attempt probably worked).
        """
        await self._transport.request("DELETE", self._path(ident), replayable=True)

    def visible_apps_pages(self, ident: str, *, limit: int = 200) -> AsyncIterator[Page[App]]:
        """``GET .../{id}/visibleApps`` page by page (name, bundle id, SKU, locale)."""
        query = Query().fields("apps", APP_LIST_FIELDS).limit(limit)
        return self._paginate(self._path(ident, "/visibleApps"), query, decode_app, limit=limit)

    async def visible_apps(self, ident: str) -> builtins.list[App]:
        """Every app the person sees or is granted (all pages; empty when all apps are visible)."""
        return await collect(self.visible_apps_pages(ident, limit=200))
