"""X-Rate-Limit and Retry-After parsing, and the pacing budget."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asc_access.api import PacingBudget, RateBudget, parse_rate_limit, parse_retry_after
from asc_access.errors import RateLimitedError, RateLimitSnapshot

NOW = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "limit", "remaining", "extra"),
    [
        ("user-hour-lim:3600;user-hour-rem:3599;", 3600, 3599, ()),
        ("user-hour-rem:12;user-hour-lim:3500", 3500, 12, ()),
        (" User-Hour-Lim : 3600 ; user-hour-rem:0 ; ", 3600, 0, ()),
        ("user-hour-lim:3600;burst-lim:10;user-hour-rem:5;", 3600, 5, (("burst-lim", "10"),)),
        ("user-hour-lim:lots;user-hour-rem:-1;", None, None, ()),
        ("garbage;user-hour-rem:7;;:;x", None, 7, ()),
        ("user-hour-rem:7;user-hour-rem:9;", None, 7, ()),
    ],
)
def test_rate_limit_header_is_parsed_by_key(
    header: str, limit: int | None, remaining: int | None, extra: tuple[tuple[str, str], ...]
) -> None:
    assert parse_rate_limit(header) == RateLimitSnapshot(limit, remaining, extra)


@pytest.mark.parametrize("header", [None, "", "garbage", ";;;", ":5"])
def test_rate_limit_header_without_pairs_is_none(header: str | None) -> None:
    assert parse_rate_limit(header) is None


@given(st.text())
def test_rate_limit_parsing_never_raises(header: str) -> None:
    snapshot = parse_rate_limit(header)
    if snapshot is not None:
        assert snapshot.limit is None or snapshot.limit >= 0
        assert snapshot.remaining is None or snapshot.remaining >= 0
        assert len(snapshot.extra) <= 16


@given(
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z][a-z-]{0,15}", fullmatch=True).filter(
                lambda k: k not in {"user-hour-lim", "user-hour-rem"}
            ),
            st.from_regex(r"[A-Za-z0-9]{0,10}", fullmatch=True),
        ),
        max_size=5,
    ),
    st.randoms(),
)
def test_rate_limit_figures_survive_extra_pairs_in_any_order(
    limit: int, remaining: int, extra: list[tuple[str, str]], rnd: Any
) -> None:
    pairs = [f"user-hour-lim:{limit}", f"user-hour-rem:{remaining}"]
    pairs += [f"{k}:{v}" for k, v in extra]
    rnd.shuffle(pairs)
    snapshot = parse_rate_limit(";".join(pairs) + ";")
    assert snapshot is not None
    assert (snapshot.limit, snapshot.remaining) == (limit, remaining)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        (str(int((NOW + timedelta(seconds=45)).timestamp() * 1000)), 45.0),
        (str(int((NOW + timedelta(seconds=20)).timestamp())), 20.0),
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
        ("1e3", None),
        ("١٢", None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@given(st.text())
def test_retry_after_never_raises_and_is_never_negative(value: str) -> None:
    seconds = parse_retry_after(value, now=NOW)
    assert seconds is None or seconds >= 0


EARLIEST = datetime(1970, 1, 2)  # noqa: DTZ001 - hypothesis wants naive bounds


@given(st.datetimes(timezones=st.just(UTC), min_value=EARLIEST, allow_imaginary=False))
def test_retry_after_http_dates_round_trip(when: datetime) -> None:
    when = when.replace(microsecond=0)
    expected = max(0.0, (when - NOW).total_seconds())
    assert parse_retry_after(format_datetime(when, usegmt=True), now=NOW) == expected


# -- pacing -------------------------------------------------------------------------------


def _snapshot(remaining: int, limit: int = 3600) -> RateLimitSnapshot:
    return RateLimitSnapshot(limit=limit, remaining=remaining)


async def test_pacer_does_nothing_without_figures(clock: Any) -> None:
    budget = PacingBudget(sleep=clock.sleep, clock=clock)
    assert isinstance(budget, RateBudget)
    await budget.before_request("K")
    budget.observe("K", RateLimitSnapshot(limit=None, remaining=None))
    await budget.before_request("K")
    assert clock.sleeps == []
    assert budget.snapshot("K") is None


async def test_pacer_slows_progressively_as_the_budget_runs_low(clock: Any) -> None:
    budget = PacingBudget(
        reserve=50, slow_fraction=0.1, max_delay=2.0, sleep=clock.sleep, clock=clock
    )
    delays = []
    for remaining in (3000, 360, 300, 200, 100, 51):
        budget.observe("K", _snapshot(remaining))
        before = len(clock.sleeps)
        await budget.before_request("K")
        delays.append(clock.sleeps[before] if len(clock.sleeps) > before else 0.0)
    assert delays[0] == 0.0
    assert delays[1] == 0.0
    assert all(a < b for a, b in itertools.pairwise(delays[1:]))
    assert delays[-1] <= 2.0


async def test_pacer_refuses_inside_the_reserve_and_probes_later(clock: Any) -> None:
    budget = PacingBudget(reserve=50, probe_after=60, sleep=clock.sleep, clock=clock)
    budget.observe("K", _snapshot(50))
    with pytest.raises(RateLimitedError) as caught:
        await budget.before_request("K")
    assert caught.value.cause == "rate_limited"
    assert caught.value.code == "APP-104"
    assert caught.value.rate_limit == _snapshot(50)
    assert caught.value.retry_after == 60
    clock.now += 61
    await budget.before_request("K")  # one probe to refresh the figures
    with pytest.raises(RateLimitedError):
        await budget.before_request("K")
    await budget.before_request("OTHER")  # budgets are per key


async def test_pacer_counts_requests_sent_since_the_last_figures(clock: Any) -> None:
    budget = PacingBudget(reserve=5, slow_fraction=0, max_delay=0, sleep=clock.sleep, clock=clock)
    budget.observe("K", _snapshot(8))
    for _ in range(3):
        await budget.before_request("K")
    assert budget.estimated_remaining("K") == 5
    with pytest.raises(RateLimitedError):
        await budget.before_request("K")


async def test_client_stops_before_the_reserve_without_sending(
    make_client: Any, h: Any, tokens: Any
) -> None:
    low = h.ok(h.collection([]), X_Rate_Limit="user-hour-lim:3600;user-hour-rem:10;")
    script = h.Script(low, h.ok(h.collection([])))
    client = make_client(script)
    assert client.key_id == tokens.key_id
    await client.apps.list()
    with pytest.raises(RateLimitedError) as caught:
        await client.users.list()
    assert len(script.requests) == 1
    assert client.request_count == 1
    assert (caught.value.method, caught.value.path) == ("GET", "/v1/users")
    assert caught.value.rate_limit == RateLimitSnapshot(3600, 10)
    assert caught.value.context["source"] == "budget"


async def test_client_reports_to_a_custom_budget_by_key_id(make_client: Any, h: Any) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple[str, Any]] = []

        async def before_request(self, key_id: str) -> None:
            self.calls.append(("before", key_id))

        def observe(self, key_id: str, snapshot: RateLimitSnapshot) -> None:
            self.calls.append(("observe", (key_id, snapshot.remaining)))

    recorder = Recorder()
    client = make_client(
        h.Script(h.fail(503), h.ok(h.collection([]))), budget=recorder, key_id="EXPLICIT01"
    )
    await client.apps.list()
    assert recorder.calls == [
        ("before", "EXPLICIT01"),
        ("observe", ("EXPLICIT01", 3500)),
        ("before", "EXPLICIT01"),
        ("observe", ("EXPLICIT01", 3500)),
    ]
