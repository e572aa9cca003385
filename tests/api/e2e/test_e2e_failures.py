"""Failures over real HTTP: refusals, faults, retries, rate limits, a server that is not there."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from asc_access.api import PacingBudget, RetryPolicy
from asc_access.errors import (
    AgreementsError,
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    RateLimitSnapshot,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)


class NoBudget:
    """A rate budget that never waits (to let Apple's own 429 through)."""

    async def before_request(self, key_id: str) -> None:
        return None

    def observe(self, key_id: str, snapshot: RateLimitSnapshot) -> None:
        return None


async def test_developer_key_reads_apps_but_not_users(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox, key="developer")
    assert len(await client.apps.list()) == 6
    with pytest.raises(PermissionDeniedError) as caught:
        await client.users.list()
    assert (caught.value.code, caught.value.cause) == ("APP-102", "key_role_insufficient")
    assert caught.value.apple_code == "FORBIDDEN_ERROR"
    assert caught.value.request_id
    assert caught.value.rate_limit is not None
    assert client.request_count == 2


async def test_revoked_key_is_reminted_once_then_refused(
    sandbox: Any, connect: Any, tokens_for: Any
) -> None:
    tokens = tokens_for(sandbox, "revoked")
    client = connect(sandbox, tokens=tokens)
    with pytest.raises(AuthenticationError) as caught:
        await client.apps.list()
    assert (caught.value.code, caught.value.cause) == ("APP-101", "rejected")
    assert caught.value.apple_code == "NOT_AUTHORIZED"
    assert client.request_count == 2
    assert tokens.minted == 2
    assert client.key_id == sandbox.keys["revoked"].key_id


async def test_agreements_block_every_call(sandbox: Any, connect: Any) -> None:
    sandbox.set_agreements(False)
    client = connect(sandbox)
    with pytest.raises(AgreementsError) as caught:
        await client.apps.list()
    assert (caught.value.code, caught.value.cause) == ("APP-103", "agreements_missing")
    assert client.request_count == 1


async def test_server_errors_are_retried_then_succeed(
    sandbox: Any, connect: Any, quick_sleep: Any
) -> None:
    sandbox.add_fault(status=503, count=2, path_prefix="/v1/apps", method="GET")
    client = connect(sandbox)
    assert len(await client.apps.list()) == 6
    assert client.request_count == 3
    assert quick_sleep.waits == [0.5, 1.0]
    assert sandbox.stats()["by_status"] == {"503": 2, "200": 1}


async def test_retry_after_from_the_server_is_honoured(
    sandbox: Any, connect: Any, quick_sleep: Any
) -> None:
    sandbox.add_fault(status=429, count=1, retry_after=3, path_prefix="/v1/users")
    client = connect(sandbox)
    assert len(await client.users.list()) == 12
    assert quick_sleep.waits == [3.0]


async def test_server_errors_exhaust_the_retries(sandbox: Any, connect: Any) -> None:
    sandbox.add_fault(status=500, path_prefix="/v1/userInvitations")
    client = connect(sandbox, retry=RetryPolicy(max_attempts=3, jitter=lambda d: d))
    with pytest.raises(ServerError) as caught:
        await client.invitations.list()
    assert caught.value.context["attempts"] == 3
    assert caught.value.apple_code == "UNEXPECTED_ERROR"
    assert sandbox.stats()["requests"] == 3


async def test_a_dropped_connection_is_retried_for_reads(sandbox: Any, connect: Any) -> None:
    sandbox.add_fault(drop=True, count=1, path_prefix="/v1/apps")
    client = connect(sandbox)
    assert len(await client.apps.list()) == 6
    assert client.request_count == 2


async def test_an_invitation_is_not_resent_after_a_dropped_connection(
    sandbox: Any, connect: Any
) -> None:
    sandbox.add_fault(drop=True, count=1, path_prefix="/v1/userInvitations", method="POST")
    client = connect(sandbox)
    with pytest.raises(TransportError) as caught:
        await client.invitations.create(
            email="dropped@example.org", first_name="D", last_name="C", roles=["DEVELOPER"]
        )
    assert caught.value.context["kind"] in {"dropped", "network"}
    assert (caught.value.method, caught.value.path) == ("POST", "/v1/userInvitations")
    assert client.request_count == 1
    assert await client.invitations.list(email="dropped@example.org") == []


async def test_an_invitation_is_not_resent_after_a_server_error(sandbox: Any, connect: Any) -> None:
    sandbox.add_fault(status=500, count=1, path_prefix="/v1/userInvitations", method="POST")
    client = connect(sandbox)
    with pytest.raises(ServerError):
        await client.invitations.create(
            email="failed@example.org", first_name="F", last_name="S", roles=["DEVELOPER"]
        )
    assert sandbox.stats()["by_route"] == {"POST /v1/userInvitations": 1}


async def test_a_delete_is_repeated_after_a_server_error(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox)
    (ella, _lucas) = await client.invitations.list(sort="email")
    sandbox.add_fault(status=503, count=1, path_prefix="/v1/userInvitations/", method="DELETE")
    await client.invitations.delete(ella.id)
    assert [i.first_name for i in await client.invitations.list()] == ["Lucas"]


async def test_a_malformed_body_is_unexpected(sandbox: Any, connect: Any) -> None:
    sandbox.add_fault(malformed=True, count=1, path_prefix="/v1/apps")
    client = connect(sandbox)
    with pytest.raises(UnexpectedResponseError) as caught:
        await client.apps.list()
    assert (caught.value.code, caught.value.status) == ("APP-107", 200)
    assert client.request_count == 1


async def test_a_slow_answer_times_out(sandbox: Any, connect: Any) -> None:
    sandbox.add_fault(latency_ms=1500, path_prefix="/v1/apps")
    client = connect(sandbox, timeout=0.3, retry=RetryPolicy(max_attempts=2, jitter=lambda d: d))
    with pytest.raises(TransportError) as caught:
        await client.apps.list()
    assert caught.value.context["kind"] == "timeout"
    assert client.request_count == 2


async def test_nobody_listening(connect: Any, sandbox: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = connect(sandbox, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(TransportError) as caught:
        await client.apps.list()
    assert (caught.value.code, caught.value.cause) == ("APP-106", "network_unreachable")
    assert caught.value.context["kind"] == "connect"
    assert client.request_count == 4
    assert client.last_response is None


async def test_the_pacer_stops_before_apples_limit(
    sandbox: Any, connect: Any, quick_sleep: Any
) -> None:
    sandbox.set_rate_limit(20)
    budget = PacingBudget(reserve=5, slow_fraction=0.5, max_delay=1.0, sleep=quick_sleep)
    client = connect(sandbox, budget=budget)

    async def spend(requests: int) -> None:
        for _ in range(requests):
            await client.apps.list(limit=1, fields="name")

    with pytest.raises(RateLimitedError) as caught:
        await spend(30)
    assert caught.value.context["source"] == "budget"
    assert caught.value.rate_limit == RateLimitSnapshot(20, 5)
    assert sandbox.stats()["by_status"] == {"200": 15}
    assert quick_sleep.waits == sorted(quick_sleep.waits)
    assert len(quick_sleep.waits) >= 4


async def test_apples_429_is_raised_after_the_retries(sandbox: Any, connect: Any) -> None:
    sandbox.set_rate_limit(2)
    client = connect(
        sandbox, budget=NoBudget(), retry=RetryPolicy(max_attempts=3, jitter=lambda d: d)
    )
    await client.apps.list()
    await client.apps.list()
    with pytest.raises(RateLimitedError) as caught:
        await client.apps.list()
    assert caught.value.status == 429
    assert caught.value.apple_code == "RATE_LIMIT_EXCEEDED"
    assert caught.value.rate_limit == RateLimitSnapshot(2, 0)
    assert sandbox.stats()["by_status"] == {"200": 2, "429": 3}
