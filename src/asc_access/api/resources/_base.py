"""What the resource managers share: the transport, path ids, reading pages and resources."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from operator import attrgetter
from typing import Any, TypeVar
from urllib.parse import quote

from asc_access.api.jsonapi import decode_page, decode_single
from asc_access.api.pagination import paginate
from asc_access.api.query import APP_LIST_FIELDS, MAX_INCLUDED_LIMIT, Query
from asc_access.api.transport import Transport
from asc_access.api.types import Page
from asc_access.errors import UsageError

__all__ = ["Resource", "collect", "path_id", "visible_apps_query"]

T = TypeVar("T")

#: An item's key for the paginator's de-duplication: its Apple id.
_by_id: Callable[[Any], str] = attrgetter("id")


class Resource:
    """A resource manager bound to one transport."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _paginate(
        self, path: str, query: Query, decode: Callable[[Any, str], T], *, limit: int
    ) -> AsyncIterator[Page[T]]:
        """``GET path`` page by page, each resource read by ``decode`` and keyed by its id."""
        return paginate(
            self._transport,
            path,
            query.params(),
            lambda doc: decode_page(doc, decode, requested_limit=limit),
            key=_by_id,
        )

    async def _single(
        self,
        method: str,
        path: str,
        decode: Callable[[Any, str], T],
        *,
        params: Sequence[tuple[str, str]] | None = None,
        body: Any = None,
        replayable: bool | None = None,
    ) -> T:
        """Send one request whose answer is one resource, read by ``decode``."""
        response = await self._transport.request(
            method, path, params=params, body=body, replayable=replayable
        )
        return response.decode(lambda doc: decode_single(doc, decode))


def path_id(value: str, what: str) -> str:
    """An id made safe to put in a URL path (``UsageError`` when empty)."""
    text = str(value).strip()
    if not text:
        raise UsageError(f"{what} must not be empty")
    return quote(text, safe="")


def visible_apps_query(query: Query, *, include: bool, limit: int) -> Query:
    """Add ``include=visibleApps`` with its limit and small app fields (limit always checked)."""
    Query().limit(limit, name="limit[visibleApps]", maximum=MAX_INCLUDED_LIMIT)
    if include:
        query.include("visibleApps").fields("apps", APP_LIST_FIELDS)
        query.limit(limit, name="limit[visibleApps]", maximum=MAX_INCLUDED_LIMIT)
    return query


async def collect(pages: AsyncIterator[Page[T]]) -> list[T]:
    """Every item of every page, in order."""
    out: list[T] = []
    async for page in pages:
        out.extend(page.items)
    return out
