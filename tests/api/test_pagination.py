"""Following links.next: every page once, no loops, no foreign hosts, no duplicates."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from asc_access.errors import UnexpectedResponseError

NEXT = "https://api.test/v1/users?cursor={}&limit=2"


def _page(h: Any, ids: list[str], cursor: str | None) -> httpx.Response:
    return h.ok(h.collection([h.user(i) for i in ids], NEXT.format(cursor) if cursor else None))


async def test_follows_next_links_as_given(make_client: Any, h: Any) -> None:
    script = h.Script(_page(h, ["a", "b"], "Mg"), _page(h, ["c", "d"], "NA"), _page(h, ["e"], None))
    client = make_client(script)
    pages = [page async for page in client.users.pages(limit=2)]
    assert [[u.id for u in p.items] for p in pages] == [["a", "b"], ["c", "d"], ["e"]]
    assert str(script.requests[0].url) == "https://api.test/v1/users?limit=2"
    assert str(script.requests[1].url) == NEXT.format("Mg")
    assert str(script.requests[2].url) == NEXT.format("NA")
    assert pages[-1].next_url is None
    assert client.request_count == 3


async def test_list_collects_every_page(make_client: Any, h: Any) -> None:
    script = h.Script(_page(h, ["a", "b"], "Mg"), _page(h, ["c"], None))
    client = make_client(script)
    assert [u.id for u in await client.users.list(limit=2)] == ["a", "b", "c"]


async def test_relative_next_links_are_resolved_against_the_api(make_client: Any, h: Any) -> None:
    relative = h.ok(h.collection([h.app("1")], "/v1/apps?cursor=Mg"))
    script = h.Script(relative, h.ok(h.collection([h.app("2")])))
    client = make_client(script)
    assert [a.id for a in await client.apps.list()] == ["1", "2"]
    assert str(script.requests[1].url) == "https://api.test/v1/apps?cursor=Mg"


async def test_a_repeating_next_link_is_a_loop(make_client: Any, h: Any) -> None:
    script = h.Script(_page(h, ["a"], "Mg"), _page(h, ["b"], "NA"), _page(h, ["c"], "Mg"))
    client = make_client(script)
    with pytest.raises(UnexpectedResponseError, match="pagination loop") as caught:
        await client.users.list()
    assert caught.value.code == "APP-107"
    assert caught.value.path == "/v1/users"
    assert caught.value.status == 200
    assert len(script.requests) == 3


async def test_a_next_link_back_to_the_first_page_is_a_loop(make_client: Any, h: Any) -> None:
    script = h.Script(h.ok(h.collection([h.app("1")], "https://api.test/v1/apps?limit=200")))
    client = make_client(script)
    with pytest.raises(UnexpectedResponseError, match="loop"):
        await client.apps.list(fields=None)


async def test_items_already_seen_are_dropped(make_client: Any, h: Any) -> None:
    script = h.Script(_page(h, ["a", "b"], "Mg"), _page(h, ["b", "c", "c"], None))
    client = make_client(script)
    pages = [p async for p in client.users.pages()]
    assert [[u.id for u in p.items] for p in pages] == [["a", "b"], ["c"]]


async def test_pages_without_progress_stop_the_paginator(make_client: Any, h: Any) -> None:
    script = h.Script(
        _page(h, ["a"], "1"), _page(h, ["a"], "2"), _page(h, [], "3"), _page(h, ["a"], "4")
    )
    client = make_client(script)
    with pytest.raises(UnexpectedResponseError, match="no progress"):
        await client.users.list()
    assert len(script.requests) == 4


async def test_a_next_link_to_another_host_is_refused(make_client: Any, h: Any) -> None:
    script = h.Script(h.ok(h.collection([h.user("a")], "https://evil.example/v1/users?c=1")))
    client = make_client(script)
    with pytest.raises(UnexpectedResponseError, match="another host") as caught:
        await client.users.list()
    assert len(script.requests) == 1
    assert caught.value.context["host"] == "evil.example"


@pytest.mark.parametrize("link", ["http://api.test/v1/users?c=1", "https://api.test:8443/v1/x"])
async def test_a_next_link_with_another_scheme_or_port_is_refused(
    make_client: Any, h: Any, link: str
) -> None:
    client = make_client(h.Script(h.ok(h.collection([h.user("a")], link))))
    with pytest.raises(UnexpectedResponseError, match="another host"):
        await client.users.list()


async def test_a_next_link_that_is_not_a_url_is_unexpected(make_client: Any, h: Any) -> None:
    client = make_client(h.Script(h.ok(h.collection([h.user("a")], "https://[::1"))))
    with pytest.raises(UnexpectedResponseError):
        await client.users.list()


async def test_stopping_early_sends_no_further_request(make_client: Any, h: Any) -> None:
    script = h.Script(_page(h, ["a", "b"], "Mg"), _page(h, ["c"], None))
    client = make_client(script)
    async for page in client.users.pages():
        assert page.items
        break
    assert len(script.requests) == 1


async def test_a_caller_reading_on_has_the_next_page_in_flight_before_decoding(
    make_client: Any, h: Any
) -> None:
    # Once the caller came back for page 2, page 3's request has left by the time
    # page 2 is handed over (it was decoded while that request travelled).
    script = h.Script(_page(h, ["a"], "Mg"), _page(h, ["b"], "NA"), _page(h, ["c"], None))
    client = make_client(script)
    sent_when_handed: list[int] = []
    async for _ in client.users.pages(limit=1):
        sent_when_handed.append(len(script.requests))
    assert sent_when_handed == [1, 3, 3]


async def test_visible_app_ids_follow_linkage_pages(make_client: Any, h: Any) -> None:
    first = {
        "data": [{"type": "apps", "id": "1"}, {"type": "apps", "id": "2"}],
        "links": {
            "self": "x",
            "next": "https://api.test/v1/users/u-1/relationships/visibleApps?cursor=Mg",
        },
        "meta": {"paging": {"total": 3, "limit": 200}},
    }
    second = {"data": [{"type": "apps", "id": "3"}], "links": {"self": "x"}}
    script = h.Script(h.ok(first), h.ok(second))
    client = make_client(script)
    assert await client.users.visible_app_ids("u-1") == ["1", "2", "3"]
    assert script.requests[0].url.path == "/v1/users/u-1/relationships/visibleApps"
    assert script.requests[0].url.params["limit"] == "200"


async def test_a_relative_link_may_carry_a_url_in_its_query(make_client: Any, h: Any) -> None:
    relative = h.ok(h.collection([h.app("1")], "/v1/apps?cursor=Mg&from=https://x.example/y"))
    script = h.Script(relative, h.ok(h.collection([h.app("2")])))
    client = make_client(script)
    assert [a.id for a in await client.apps.list()] == ["1", "2"]
    assert script.requests[1].url.host == "api.test"
    assert client.last_response is not None
    assert client.last_response.path == "/v1/apps"


async def test_the_next_page_is_in_flight_while_the_caller_works_on_this_one(
    make_client: Any, h: Any
) -> None:
    script = h.Script(_page(h, ["a", "b"], "Mg"), _page(h, ["c"], None))
    client = make_client(script)
    pages = client.users.pages(limit=2)
    first = await anext(pages)
    await asyncio.sleep(0)  # the caller is busy with page 1 ...
    await asyncio.sleep(0)
    assert [u.id for u in first.items] == ["a", "b"]
    assert len(script.requests) == 2  # ... and page 2 has already been asked for
    rest = [p async for p in pages]
    assert [[u.id for u in p.items] for p in rest] == [["c"]]
    assert client.request_count == 2


async def test_a_caller_that_stops_early_leaves_no_request_behind(make_client: Any, h: Any) -> None:
    script = h.Script(_page(h, ["a", "b"], "Mg"), _page(h, ["c", "d"], "NA"), _page(h, ["e"], None))
    client = make_client(script)
    pages = client.users.pages(limit=2)
    await anext(pages)
    await pages.aclose()
    assert len(script.requests) <= 2  # the prefetched page is cancelled, nothing beyond it
