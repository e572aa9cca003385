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

from asc_access.api.peek import peek_next_link
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
            # Read on: the next request leaves on the cursor read off the body's tail, before
            # the body is parsed, when asking for it cannot be wrong (this page cannot stall
            # the paginator); the parsed document then confirms the link.
            early = None
            if reading_on and stalled + 1 < MAX_STALLED_PAGES:
                early = _peeked_link(transport, response, seen_urls)
                if early is not None:
                    pending = asyncio.ensure_future(transport.request("GET", early))
                    await _let_it_leave()
            document = response.json()
            next_url = _next_link(transport, response, document, seen_urls)
            if early is not None and next_url != early:
                log.warning("%s: links.next differs from its peek", response.info.path)
                await _drop(pending)
                early = None
            if next_url is not None:
                stalled = 0 if _raw_ids(document) - seen_ids else stalled + 1
                if stalled >= MAX_STALLED_PAGES:
                    raise response.unexpected(
                        f"pagination made no progress for {stalled} pages in a row"
                    )
                if early is None:
                    pending = asyncio.ensure_future(transport.request("GET", next_url))
                    if reading_on:  # let it leave before this page is decoded
                        await _let_it_leave()
            yield replace(_fresh(response, document, decode, key, seen_ids), next_url=next_url)
            if next_url is None:
                return
            reading_on = True
    finally:
        await _drop(pending)


async def _let_it_leave() -> None:
    """Give the loop the turns a request just made needs to leave (token, budget, send)."""
    for _ in range(READ_AHEAD_TURNS):
        await asyncio.sleep(0)


async def _drop(pending: asyncio.Future[Any]) -> None:
    """Cancel a request not needed after all (nothing is sent if it has not left yet)."""
    if not pending.done():
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pending


def _fresh(
    response: ApiResponse,
    document: Any,
    decode: Callable[[Any], Page[T]],
    key: Callable[[T], str],
    seen_ids: set[str],
) -> Page[T]:
    """The page decoded, without the items an earlier page already brought."""
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
    return replace(page, items=fresh)


def _raw_ids(document: Any) -> set[str]:
    """The ids of a page's items, read before decoding (for the progress check)."""
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        return set()
    return {str(d.get("id")) for d in data if isinstance(d, dict)}


def _peeked_link(transport: Transport, response: ApiResponse, seen_urls: set[str]) -> str | None:
    """The next page's URL read off the body's tail, when it is one the paginator would follow."""
    raw = peek_next_link(response.body)
    if raw is None:
        return None
    try:
        next_url = transport.resolve(raw)
    except UnexpectedResponseError:
        return None  # the parsed document's check raises it
    return None if next_url in seen_urls else next_url


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
