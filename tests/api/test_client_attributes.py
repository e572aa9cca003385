"""The client's read-only facts come from its transport, live, and cannot be assigned."""

from __future__ import annotations

from typing import Any

import pytest

from asc_access.api import AppStoreConnectClient


async def test_facts_follow_the_transport(make_client: Any, h: Any) -> None:
    script = h.Script(h.ok(h.collection([h.app("1")])))
    client = make_client(script)
    assert client.base_url == "https://api.test"
    assert (client.request_count, client.rate_limit, client.last_response) == (0, None, None)
    await client.apps.list()
    assert client.request_count == 1
    assert client.last_response is not None
    assert client.last_response.status == 200
    assert client.budget is not None
    assert client.key_id


@pytest.mark.parametrize("name", ["base_url", "key_id", "budget", "request_count"])
async def test_they_cannot_be_assigned(make_client: Any, h: Any, name: str) -> None:
    client = make_client(h.Script())
    with pytest.raises(AttributeError):
        setattr(client, name, None)


def test_each_is_documented_on_the_class() -> None:
    for name in ("base_url", "key_id", "budget", "rate_limit", "request_count", "last_response"):
        assert getattr(AppStoreConnectClient, name).__doc__
