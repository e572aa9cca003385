"""The client's surface: queries, requests sent, facts kept, concurrency, secrets kept out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import types
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asc_access.api as api
from asc_access.api import AppStoreConnectClient, ResponseInfo, RetryPolicy
from asc_access.errors import (
    ApiError,
    AuthenticationError,
    RateLimitSnapshot,
    ResourceNotFoundError,
    UsageError,
)

DATE = "Wed, 21 Oct 2026 07:28:00 GMT"


def test_public_surface_is_curated_and_sorted() -> None:
    public = {name for name in dir(api) if not name.startswith("_")}
    modules = {name for name in public if isinstance(getattr(api, name), types.ModuleType)}
    assert "transport" in modules
    assert set(api.__all__) == public - modules
    assert api.__all__ == sorted(api.__all__, key=lambda n: (not n.isupper(), n))


async def test_users_query_is_built_in_one_place(make_client: Any, h: Any) -> None:
    script = h.Script(h.ok(h.collection([])))
    client = make_client(script)
    await client.users.list(
        roles=["ADMIN", "DEVELOPER"],
        username="a+b@example.com",
        visible_app_ids=["1", "2"],
        sort=["lastName", "-username"],
        fields=["username", "roles"],
        include_visible_apps=True,
        limit=100,
        visible_apps_limit=10,
    )
    url = script.requests[0].url
    assert url.path == "/v1/users"
    assert list(url.params.multi_items()) == [
        ("filter[roles]", "ADMIN,DEVELOPER"),
        ("filter[username]", "a+b@example.com"),
        ("filter[visibleApps]", "1,2"),
        ("sort", "lastName,-username"),
        ("fields[users]", "username,roles,visibleApps"),
        ("include", "visibleApps"),
        ("fields[apps]", "name,bundleId,sku,primaryLocale"),
        ("limit[visibleApps]", "10"),
        ("limit", "100"),
    ]
    assert b"filter%5Broles%5D=ADMIN,DEVELOPER" in url.raw_path  # commas stay literal
    assert b"a%2Bb%40example.com" in url.raw_path  # "+" is not a space


async def test_invitation_and_app_queries(make_client: Any, h: Any) -> None:
    script = h.Script(*[h.ok(h.collection([]))] * 2)
    client = make_client(script)
    await client.invitations.list(email="x@example.com", roles="ADMIN", sort="-email")
    await client.apps.list(bundle_ids=["com.a", "com.b"], names="Foo", ids=["1"], sort="name")
    assert list(script.requests[0].url.params.multi_items()) == [
        ("filter[email]", "x@example.com"),
        ("filter[roles]", "ADMIN"),
        ("sort", "-email"),
        ("limit", "200"),
    ]
    assert list(script.requests[1].url.params.multi_items()) == [
        ("filter[id]", "1"),
        ("filter[bundleId]", "com.a,com.b"),
        ("filter[name]", "Foo"),
        ("sort", "name"),
        ("fields[apps]", "name,bundleId,sku,primaryLocale"),
        ("limit", "200"),
    ]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: c.users.list(limit=201), "limit must be"),
        (lambda c: c.users.list(limit=0), "limit must be"),
        (lambda c: c.users.list(include_visible_apps=True, visible_apps_limit=51), "visibleApps"),
        (lambda c: c.users.list(visible_apps_limit=0), "visibleApps"),
        (lambda c: c.invitations.list(visible_apps_limit=60), "visibleApps"),
        (lambda c: c.users.get("u", visible_apps_limit=51), "visibleApps"),
        (lambda c: c.apps.list(limit=True), "limit must be"),
        (lambda c: c.users.list(roles=[]), "at least one value"),
        (lambda c: c.users.list(username="a,b"), "comma"),
        (lambda c: c.users.list(sort="email"), "cannot sort"),
        (lambda c: c.users.list(fields=["email"]), "fields"),
        (lambda c: c.invitations.list(fields=["username"]), "fields"),
        (lambda c: c.users.get(""), "user id"),
        (lambda c: c.users.update("u-1"), "nothing to update"),
        (lambda c: c.users.update("u-1", roles=[]), "at least one role"),
        (lambda c: c.users.update("u-1", all_apps_visible=True, visible_app_ids=["1"]), "together"),
        (lambda c: c.users.add_visible_apps("u-1", "123"), "list of ids"),
        (
            lambda c: c.invitations.create(
                email="nope", first_name="a", last_name="b", roles=["ADMIN"]
            ),
            "e-mail",
        ),
        (
            lambda c: c.invitations.create(
                email="a@b.c", first_name="", last_name="b", roles=["ADMIN"]
            ),
            "name",
        ),
        (
            lambda c: c.invitations.create(email="a@b.c", first_name="a", last_name="b", roles=[]),
            "role",
        ),
    ],
)
async def test_bad_arguments_are_usage_errors_before_any_request(
    make_client: Any, h: Any, call: Any, match: str
) -> None:
    script = h.Script()
    client = make_client(script)
    with pytest.raises(UsageError, match=match):
        await call(client)
    assert script.requests == []
    assert client.request_count == 0


async def test_ids_are_quoted_into_paths(make_client: Any, h: Any) -> None:
    script = h.Script(h.fail(404, "NOT_FOUND"))
    client = make_client(script)
    with pytest.raises(ResourceNotFoundError):
        await client.users.get("../apps/1?x=y")
    assert script.requests[0].url.raw_path.startswith(b"/v1/users/..%2Fapps%2F1%3Fx%3Dy")


async def test_writes_send_apples_documents(make_client: Any, h: Any) -> None:
    created = {
        "data": {
            "type": "userInvitations",
            "id": "inv-1",
            "attributes": {
                "email": "n@example.com",
                "firstName": "N",
                "lastName": "P",
                "roles": ["DEVELOPER"],
                "expirationDate": "2026-10-24T08:00:00.000+0000",
            },
        },
        "links": {"self": "x"},
    }
    updated = {"data": h.user("u-1", allAppsVisible=True), "links": {"self": "x"}}
    script = h.Script(
        h.ok(created, status=201, Location="https://api.test/v1/userInvitations/inv-1"),
        h.ok(updated),
        httpx.Response(204),
        httpx.Response(204),
        httpx.Response(204),
    )
    client = make_client(script)
    invitation = await client.invitations.create(
        email=" n@example.com ",
        first_name="N",
        last_name="P",
        roles=["DEVELOPER"],
        visible_app_ids=["1"],
        all_apps_visible=False,
    )
    assert invitation.expiration_date == datetime(2026, 10, 24, 8, tzinfo=UTC)
    user = await client.users.update("u-1", all_apps_visible=True)
    assert user.all_apps_visible
    await client.users.delete("u-1")
    await client.invitations.delete("inv-1")
    await client.users.replace_visible_apps("u-2", [])
    await client.users.add_visible_apps("u-2", [])  # nothing to add: no request
    sent = [
        (r.method, r.url.path, json.loads(r.content) if r.content else None)
        for r in script.requests
    ]
    assert sent[0][0:2] == ("POST", "/v1/userInvitations")
    assert sent[0][2]["data"]["attributes"]["email"] == "n@example.com"
    assert sent[1] == (
        "PATCH",
        "/v1/users/u-1",
        {"data": {"type": "users", "id": "u-1", "attributes": {"allAppsVisible": True}}},
    )
    assert sent[2] == ("DELETE", "/v1/users/u-1", None)
    assert sent[3] == ("DELETE", "/v1/userInvitations/inv-1", None)
    assert sent[4] == ("PATCH", "/v1/users/u-2/relationships/visibleApps", {"data": []})
    assert len(sent) == 5
    for request in script.requests:
        assert request.headers["accept"] == "application/json"
        if request.content:
            assert request.headers["content-type"] == "application/json"


async def test_visible_apps_of_users_and_invitations(make_client: Any, h: Any) -> None:
    script = h.Script(
        h.ok(h.collection([h.app("1")], "https://api.test/v1/users/u-1/visibleApps?cursor=Mg")),
        h.ok(h.collection([h.app("2")])),
        h.ok(h.collection([h.app("3")])),
    )
    client = make_client(script)
    assert [a.id for a in await client.users.visible_apps("u-1")] == ["1", "2"]
    assert [a.name for a in await client.invitations.visible_apps("inv-1")] == ["App 3"]
    assert script.requests[0].url.params["fields[apps]"] == "name,bundleId,sku,primaryLocale"
    assert script.requests[2].url.path == "/v1/userInvitations/inv-1/visibleApps"


async def test_facts_about_the_latest_response(make_client: Any, h: Any) -> None:
    script = h.Script(
        h.ok(h.collection([]), Date=DATE, x_request_id="REQ-1"),
        h.fail(404, "NOT_FOUND", X_Rate_Limit="user-hour-lim:3600;user-hour-rem:42;"),
    )
    client = make_client(script)
    assert client.rate_limit is None
    assert client.last_response is None
    assert client.server_date is None
    await client.apps.list()
    assert client.last_response == ResponseInfo(
        method="GET",
        path="/v1/apps",
        status=200,
        request_id="REQ-1",
        rate_limit=RateLimitSnapshot(3600, 3500),
        date=datetime(2026, 10, 21, 7, 28, tzinfo=UTC),
    )
    assert client.server_date == datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    with pytest.raises(ResourceNotFoundError):
        await client.apps.get("9")
    assert client.last_response is not None
    assert client.last_response.status == 404
    assert client.server_date is None  # that answer had no Date header
    assert client.rate_limit == RateLimitSnapshot(3600, 42)
    assert client.request_count == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"<html>captive portal</html>", "not JSON"),
        (b'{"data": [{"type": "users"}]}', "data[0].id"),
        (b'{"data": 5}', "data is not a list"),
    ],
)
async def test_unreadable_success_bodies_are_unexpected_with_context(
    make_client: Any, h: Any, body: bytes, reason: str
) -> None:
    response = httpx.Response(200, content=body, headers={"x-request-id": "R"})
    client = make_client(h.Script(response))
    with pytest.raises(ApiError) as caught:
        await client.users.list()
    error = caught.value
    assert error.code == "APP-107"
    assert reason in error.message
    assert (error.method, error.path, error.status, error.request_id) == (
        "GET",
        "/v1/users",
        200,
        "R",
    )


async def test_concurrent_requests_respect_the_semaphore(h: Any, clock: Any, tokens: Any) -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        if request.url.path == "/v1/users":
            return h.ok(h.collection([h.user("u-1")]))
        return h.ok(h.collection([h.app("1")]))

    async with AppStoreConnectClient(
        tokens,
        base_url=h.BASE_URL,
        transport=httpx.MockTransport(handler),
        max_concurrency=2,
    ) as client:
        results = await asyncio.gather(
            *[client.users.list() for _ in range(3)], *[client.apps.list() for _ in range(3)]
        )
        assert [len(r) for r in results] == [1] * 6
        assert peak == 2
        assert client.request_count == 6


async def test_real_es256_tokens_are_sent_and_reused(make_client: Any, h: Any) -> None:
    es256 = h.Es256Tokens()
    claims_seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        claims_seen.append(es256.verify(request.headers["authorization"]))
        return h.ok(h.collection([]))

    client = make_client(handler, tokens=es256)
    await asyncio.gather(client.users.list(), client.apps.list(), client.invitations.list())
    assert len(claims_seen) == 3
    assert es256.minted == 1
    assert claims_seen[0]["iss"] == es256.issuer_id
    assert client.key_id == "ES256KEY01"


async def test_no_token_in_logs_or_errors(
    make_client: Any, h: Any, caplog: pytest.LogCaptureFixture
) -> None:
    es256 = h.Es256Tokens()
    token = es256.token()
    echo = httpx.Response(
        200,
        content=f"Bearer {token} was sent".encode(),
        headers={"x-request-id": "R"},
    )
    script = h.Script(
        h.fail(401, "NOT_AUTHORIZED"),
        h.fail(401, "NOT_AUTHORIZED", detail=f"token {token[:20]}"),
        h.fail(503),
        echo,
    )
    client = make_client(script, tokens=es256)
    caplog.set_level(logging.DEBUG, logger="asc_access")
    errors: list[ApiError] = []
    with pytest.raises(AuthenticationError) as first:
        await client.users.list()
    errors.append(first.value)
    with pytest.raises(ApiError) as second:
        await client.apps.list()
    errors.append(second.value)
    assert caplog.records, "the client logs its requests at debug level"
    fresh = es256.token()
    for secret in {token, fresh}:
        signature = secret.rsplit(".", 1)[1]
        for record in caplog.records:
            assert signature not in record.getMessage()
        for error in errors:
            assert signature not in str(error)
            assert signature not in repr(error)
            assert signature not in json.dumps(error.as_dict(), default=str)
            assert signature not in json.dumps(error.context, default=str)
    assert "[redacted]" in second.value.context["excerpt"]


async def test_api_url_must_be_http(tokens: Any) -> None:
    with pytest.raises(UsageError):
        AppStoreConnectClient(tokens, base_url="ftp://example.com")
    with pytest.raises(UsageError):
        AppStoreConnectClient(tokens, base_url="not a url")


async def test_base_url_with_a_path_prefix(make_client: Any, h: Any) -> None:
    script = h.Script(h.ok(h.collection([])))
    client = make_client(script, base_url="https://proxy.test/asc/")
    await client.apps.list()
    assert str(script.requests[0].url).startswith("https://proxy.test/asc/v1/apps?")
    assert client.base_url == "https://proxy.test/asc"


class _StaticTokens:
    key_id = "PROPERTY01"

    def token(self) -> str:
        return "static-token"

    def invalidate(self) -> None:
        return None


async def _no_wait(_seconds: float) -> None:
    return None


def _list_users_against(status: int, body: bytes, headers: dict[str, str]) -> None:
    """List users from a server that always answers ``status``/``body``/``headers``."""

    async def scenario() -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, content=body, headers=headers)

        async with AppStoreConnectClient(
            _StaticTokens(),
            base_url="https://api.test",
            transport=httpx.MockTransport(handler),
            sleep=_no_wait,
            retry=RetryPolicy(max_attempts=2, jitter=lambda d: d),
        ) as client:
            with contextlib.suppress(ApiError):
                await client.users.list()

    asyncio.run(scenario())


HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    status=st.integers(min_value=100, max_value=599),
    body=st.binary(max_size=300)
    | st.builds(lambda doc: json.dumps(doc).encode(), st.from_type(dict[str, int]))
    | st.sampled_from(
        [
            b'{"data": [], "links": {"next": "https://api.test/v1/users?cursor=x"}}',
            b'{"errors": [{"code": "NOT_FOUND"}]}',
            b'{"data": [{"type": "users", "id": "1", "attributes": {"roles": [5]}}]}',
        ]
    ),
    rate=HEADER_TEXT,
    retry_after=HEADER_TEXT,
    date=HEADER_TEXT,
)
def test_whatever_the_server_answers_only_api_errors_escape(
    status: int, body: bytes, rate: str, retry_after: str, date: str
) -> None:
    headers = {"X-Rate-Limit": rate, "Retry-After": retry_after, "Date": date}
    _list_users_against(status, body, headers)
