"""The shared per-key rate budget against the real Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis import Redis

from asc_access.errors import RateLimitedError, RateLimitSnapshot
from asc_access.workers.budget import RedisRateBudget


class FakeTime:
    """A wall clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _budget(
    redis_url: str, prefix: str, fake: FakeTime | None = None, **options: Any
) -> RedisRateBudget:
    client: Redis[Any] = Redis.from_url(redis_url)
    if fake is not None:
        options.setdefault("clock", fake.clock)
        options.setdefault("sleep", fake.sleep)
    return RedisRateBudget(client, key_prefix=prefix, **options)


async def _admitted(budget: RedisRateBudget, key: str, attempts: int) -> int:
    count = 0
    for _ in range(attempts):
        try:
            await budget.before_request(key)
        except RateLimitedError:
            break
        budget.observe(key, RateLimitSnapshot(limit=None, remaining=None))  # frees the slot
        count += 1
    return count


async def test_stops_before_the_reserve_across_workers(redis_url: str, redis_prefix: str) -> None:
    fake = FakeTime()
    one = _budget(redis_url, redis_prefix, fake, reserve=50)
    two = _budget(redis_url, redis_prefix, fake, reserve=50)  # another worker, own connection
    one.observe("KEY1", RateLimitSnapshot(limit=100, remaining=61))
    # Admitted in turns by two workers: 61 - 50 = 11 requests between them, not 11 each.
    admitted = 0
    for budget in [one, two] * 10:
        admitted += await _admitted(budget, "KEY1", 1)
    assert admitted == 11
    with pytest.raises(RateLimitedError) as caught:
        await two.before_request("KEY1")
    error = caught.value
    assert error.code == "APP-104"
    assert error.cause == "rate_limited"
    assert error.rate_limit is not None
    assert error.rate_limit.limit == 100
    assert error.retry_after == one.probe_after
    # Another key is untouched by KEY1's exhaustion.
    assert await _admitted(one, "KEY2", 5) == 5


async def test_an_out_of_order_response_cannot_inflate_the_estimate(
    redis_url: str, redis_prefix: str
) -> None:
    fake = FakeTime()
    budget = _budget(redis_url, redis_prefix, fake, reserve=0, refresh_after=10.0)
    budget.observe("K", RateLimitSnapshot(limit=100, remaining=60))
    budget.observe("K", RateLimitSnapshot(limit=100, remaining=80))  # older response, late
    assert budget.state("K").estimated_remaining == 60
    budget.observe("K", RateLimitSnapshot(limit=100, remaining=40))
    assert budget.state("K").estimated_remaining == 40
    fake.now += 11  # past the refresh interval, a fresh figure is taken as it is
    budget.observe("K", RateLimitSnapshot(limit=100, remaining=90))
    assert budget.state("K").estimated_remaining == 90


async def test_requests_in_flight_count_against_a_fresh_figure(
    redis_url: str, redis_prefix: str
) -> None:
    fake = FakeTime()
    budget = _budget(redis_url, redis_prefix, fake, reserve=0, max_in_flight=4)
    budget.observe("K", RateLimitSnapshot(limit=100, remaining=50))
    for _ in range(3):
        await budget.before_request("K")
    # The first answer comes back; two requests are still out and Apple may not
    # have counted them yet: they are assumed spent.
    fake.now += 11
    budget.observe("K", RateLimitSnapshot(limit=100, remaining=49))
    assert budget.state("K").estimated_remaining == 47
    assert budget.state("K").in_flight == 2


async def test_paces_a_key_as_its_budget_runs_low(redis_url: str, redis_prefix: str) -> None:
    fake = FakeTime()
    budget = _budget(redis_url, redis_prefix, fake, reserve=50, slow_fraction=0.1, max_delay=2.0)
    # limit 1000: slowing starts below max(51, 100) = 100 left; 75 left is half way
    # to the reserve, so the key's requests are spaced 1 s apart.
    budget.observe("K", RateLimitSnapshot(limit=1000, remaining=75))
    await budget.before_request("K")
    await budget.before_request("K")
    await budget.before_request("K")
    # The first goes at once; then 1 s (set at 75 left), then 1.04 s (set at 74 left).
    assert fake.sleeps == [pytest.approx(1.0), pytest.approx(1.04)]
    # Plenty left: no waiting at all.
    budget.observe("OTHER", RateLimitSnapshot(limit=1000, remaining=900))
    before = len(fake.sleeps)
    for _ in range(3):
        await budget.before_request("OTHER")
    assert len(fake.sleeps) == before


async def test_refuses_rather_than_wait_too_long(redis_url: str, redis_prefix: str) -> None:
    fake = FakeTime()
    waits: list[float] = []

    async def sleep_without_time_passing(seconds: float) -> None:
        waits.append(seconds)

    budget = _budget(
        redis_url,
        redis_prefix,
        fake,
        reserve=0,
        min_interval=10.0,
        max_wait=25.0,
        sleep=sleep_without_time_passing,
    )
    for _ in range(3):  # many workers at once queue up for slots at +0, +10, +20
        await budget.before_request("K")
    assert waits == [10.0, 20.0]
    with pytest.raises(RateLimitedError, match="wait"):
        await budget.before_request("K")  # would be +30 > 25


async def test_own_requests_come_back_as_they_leave_the_window(
    redis_url: str, redis_prefix: str
) -> None:
    fake = FakeTime()
    budget = _budget(redis_url, redis_prefix, fake, reserve=50, window=10.0, probe_after=600)
    budget.observe("K", RateLimitSnapshot(limit=100, remaining=55))
    assert await _admitted(budget, "K", 20) == 5
    fake.now += 10.5  # those five are now older than the (shortened) window
    assert await _admitted(budget, "K", 20) == 5


async def test_probes_once_after_a_quiet_spell(redis_url: str, redis_prefix: str) -> None:
    fake = FakeTime()
    budget = _budget(redis_url, redis_prefix, fake, reserve=50, probe_after=60.0)
    budget.observe("K", RateLimitSnapshot(limit=100, remaining=50))
    with pytest.raises(RateLimitedError):
        await budget.before_request("K")
    fake.now += 61
    await budget.before_request("K")  # the probe goes out ...
    with pytest.raises(RateLimitedError):
        await budget.before_request("K")  # ... alone
    budget.observe("K", RateLimitSnapshot(limit=100, remaining=90))  # the hour has rolled on
    assert await _admitted(budget, "K", 100) == 40


async def test_a_request_that_never_reports_back_frees_its_slot(
    redis_url: str, redis_prefix: str
) -> None:
    fake = FakeTime()
    budget = _budget(redis_url, redis_prefix, fake, max_in_flight=1, in_flight_expiry=5.0, poll=0.5)
    await budget.before_request("K")  # e.g. a transport error: no X-Rate-Limit, no observe
    await budget.before_request("K")  # waits for the entry to age out
    assert sum(fake.sleeps) >= 5.0


async def test_caps_requests_in_flight_per_key_while_keys_run_in_parallel(
    redis_url: str, redis_prefix: str
) -> None:
    workers = [_budget(redis_url, redis_prefix, max_in_flight=2, poll=0.005) for _ in range(3)]
    in_flight: dict[str, int] = {"A": 0, "B": 0}
    peak: dict[str, int] = {"A": 0, "B": 0}
    both_at_once = 0

    async def request(budget: RedisRateBudget, key: str) -> None:
        nonlocal both_at_once
        await budget.before_request(key)
        in_flight[key] += 1
        peak[key] = max(peak[key], in_flight[key])
        if in_flight["A"] and in_flight["B"]:
            both_at_once += 1
        await asyncio.sleep(0.01)
        in_flight[key] -= 1
        budget.observe(key, RateLimitSnapshot(limit=3600, remaining=3000))

    await asyncio.gather(*(request(workers[i % 3], key) for i in range(20) for key in ("A", "B")))
    assert peak == {"A": 2, "B": 2}
    assert both_at_once > 0
