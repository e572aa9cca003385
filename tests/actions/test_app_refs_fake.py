"""The shared app resolver (issue 11): ids, bundle ids and names; an ambiguous name refused."""

from __future__ import annotations

from typing import Any

import pytest

from asc_access.actions.reads import resolve_app_map
from asc_access.errors import NotFoundLocallyError, UsageError
from asc_access.ids import AppId
from asc_access.models import App, match_app

APPS = [
    App(AppId("1"), name="Notes", bundle_id="com.example.notes"),
    App(AppId("2"), name="Notes", bundle_id="com.example.notes2"),
    App(AppId("3"), name="Weather", bundle_id="com.example.weather"),
]


def test_match_app_prefers_id_then_bundle_id_then_name() -> None:
    assert match_app("3", APPS) == [APPS[2]]
    assert match_app("COM.example.Weather", APPS) == [APPS[2]]
    assert match_app(" weather ", APPS) == [APPS[2]]
    assert match_app("notes", APPS) == APPS[:2]
    assert match_app("nothing", APPS) == []


async def test_an_ambiguous_name_is_a_usage_error_listing_both(apple: Any) -> None:
    one = App(AppId("998"), name="Twin App", bundle_id="com.example.one")
    apple.apps[one.id] = one
    resolved = await resolve_app_map(apple.source, ["twin APP"], team="acme")
    assert resolved == {"twin APP": "998"}
    two = App(AppId("999"), name="Twin App", bundle_id="com.example.two")
    apple.apps[two.id] = two
    with pytest.raises(UsageError, match="names 2 apps on team acme") as info:
        await resolve_app_map(apple.source, ["Twin App"], team="acme")
    assert "com.example.one" in str(info.value)
    assert "com.example.two" in str(info.value)
    assert await resolve_app_map(apple.source, ["com.example.two"], team="acme") == {
        "com.example.two": "999"
    }
    with pytest.raises(NotFoundLocallyError):
        await resolve_app_map(apple.source, ["no such app"], team="acme")
