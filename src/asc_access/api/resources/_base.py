"""What the resource managers share: the transport, path ids, collecting pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import TypeVar
from urllib.parse import quote

from asc_access.api.query import APP_LIST_FIELDS, MAX_INCLUDED_LIMIT, Query
from asc_access.api.transport import Transport
from asc_access.api.types import Page
from asc_access.errors import UsageError

__all__ = ["Resource", "collect", "id_list", "path_id", "visible_apps_query"]

T = TypeVar("T")


class Resource:
    """A resource manager bound to one transport."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport


def path_id(value: str, what: str) -> str:
    """An id made safe to put in a URL path (``UsageError`` when empty)."""
    text = str(value).strip()
    if not text:
        raise UsageError(f"{what} must not be empty")
    return quote(text, safe="")


def id_list(values: Iterable[str], what: str) -> list[str]:
    """Ids as a list of non-empty strings (``UsageError`` otherwise)."""
    if isinstance(values, str):
        raise UsageError(f"{what} must be a list of ids, not one string")
    items = [str(v).strip() for v in values]
    if any(not item for item in items):
        raise UsageError(f"{what} must not contain empty ids")
    return items


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
