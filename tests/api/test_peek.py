"""``peek_next_link``: the cursor off a page's tail, only when the tail proves it is top-level."""

from __future__ import annotations

import json

import pytest

from asc_access.api.peek import peek_next_link

NEXT = "https://api.appstoreconnect.apple.com/v1/users?cursor=eyJvZmZzZXQiOjIwMH0&limit=200"
USER = {"type": "users", "id": "u1", "links": {"self": "https://x/v1/users/u1"}}


def _doc(**members: object) -> bytes:
    return json.dumps(members).encode()


def test_apples_order_data_included_links_meta() -> None:
    body = _doc(
        data=[USER],
        included=[{"type": "apps", "id": "1"}],
        links={"self": "https://x/v1/users", "next": NEXT},
        meta={"paging": {"total": 1000, "limit": 200}},
    )
    assert peek_next_link(body) == NEXT


def test_pretty_printed_and_links_last() -> None:
    text = json.dumps({"data": [USER], "links": {"next": NEXT}}, indent=2)
    assert peek_next_link(text.encode()) == NEXT


def test_the_last_page_has_no_next() -> None:
    assert peek_next_link(_doc(data=[USER], links={"self": "https://x"}, meta={})) is None


@pytest.mark.parametrize(
    "body",
    [
        # links first: the last "links" is a resource's own, so nothing is guessed
        _doc(links={"next": NEXT}, data=[USER]),
        # a nested links object at the end
        _doc(data=[], meta={"links": {"next": NEXT}}),
        # inside an array
        b'{"data": [{"links": {"next": "%s"}}]}' % NEXT.encode(),
        # an escaped quote in a string
        b'{"data": [], "x": "a \\"links\\": {\\"next\\": \\"%s\\"}"}' % NEXT.encode(),
        # a key ending in \"links
        b'{"data": [], "meta": {}, "a \\"links": {"next": "%s"}}' % NEXT.encode(),
        b"",
        b"not json",
        b'{"data": [], "links": {"next": ""}}',
        b'{"data": [], "links": {"next": 5}}',
        b'{"data": [], "links": ["next"]}',
        b'{"data": [], "links": {"next": "%s"}} trailing' % NEXT.encode(),
    ],
)
def test_anything_else_is_not_guessed(body: bytes) -> None:
    assert peek_next_link(body) is None
