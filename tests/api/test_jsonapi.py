"""JSON:API documents in and out: tolerant where Apple may grow, strict where we rely on it."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator

from asc_access.api.jsonapi import (
    decode_errors,
    decode_invitation,
    decode_linkage_page,
    decode_page,
    decode_single,
    decode_user,
    parse_timestamp,
)
from asc_access.api.payloads import (
    encode_invitation_create,
    encode_linkages,
    encode_user_update,
)
from asc_access.errors import UnexpectedResponseError
from asc_access.models import Role

SPEC_PATH = Path("/work/shared/asc-openapi/app-store-connect-subset.json")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.skip("Apple's OpenAPI subset is not on this machine")
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return document


def _validate(spec: dict[str, Any], schema_name: str, document: Any) -> None:
    schema = {**spec["components"]["schemas"][schema_name], "components": spec["components"]}
    OAS30Validator(schema).validate(document)


# -- decoding ---------------------------------------------------------------------------------


def test_user_with_unknown_attributes_and_roles(h: Any, spec: dict[str, Any]) -> None:
    resource = h.user(
        "u-1",
        roles=["DEVELOPER", "ROLE_FROM_THE_FUTURE"],
        someNewAttribute={"nested": True},
    )
    resource["relationships"] = {
        "visibleApps": {
            "data": [{"type": "apps", "id": "1"}, {"type": "apps", "id": "2"}],
            "meta": {"paging": {"total": 75, "limit": 2}},
            "links": {"self": "x", "related": "y"},
        },
        "somethingElse": {"links": {"self": "z"}},
    }
    user = decode_user(resource)
    assert user.roles == ("DEVELOPER", "ROLE_FROM_THE_FUTURE")
    assert user.visible_app_ids == ("1", "2")
    assert user.visible_apps_total == 75
    assert user.visible_apps_capped
    assert user.email == "u-1@example.com"


def test_user_without_relationship_data_has_no_visible_ids(h: Any) -> None:
    resource = h.user("u-2")
    resource["relationships"] = {"visibleApps": {"links": {"self": "x", "related": "y"}}}
    user = decode_user(resource)
    assert user.visible_app_ids is None
    assert not user.visible_apps_capped


def test_sparse_fieldsets_leave_defaults() -> None:
    user = decode_user({"type": "users", "id": "u-3", "attributes": {"roles": ["ADMIN"]}})
    assert (user.username, user.all_apps_visible, user.roles) == ("", False, ("ADMIN",))
    assert decode_user({"type": "users", "id": "u-4"}).roles == ()


def test_invitation_with_apples_timestamp_format() -> None:
    invitation = decode_invitation(
        {
            "type": "userInvitations",
            "id": "inv-1",
            "attributes": {
                "email": "x@example.com",
                "expirationDate": "2021-04-22T08:02:15.000+0000",
                "roles": [Role.MARKETING.value],
                "allAppsVisible": True,
            },
        }
    )
    assert invitation.expiration_date == datetime(2021, 4, 22, 8, 2, 15, tzinfo=UTC)
    assert invitation.all_apps_visible


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-04-22T08:02:15.000+0000", datetime(2021, 4, 22, 8, 2, 15, tzinfo=UTC)),
        ("2021-04-22T08:02:15Z", datetime(2021, 4, 22, 8, 2, 15, tzinfo=UTC)),
        ("2021-04-22T08:02:15+00:00", datetime(2021, 4, 22, 8, 2, 15, tzinfo=UTC)),
        ("2021-04-22T08:02:15.123456789Z", datetime(2021, 4, 22, 8, 2, 15, 123456, tzinfo=UTC)),
        (
            "2021-04-22T10:02:15.5+0200",
            datetime(2021, 4, 22, 10, 2, 15, 500000, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2021-04-22T08:02:15", datetime(2021, 4, 22, 8, 2, 15, tzinfo=UTC)),
        ("2021-04-22", datetime(2021, 4, 22, tzinfo=UTC)),
        (None, None),
    ],
)
def test_timestamps_are_parsed_leniently(text: str | None, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2021-13-01T00:00:00Z", 12345, ""])
def test_unreadable_timestamps_raise_our_error(text: Any) -> None:
    with pytest.raises(UnexpectedResponseError, match="expirationDate"):
        parse_timestamp(text, "data.attributes.expirationDate")


@pytest.mark.parametrize(
    ("resource", "where"),
    [
        ({"type": "apps", "id": "1"}, "type"),
        ({"type": "users"}, "id"),
        ({"type": "users", "id": 7}, "id"),
        ({"type": "users", "id": "u", "attributes": []}, "attributes"),
        ({"type": "users", "id": "u", "attributes": {"roles": "ADMIN"}}, "roles"),
        ({"type": "users", "id": "u", "attributes": {"roles": [1]}}, "roles"),
        ({"type": "users", "id": "u", "attributes": {"allAppsVisible": "yes"}}, "allAppsVisible"),
        ({"type": "users", "id": "u", "attributes": {"username": 5}}, "username"),
        (
            {"type": "users", "id": "u", "relationships": {"visibleApps": {"data": {}}}},
            "visibleApps.data",
        ),
        (
            {
                "type": "users",
                "id": "u",
                "relationships": {"visibleApps": {"data": [{"type": "builds", "id": "1"}]}},
            },
            "visibleApps.data[0].type",
        ),
        ("not an object", "data"),
    ],
)
def test_schema_violations_name_the_place(resource: Any, where: str) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        decode_user(resource)
    assert where in caught.value.message


def test_page_keeps_included_apps_and_skips_other_included_types(h: Any) -> None:
    document = h.collection(
        [h.user("u-1")],
        next_url="https://api.test/v1/users?cursor=Mg&limit=1",
        included=[h.app("1"), {"type": "builds", "id": "b-1"}],
        meta={"paging": {"total": 3, "limit": 1}},
    )
    page = decode_page(document, decode_user, requested_limit=1)
    assert [u.id for u in page.items] == ["u-1"]
    assert list(page.included_apps) == ["1"]
    assert page.included_apps["1"].bundle_id == "com.example.app1"
    assert (page.total, page.limit) == (3, 1)
    assert page.next_url == "https://api.test/v1/users?cursor=Mg&limit=1"


def test_included_apps_are_decoded_only_when_looked_at(h: Any) -> None:
    """A sync never reads them: a malformed included app does not fail the page, only its use."""
    bad = {**h.app("2"), "attributes": {"name": 7}}
    document = h.collection([h.user("u-1")], included=[h.app("1"), bad])
    page = decode_page(document, decode_user)
    assert [u.id for u in page.items] == ["u-1"]
    with pytest.raises(UnexpectedResponseError, match=r"included\[1\]\.attributes\.name"):
        dict(page.included_apps)


def test_linkage_page() -> None:
    page = decode_linkage_page(
        {"data": [{"type": "apps", "id": "1"}, {"type": "apps", "id": "2"}], "links": {}},
        requested_limit=200,
    )
    assert page.items == ["1", "2"]
    assert page.limit == 200


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"links": {}},
        {"data": {}, "links": {}},
        {"data": [], "links": {"next": 5}},
        {"data": [], "links": []},
        {"data": [], "meta": {"paging": {"total": "3"}}},
        {"data": [], "meta": {"paging": {"limit": True}}},
        {"data": [], "included": {}},
        {"data": [], "included": ["x"]},
    ],
)
def test_malformed_collections_raise_our_error(document: Any) -> None:
    with pytest.raises(UnexpectedResponseError):
        decode_page(document, decode_user)


def test_single_document_needs_data() -> None:
    with pytest.raises(UnexpectedResponseError, match="no data"):
        decode_single({"links": {}}, decode_user)


def test_error_documents_are_decoded_leniently() -> None:
    body = json.dumps(
        {
            "errors": [
                {"status": "409", "code": "ENTITY_ERROR", "title": "t"},
                "not an object",
                {"status": 500, "code": None, "title": ["x"], "id": 3, "meta": {}},
            ]
        }
    ).encode()
    first, second = decode_errors(body)
    assert (first.code, first.detail, first.id) == ("ENTITY_ERROR", "", None)
    assert (second.status, second.code, second.title, second.meta) == ("500", "", "", None)
    for garbage in (b"", b"<html>", b"[]", b'{"errors": {}}', b"\xff\xfe", b"[" * 100000):
        assert decode_errors(garbage) == ()


# -- properties: nothing escapes but our own error types ---------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "type",
        "id",
        "attributes",
        "relationships",
        "visibleApps",
        "data",
        "meta",
        "paging",
        "total",
        "limit",
        "links",
        "next",
        "included",
        "roles",
        "username",
        "email",
        "expirationDate",
        "allAppsVisible",
        "errors",
        "code",
        "status",
        "detail",
    ]
)
SHAPED = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=30)
    | st.sampled_from(["users", "apps", "userInvitations", "2021-04-22T08:02:15.000+0000"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=30,
)


def _only_ours(call: Any) -> None:
    """Run ``call``: it may succeed or raise UnexpectedResponseError, nothing else."""
    with contextlib.suppress(UnexpectedResponseError):
        call()


@settings(max_examples=300)
@given(JSON | SHAPED)
def test_decoders_raise_nothing_but_unexpected_response(document: Any) -> None:
    _only_ours(lambda: decode_page(document, decode_user))
    _only_ours(lambda: decode_page(document, decode_invitation))
    _only_ours(lambda: decode_linkage_page(document))
    _only_ours(lambda: decode_single(document, decode_user))
    _only_ours(lambda: decode_single(document, decode_invitation))
    _only_ours(lambda: decode_user(document))
    decode_errors(json.dumps(document).encode())


@given(st.binary(max_size=200))
def test_error_decoding_never_raises_on_bytes(body: bytes) -> None:
    assert isinstance(decode_errors(body), tuple)


@given(st.text(max_size=40))
def test_timestamp_parsing_raises_only_our_error(text: str) -> None:
    _only_ours(lambda: parse_timestamp(text))


# -- encoding (checked against Apple's request schemas) ----------------------------------------


def test_user_update_payload_matches_apples_schema(spec: dict[str, Any]) -> None:
    payload = encode_user_update(
        "u-1",
        roles=[Role.DEVELOPER, "MARKETING"],
        all_apps_visible=False,
        provisioning_allowed=True,
        visible_app_ids=["1", "2"],
    )
    _validate(spec, "UserUpdateRequest", payload)
    assert payload == {
        "data": {
            "type": "users",
            "id": "u-1",
            "attributes": {
                "roles": ["DEVELOPER", "MARKETING"],
                "allAppsVisible": False,
                "provisioningAllowed": True,
            },
            "relationships": {
                "visibleApps": {"data": [{"type": "apps", "id": "1"}, {"type": "apps", "id": "2"}]}
            },
        }
    }
    minimal = encode_user_update("u-1", all_apps_visible=True)
    _validate(spec, "UserUpdateRequest", minimal)
    assert minimal == {
        "data": {"type": "users", "id": "u-1", "attributes": {"allAppsVisible": True}}
    }


def test_invitation_payload_matches_apples_schema(spec: dict[str, Any]) -> None:
    payload = encode_invitation_create(
        email="a@example.com",
        first_name="A",
        last_name="B",
        roles=["APP_MANAGER"],
        all_apps_visible=False,
        visible_app_ids=["1"],
    )
    _validate(spec, "UserInvitationCreateRequest", payload)
    assert "provisioningAllowed" not in payload["data"]["attributes"]
    assert payload["data"]["relationships"]["visibleApps"]["data"] == [{"type": "apps", "id": "1"}]


def test_linkages_payload_matches_apples_schema(spec: dict[str, Any]) -> None:
    _validate(spec, "UserVisibleAppsLinkagesRequest", encode_linkages(["1", "2"]))
    assert encode_linkages([]) == {"data": []}


def test_test_documents_match_apples_response_schemas(h: Any, spec: dict[str, Any]) -> None:
    """Keep the unit tests' Apple honest: their documents validate against the spec."""
    _validate(spec, "UsersResponse", h.collection([h.user("u-1")], included=[h.app("1")]))
    _validate(spec, "AppsWithoutIncludesResponse", h.collection([h.app("1")]))
    with pytest.raises(Exception, match="is not one of"):
        _validate(spec, "UsersResponse", h.collection([{"type": "apps", "id": "1"}]))
