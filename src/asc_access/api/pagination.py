"""Following ``links.next`` through a collection, safely.

Apple pages with an opaque cursor: each page's document-level ``links.next``
is the absolute URL of the next one (the original ``limit`` included), absent
on the last page. The paginator follows it as given (adding nothing), refuses
a link that repeats (a loop) or leaves the API's origin (credentials stay
home), drops items already seen on an earlier page (cursor drift while the
team changes), and gives up when several pages in a row bring nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from asc_access.api.response import ApiResponse
from asc_access.api.transport import Transport
from asc_access.api.types import Page
from asc_access.errors import UnexpectedResponseError

__all__ = ["MAX_STALLED_PAGES", "paginate"]

log = logging.getLogger("asc_access.api")

T = TypeVar("T")

#: Consecutive pages with a next link but no new item before the paginator gives up.
MAX_STALLED_PAGES = 3

#: Event-loop turns the next page's request needs to leave (token, budget, httpx's send).
READ_AHEAD_TURNS = 8


async def paginate(
    transport: Transport,
    path: str,
    params: Sequence[tuple[str, str]],
    decode: Callable[[Any], Page[T]],
    *,
    key: Callable[[T], str],
) -> AsyncIterator[Page[T]]:
    """Yield every page of a collection, items deduplicated by ``key``.

    Once the caller has come back for a second page, the next page's request leaves
    before this page is decoded; a caller stopping after page 1 sends no second one.

    Raises :class:`~asc_access.errors.UnexpectedResponseError` on a pagination
    loop, a foreign next link, or :data:`MAX_STALLED_PAGES` pages without progress.
    """
    seen_urls = {transport.resolve(path, params)}
    seen_ids: set[str] = set()
    stalled = 0
    # The next page is requested as soon as its link is known and safe to follow, so
    # decoding this page and the caller's work on it overlap the next round trip.
    pending = asyncio.ensure_future(transport.request("GET", path, params=params))
    reading_on = False  # the caller came back for a second page: it reads the collection
    try:
        while True:
            response = await pending
            document = response.json()
            next_url = _next_link(transport, response, document, seen_urls)
            if next_url is not None:
                stalled = 0 if _raw_ids(document) - seen_ids else stalled + 1
                if stalled >= MAX_STALLED_PAGES:
                    raise response.unexpected(
                        f"pagination made no progress for {stalled} pages in a row"
                    )
                pending = asyncio.ensure_future(transport.request("GET", next_url))
                if reading_on:  # let it leave before this page is decoded (one round trip saved)
                    for _ in range(READ_AHEAD_TURNS):
                        await asyncio.sleep(0)
            page = response.decode(decode, document)
            fresh: list[T] = []
            for item in page.items:
                ident = key(item)
                if ident not in seen_ids:
                    seen_ids.add(ident)
                    fresh.append(item)
            if len(fresh) < len(page.items):
                log.warning(
                    "%s: dropped %d item(s) already seen on an earlier page",
                    response.info.path,
                    len(page.items) - len(fresh),
                )
            yield replace(page, items=fresh, next_url=next_url)
            if next_url is None:
                return
            reading_on = True
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending


def _raw_ids(document: Any) -> set[str]:
    """The ids of a page's items, read before decoding (for the progress check)."""
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        return set()
    return {str(d.get("id")) for d in data if isinstance(d, dict)}


def _next_link(
    transport: Transport, response: ApiResponse, document: Any, seen_urls: set[str]
) -> str | None:
    """The page's ``links.next``, resolved and checked (no loop, no foreign origin)."""
    links = document.get("links") if isinstance(document, dict) else None
    raw = links.get("next") if isinstance(links, dict) else None
    if not isinstance(raw, str) or not raw:
        return None  # absent (the last page); a malformed link is the decoder's to refuse
    try:
        next_url = transport.resolve(raw)
    except UnexpectedResponseError as exc:
        raise response.unexpected(exc.message, exc.context) from exc
    if next_url in seen_urls:
        raise response.unexpected("pagination loop: links.next repeats an earlier page")
    seen_urls.add(next_url)
    return next_url
