"""The one bounded retry loop: what is repeated, how long it waits, when it stops."""

from __future__ import annotations

import email.utils
from typing import Any

import httpx
import pytest

from asc_access.api import RetryPolicy
from asc_access.errors import (
    AuthenticationError,
    ConflictError,
    RateLimitedError,
    ResourceNotFoundError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)

INVITE = {"email": "new@example.com", "first_name": "N", "last_name": "P", "roles": ["DEVELOPER"]}


def _invitation(h: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "userInvitations",
            "id": "inv-1",
            "attributes": {"email": "new@example.com", "roles": ["DEVELOPER"]},
        },
        "links": {"self": "x"},
    }


async def test_get_is_retried_on_5xx_with_capped_exponential_backoff(
    make_client: Any, h: Any, clock: Any
) -> None:
    script = h.Script(h.fail(500, "UNEXPECTED_ERROR"), h.fail(503), h.ok(h.collection([])))
    client = make_client(script)
    assert await client.apps.list() == []
    assert client.request_count == 3
    assert clock.sleeps == [0.5, 1.0]


async def test_backoff_is_capped_and_jittered(h: Any) -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=lambda d: d * 0.5)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 2.5, 2.5]
    default = RetryPolicy(base_delay=2.0)
    assert all(1.0 <= default.backoff(1) <= 2.0 for _ in range(50))
    assert RetryPolicy(max_delay=3.0, jitter=lambda d: d * 10).backoff(1) == 3.0
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


async def test_retries_stop_after_max_attempts(make_client: Any, h: Any, clock: Any) -> None:
    script = h.Script(*[h.fail(500, "UNEXPECTED_ERROR")] * 10)
    client = make_client(script, retry=RetryPolicy(max_attempts=3, jitter=lambda d: d))
    with pytest.raises(ServerError) as caught:
        await client.users.list()
    assert len(script.requests) == 3
    assert caught.value.context["attempts"] == 3
    assert caught.value.code == "APP-105"
    assert clock.sleeps == [0.5, 1.0]


async def test_retry_after_is_honoured(make_client: Any, h: Any, clock: Any) -> None:
    script = h.Script(h.fail(429, "RATE_LIMIT_EXCEEDED", Retry_After="7"), h.ok(h.collection([])))
    client = make_client(script)
    await client.users.list()
    assert clock.sleeps == [7.0]


async def test_retry_after_as_http_date_uses_apples_clock(
    make_client: Any, h: Any, clock: Any
) -> None:
    reply = h.fail(
        503,
        "UNAVAILABLE",
        Retry_After="Wed, 21 Oct 2026 07:28:30 GMT",
        Date="Wed, 21 Oct 2026 07:28:00 GMT",
    )
    client = make_client(h.Script(reply, h.ok(h.collection([]))))
    await client.apps.list()
    assert clock.sleeps == [30.0]


async def test_a_wait_beyond_the_time_budget_is_not_made(
    make_client: Any, h: Any, clock: Any
) -> None:
    script = h.Script(h.fail(429, "RATE_LIMIT_EXCEEDED", Retry_After="3600"))
    client = make_client(script, retry=RetryPolicy(total_budget=60, jitter=lambda d: d))
    with pytest.raises(RateLimitedError) as caught:
        await client.users.list()
    assert clock.sleeps == []
    assert caught.value.retry_after == 3600.0
    assert caught.value.cause == "rate_limited"
    assert len(script.requests) == 1


async def test_the_time_budget_bounds_the_sum_of_waits(
    make_client: Any, h: Any, clock: Any
) -> None:
    script = h.Script(*[h.fail(500, "UNEXPECTED_ERROR")] * 20)
    policy = RetryPolicy(
        max_attempts=20, base_delay=1, max_delay=8, total_budget=20, jitter=lambda d: d
    )
    client = make_client(script, retry=policy)
    with pytest.raises(ServerError):
        await client.apps.list()
    assert clock.sleeps == [1, 2, 4, 8]  # the next 8 would end after 20 s
    assert sum(clock.sleeps) <= 20


@pytest.mark.parametrize(
    ("exception", "kind"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "connect"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "dns"),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "tls"),
        (httpx.ConnectTimeout("timed out"), "connect_timeout"),
        (httpx.ReadTimeout("timed out"), "timeout"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "dropped"),
        (httpx.ReadError("connection reset"), "network"),
        (httpx.ProxyError("407 Proxy Authentication Required"), "proxy"),
    ],
)
async def test_transport_failures_are_retried_for_get_then_raised(
    make_client: Any, h: Any, exception: Exception, kind: str
) -> None:
    script = h.Script(*[exception] * 4)
    client = make_client(script)
    with pytest.raises(TransportError) as caught:
        await client.apps.list()
    error = caught.value
    assert len(script.requests) == 4
    assert error.context["kind"] == kind
    assert error.code == "APP-106"
    assert error.cause == "network_unreachable"
    assert (error.method, error.path, error.status) == ("GET", "/v1/apps", None)
    assert error.__cause__ is exception
    assert "api.test" in error.message


async def test_a_dropped_connection_then_success(make_client: Any, h: Any) -> None:
    script = h.Script(httpx.RemoteProtocolError("dropped"), h.ok(h.collection([h.app("1")])))
    client = make_client(script)
    apps = await client.apps.list()
    assert [a.id for a in apps] == ["1"]
    assert client.request_count == 2


async def test_unsupported_protocol_is_not_retried(make_client: Any, h: Any) -> None:
    script = h.Script(httpx.UnsupportedProtocol("no"), h.ok(h.collection([])))
    client = make_client(script)
    with pytest.raises(TransportError) as caught:
        await client.apps.list()
    assert caught.value.context["kind"] == "unsupported_protocol"
    assert len(script.requests) == 1


async def test_a_broken_content_encoding_is_unexpected_not_transport(
    make_client: Any, h: Any
) -> None:
    script = h.Script(httpx.DecodingError("bad gzip"))
    client = make_client(script)
    with pytest.raises(UnexpectedResponseError) as caught:
        await client.apps.list()
    assert caught.value.code == "APP-107"
    assert len(script.requests) == 1


# -- writes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(lambda h: h.fail(500, "UNEXPECTED_ERROR"), id="5xx"),
        pytest.param(lambda h: httpx.ReadTimeout("slow"), id="read-timeout"),
        pytest.param(lambda h: httpx.RemoteProtocolError("dropped"), id="dropped"),
    ],
)
async def test_creating_an_invitation_is_never_repeated_when_apple_may_have_acted(
    make_client: Any, h: Any, failure: Any
) -> None:
    script = h.Script(failure(h), h.ok(_invitation(h), status=201))
    client = make_client(script)
    with pytest.raises((ServerError, TransportError)):
        await client.invitations.create(**INVITE)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(lambda h: httpx.ConnectError("refused"), id="never-connected"),
        pytest.param(lambda h: httpx.ConnectTimeout("slow"), id="connect-timeout"),
        pytest.param(lambda h: h.fail(429, "RATE_LIMIT_EXCEEDED", Retry_After="2"), id="429"),
        pytest.param(lambda h: h.fail(401, "NOT_AUTHORIZED"), id="401-remint"),
    ],
)
async def test_creating_an_invitation_is_repeated_when_apple_provably_did_not_act(
    make_client: Any, h: Any, failure: Any
) -> None:
    script = h.Script(failure(h), h.ok(_invitation(h), status=201))
    client = make_client(script)
    invitation = await client.invitations.create(**INVITE)
    assert invitation.id == "inv-1"
    assert len(script.requests) == 2
    assert script.requests[0].content == script.requests[1].content


async def test_deleting_a_user_after_a_lost_answer_reports_404_distinctly(
    make_client: Any, h: Any
) -> None:
    script = h.Script(
        httpx.ReadTimeout("answer lost"),
        h.fail(404, "NOT_FOUND", detail="There is no resource of type 'users' with id 'u-1'"),
    )
    client = make_client(script)
    with pytest.raises(ResourceNotFoundError) as caught:
        await client.users.delete("u-1")
    assert [r.method for r in script.requests] == ["DELETE", "DELETE"]
    assert caught.value.context["after_retry"] is True
    assert "probably succeeded" in caught.value.message


async def test_a_plain_404_on_delete_is_not_marked_after_retry(make_client: Any, h: Any) -> None:
    client = make_client(h.Script(h.fail(404, "NOT_FOUND")))
    with pytest.raises(ResourceNotFoundError) as caught:
        await client.invitations.delete("inv-9")
    assert "after_retry" not in caught.value.context


async def test_replayable_writes_are_repeated_after_5xx(make_client: Any, h: Any) -> None:
    patched = {"data": h.user("u-1", roles=["APP_MANAGER"]), "links": {"self": "x"}}
    script = h.Script(
        h.fail(503),
        h.ok(patched),
        h.fail(500, "UNEXPECTED_ERROR"),
        httpx.Response(204),
        httpx.RemoteProtocolError("x"),
        httpx.Response(204),
        h.fail(502),
        httpx.Response(204),
    )
    client = make_client(script)
    updated = await client.users.update("u-1", roles=["APP_MANAGER"])
    assert updated.roles == ("APP_MANAGER",)
    await client.users.add_visible_apps("u-1", ["1"])
    await client.users.replace_visible_apps("u-1", ["1", "2"])
    await client.users.remove_visible_apps("u-1", ["2"])
    methods = [r.method for r in script.requests]
    assert methods == ["PATCH", "PATCH", "POST", "POST", "PATCH", "PATCH", "DELETE", "DELETE"]


async def test_conflict_after_a_repeated_write_is_marked(make_client: Any, h: Any) -> None:
    client = make_client(
        h.Script(httpx.ReadTimeout("lost"), h.fail(409, "ENTITY_ERROR.RELATIONSHIP.INVALID"))
    )
    with pytest.raises(ConflictError) as caught:
        await client.users.add_visible_apps("u-1", ["1"])
    assert caught.value.context["after_retry"] is True


async def test_4xx_is_never_retried(make_client: Any, h: Any) -> None:
    script = h.Script(h.fail(400, "PARAMETER_ERROR.INVALID"), h.ok(h.collection([])))
    client = make_client(script)
    with pytest.raises(Exception, match="PARAMETER_ERROR"):
        await client.users.list()
    assert len(script.requests) == 1


# -- 401 and tokens -----------------------------------------------------------------------


async def test_401_remints_the_token_once_and_resends(
    make_client: Any, h: Any, tokens: Any, clock: Any
) -> None:
    script = h.Script(h.fail(401, "NOT_AUTHORIZED"), h.ok(h.collection([])))
    client = make_client(script)
    await client.users.list()
    assert script.tokens_sent == ["Bearer fake-token-1", "Bearer fake-token-2"]
    assert tokens.invalidated == 1
    assert clock.sleeps == []


async def test_a_second_401_is_raised(make_client: Any, h: Any, tokens: Any) -> None:
    script = h.Script(*[h.fail(401, "NOT_AUTHORIZED")] * 5)
    client = make_client(script)
    with pytest.raises(AuthenticationError) as caught:
        await client.users.list()
    assert len(script.requests) == 2
    assert tokens.minted == 2
    assert caught.value.cause == "rejected"
    assert caught.value.code == "APP-101"


async def test_remint_happens_even_when_retries_are_off(make_client: Any, h: Any) -> None:
    script = h.Script(h.fail(401, "NOT_AUTHORIZED"), h.fail(500), h.ok(h.collection([])))
    client = make_client(script, retry=RetryPolicy.never())
    with pytest.raises(ServerError):
        await client.users.list()
    assert len(script.requests) == 2


async def test_every_attempt_is_rebuilt_with_the_current_token(
    make_client: Any, h: Any, tokens: Any
) -> None:
    script = h.Script(
        h.fail(401, "NOT_AUTHORIZED"),
        h.fail(503),
        lambda request: h.ok(h.collection([])),
    )
    client = make_client(script)
    await client.users.list()
    assert script.tokens_sent == [
        "Bearer fake-token-1",
        "Bearer fake-token-2",
        "Bearer fake-token-2",
    ]
    assert client.request_count == 3


async def test_a_long_retry_chain_does_not_recurse(make_client: Any, h: Any) -> None:
    script = h.Script(*[h.fail(503, Retry_After="0")] * 1500, h.ok(h.collection([])))
    policy = RetryPolicy(max_attempts=2000, total_budget=10, jitter=lambda d: d)
    client = make_client(script, retry=policy)
    assert await client.apps.list() == []
    assert client.request_count == 1501


async def test_the_budget_ends_retries_with_apples_own_error(make_client: Any, h: Any) -> None:
    exhausted = h.fail(
        429, "RATE_LIMIT_EXCEEDED", X_Rate_Limit="user-hour-lim:3600;user-hour-rem:0;"
    )
    script = h.Script(exhausted, h.ok(h.collection([])))
    client = make_client(script)
    with pytest.raises(RateLimitedError) as caught:
        await client.apps.list()
    assert len(script.requests) == 1
    assert caught.value.status == 429
    assert caught.value.apple_code == "RATE_LIMIT_EXCEEDED"
    assert caught.value.context["budget_stopped_retries"] is True
    assert caught.value.__cause__ is not None
    assert caught.value.__cause__.context["source"] == "budget"  # type: ignore[attr-defined]


# -- a 401 whose Date header shows our clock is off ----------------------------------------

_APPLE_NOW = 1_800_000_000.0  # Apple's clock in these tests (its Date header)


@pytest.mark.parametrize(
    ("local_minus_apple", "cause"),
    [
        (3600.0, "clock_skew"),  # an hour fast: our iat lies in Apple's future
        (120.0, "clock_skew"),
        (90.0, "rejected"),  # absorbed by back-dating iat: not the reason
        (-300.0, "rejected"),  # five minutes slow: the token is still valid at Apple
        (-600.0, "clock_skew"),  # ten minutes slow: expired on arrival
        (0.4, "rejected"),
    ],
)
async def test_a_401_names_clock_skew_only_when_the_date_header_explains_it(
    make_client: Any, h: Any, local_minus_apple: float, cause: str
) -> None:
    date = email.utils.formatdate(_APPLE_NOW, usegmt=True)
    script = h.Script(*[h.fail(401, "NOT_AUTHORIZED", date=date)] * 2)
    client = make_client(script, wall_clock=lambda: _APPLE_NOW + local_minus_apple)
    with pytest.raises(AuthenticationError) as caught:
        await client.apps.list()
    assert (caught.value.code, caught.value.cause) == ("APP-101", cause)
    if cause == "clock_skew":
        assert caught.value.context["clock_skew_seconds"] == pytest.approx(local_minus_apple)
        assert ("ahead of" if local_minus_apple > 0 else "behind") in caught.value.message
    else:
        assert "clock_skew_seconds" not in caught.value.context


async def test_a_401_without_a_date_header_stays_rejected(make_client: Any, h: Any) -> None:
    script = h.Script(*[h.fail(401, "NOT_AUTHORIZED")] * 2)
    client = make_client(script, wall_clock=lambda: 0.0)
    with pytest.raises(AuthenticationError) as caught:
        await client.apps.list()
    assert caught.value.cause == "rejected"
