"""Following ``links.next`` through a collection, safely.

Apple pages with an opaque cursor: each page's document-level ``links.next``
is the absolute URL of the next one (the original ``limit`` included), absent
on the last page. The paginator follows it as given (adding nothing), refuses
a link that repeats (a loop) or leaves the API's origin (credentials stay
home), drops items already seen on an earlier page (cursor drift while the
team changes), and gives up when several pages in a row bring nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from asc_access.api.transport import Transport
from asc_access.api.types import Page
from asc_access.errors import UnexpectedResponseError

__all__ = ["MAX_STALLED_PAGES", "paginate"]

log = logging.getLogger("asc_access.api")

T = TypeVar("T")

#: Consecutive pages with a next link but no new item before the paginator gives up.
MAX_STALLED_PAGES = 3


async def paginate(
    transport: Transport,
    path: str,
    params: Sequence[tuple[str, str]],
    decode: Callable[[Any], Page[T]],
    *,
    key: Callable[[T], str],
) -> AsyncIterator[Page[T]]:
    """Yield every page of a collection, items deduplicated by ``key``.

    Raises :class:`~asc_access.errors.UnexpectedResponseError` on a pagination
    loop, a foreign next link, or :data:`MAX_STALLED_PAGES` pages without progress.
    """
    target: str = path
    query: Sequence[tuple[str, str]] | None = params
    seen_urls = {transport.resolve(path, params)}
    seen_ids: set[str] = set()
    stalled = 0
    while True:
        response = await transport.request("GET", target, params=query)
        page = response.decode(decode)
        fresh: list[T] = []
        for item in page.items:
            ident = key(item)
            if ident in seen_ids:
                continue
            seen_ids.add(ident)
            fresh.append(item)
        if len(fresh) < len(page.items):
            log.warning(
                "%s: dropped %d item(s) already seen on an earlier page",
                response.info.path,
                len(page.items) - len(fresh),
            )
        next_url: str | None = None
        if page.next_url is not None:
            try:
                next_url = transport.resolve(page.next_url)
            except UnexpectedResponseError as exc:
                raise response.unexpected(exc.message, exc.context) from exc
            if next_url in seen_urls:
                raise response.unexpected("pagination loop: links.next repeats an earlier page")
            seen_urls.add(next_url)
            stalled = 0 if fresh else stalled + 1
            if stalled >= MAX_STALLED_PAGES:
                raise response.unexpected(
                    f"pagination made no progress for {stalled} pages in a row"
                )
        yield replace(page, items=fresh, next_url=next_url)
        if next_url is None:
            return
        target, query = next_url, None
