"""A rate budget per API key shared by every worker, kept in Redis.

It satisfies the API client's ``RateBudget`` protocol (``async
before_request(key_id)`` before each request, ``observe(key_id, snapshot)`` with
each response's ``X-Rate-Limit``), so N workers syncing connections that share a
key spend one budget between them, while different keys never wait for each other.

Per key, two Lua scripts keep (atomically, in Redis):

- ``est``: the estimated requests left in Apple's rolling hour. Each admitted
  request takes one; each observed ``user-hour-rem`` replaces it (minus the
  requests still in flight, which Apple may not have counted yet). Between
  refreshes an observation can only lower it, so an out-of-order response never
  inflates it. Our own requests leave Apple's window an hour after they were
  sent; the script adds them back as they age out.
- an in-flight set: at most ``max_in_flight`` requests of one key at a time
  across all workers (Apple answers bursts with 429 even when the hour is fine).
- a pacing slot: when ``est`` falls below ``slow_fraction`` of the limit, the
  key's requests (from all workers together) are spaced up to ``max_delay``
  seconds apart, the wider the closer to the reserve - the shared analogue of the
  client's in-memory ``PacingBudget``, with the same defaults.

When only ``reserve`` requests are left, or pacing would make a request wait
longer than ``max_wait`` seconds, :meth:`RedisRateBudget.before_request` raises
``RateLimitedError`` (APP-104) instead of spending the reserve; after
``probe_after`` seconds without news, one request may go to learn the new figure.
Entries of requests that never reported back (a transport error has no
``X-Rate-Limit``) leave the in-flight set after ``in_flight_expiry`` seconds.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis

from asc_access.errors import RateLimitedError, RateLimitSnapshot

__all__ = ["BudgetState", "RedisRateBudget"]

_ADMITTED, _BUSY, _EXHAUSTED, _TOO_SLOW = 0, 1, 2, 3

# KEYS: state hash, in-flight zset, sent zset
# ARGV: now_ms, max_in_flight, reserve, inflight_expiry_ms, member, slow_fraction,
#       window_ms, min_interval_ms, max_wait_ms, probe_after_ms, max_delay_ms
_ACQUIRE = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[7])
redis.call('zremrangebyscore', KEYS[2], '-inf', now - tonumber(ARGV[4]))
if redis.call('zcard', KEYS[2]) >= tonumber(ARGV[2]) then
  return {1, 0}
end
local state = redis.call('hmget', KEYS[1], 'est', 'lim', 'next', 'obs', 'refill', 'probe')
local est = tonumber(state[1])
local lim = tonumber(state[2]) or 0
local nxt = tonumber(state[3]) or 0
local news = math.max(tonumber(state[4]) or 0, tonumber(state[6]) or 0)
local refill = tonumber(state[5])
local cutoff = now - window
if est ~= nil and refill ~= nil and cutoff > refill then
  est = est + redis.call('zcount', KEYS[3], '(' .. refill, cutoff)
  redis.call('hset', KEYS[1], 'refill', cutoff)
end
redis.call('zremrangebyscore', KEYS[3], '-inf', cutoff)
local reserve = tonumber(ARGV[3])
local probe = false
if est ~= nil and est <= reserve then
  if now - news < tonumber(ARGV[10]) then
    redis.call('hset', KEYS[1], 'est', est)
    return {2, est}
  end
  -- No news for a while: let one request through; its answer resets 'est'.
  probe = true
  redis.call('hset', KEYS[1], 'probe', now, 'obs', 0)
end
local interval = tonumber(ARGV[8])
if est ~= nil and not probe then
  -- Slow down as the budget runs low: the deeper below 'slow_below', the wider
  -- the spacing of this key's requests (all workers share the slots).
  local slow_below = math.max(reserve + 1, math.floor(tonumber(ARGV[6]) * lim))
  if est < slow_below then
    local depth = math.min(1, (slow_below - est) / math.max(1, slow_below - reserve))
    local spread = math.floor(tonumber(ARGV[11]) * depth)
    if spread > interval then interval = spread end
  end
end
local slot = math.max(now, nxt)
if slot - now > tonumber(ARGV[9]) then
  if est ~= nil then redis.call('hset', KEYS[1], 'est', est) end
  return {3, slot - now}
end
redis.call('hset', KEYS[1], 'next', slot + interval)
if est ~= nil then redis.call('hset', KEYS[1], 'est', est - 1) end
redis.call('zadd', KEYS[2], now, ARGV[5])
redis.call('zadd', KEYS[3], now, ARGV[5])
for i = 1, 3 do redis.call('pexpire', KEYS[i], window * 2) end
if ARGV[12] ~= '' and redis.call('zscore', KEYS[4], ARGV[12]) then
  -- one request of an admitted sync: its hold shrinks by one
  if tonumber(redis.call('zincrby', KEYS[4], -1, ARGV[12])) <= 0 then
    redis.call('zrem', KEYS[4], ARGV[12])
  end
end
return {0, slot - now}
"""

# KEYS: state hash, sent zset, holds zset (ticket -> requests still held), hold expiry zset
# ARGV: now_ms, reserve, cost, ticket, window_ms, hold_ttl_ms
_ADMIT = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[5])
for _, dead in ipairs(redis.call('zrangebyscore', KEYS[4], '-inf', now)) do
  redis.call('zrem', KEYS[3], dead)
end
redis.call('zremrangebyscore', KEYS[4], '-inf', now)
if redis.call('zscore', KEYS[4], ARGV[4]) then return {0, 0} end
local state = redis.call('hmget', KEYS[1], 'est', 'refill')
local est = tonumber(state[1])
local refill = tonumber(state[2])
local cutoff = now - window
if est ~= nil and refill ~= nil and cutoff > refill then
  est = est + redis.call('zcount', KEYS[2], '(' .. refill, cutoff)
  redis.call('hset', KEYS[1], 'est', est, 'refill', cutoff)
end
redis.call('zremrangebyscore', KEYS[2], '-inf', cutoff)
local cost = tonumber(ARGV[3])
local held = 0
local holds = redis.call('zrange', KEYS[3], 0, -1, 'WITHSCORES')
for i = 2, #holds, 2 do held = held + tonumber(holds[i]) end
local short = 0
if est ~= nil then short = cost - (est - held - tonumber(ARGV[2])) end
if short <= 0 then
  redis.call('zadd', KEYS[3], cost, ARGV[4])
  redis.call('zadd', KEYS[4], now + tonumber(ARGV[6]), ARGV[4])
  redis.call('pexpire', KEYS[3], window * 2)
  redis.call('pexpire', KEYS[4], window * 2)
  return {0, 0}
end
-- deferred: until the short-th oldest of our requests leaves the window
local sent = redis.call('zrange', KEYS[2], short - 1, short - 1, 'WITHSCORES')
if #sent == 2 then return {1, math.max(0, tonumber(sent[2]) + window - now)} end
return {1, window}
"""

# KEYS: state hash, in-flight zset
# ARGV: now_ms, limit (-1 unknown), remaining (-1 unknown), refresh_ms, window_ms
_OBSERVE = """
local now = tonumber(ARGV[1])
redis.call('zpopmin', KEYS[2], 1)
local rem = tonumber(ARGV[3])
if tonumber(ARGV[2]) >= 0 then redis.call('hset', KEYS[1], 'lim', ARGV[2]) end
if rem >= 0 then
  local candidate = rem - redis.call('zcard', KEYS[2])
  local state = redis.call('hmget', KEYS[1], 'est', 'obs')
  local est = tonumber(state[1])
  local obs = tonumber(state[2]) or 0
  if est == nil or now - obs >= tonumber(ARGV[4]) then
    redis.call('hset', KEYS[1], 'est', candidate, 'obs', now,
               'refill', now - tonumber(ARGV[5]))
  elseif candidate < est then
    redis.call('hset', KEYS[1], 'est', candidate)
  end
end
redis.call('pexpire', KEYS[1], tonumber(ARGV[5]) * 2)
return 1
"""


@dataclass(frozen=True)
class BudgetState:
    """What the shared budget knows about one key (for health output and benchmarks)."""

    key_id: str
    limit: int | None
    estimated_remaining: int | None
    in_flight: int

    def as_dict(self) -> dict[str, int | str | None]:
        """JSON-ready copy."""
        return {
            "key_id": self.key_id,
            "limit": self.limit,
            "estimated_remaining": self.estimated_remaining,
            "in_flight": self.in_flight,
        }


class RedisRateBudget:
    """The ``RateBudget`` of the API client, shared through Redis by all workers."""

    def __init__(
        self,
        client: Redis[Any],
        *,
        key_prefix: str = "asc-access:",
        max_in_flight: int = 4,
        reserve: int = 50,
        slow_fraction: float = 0.1,
        max_delay: float = 2.0,
        min_interval: float = 0.0,
        max_wait: float = 30.0,
        probe_after: float = 60.0,
        in_flight_expiry: float = 15.0,
        refresh_after: float = 10.0,
        window: float = 3600.0,
        poll: float = 0.02,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._client = client
        self._prefix = key_prefix
        self.max_in_flight = max_in_flight
        self.reserve = reserve
        self.slow_fraction = slow_fraction
        self.max_delay = max_delay
        self.in_flight_expiry = in_flight_expiry
        self.min_interval = min_interval
        self.max_wait = max_wait
        self.probe_after = probe_after
        self.refresh_after = refresh_after
        self.window = window
        self.poll = poll
        self._clock = clock
        self._sleep = sleep
        self._acquire = client.register_script(_ACQUIRE)
        self._observe = client.register_script(_OBSERVE)
        self._admit = client.register_script(_ADMIT)
        #: The admitted sync whose hold this budget's requests draw down (see ``admit``).
        self.ticket: str | None = None

    def _keys(self, key_id: str) -> list[str]:
        base = f"{self._prefix}budget:{key_id}"
        return [base, base + ":inflight", base + ":sent", base + ":holds", base + ":holds-ttl"]

    def admit(self, key_id: str, cost: int, ticket: str) -> float | None:
        """Hold ``cost`` requests of the key for sync ``ticket`` across all workers.

        ``None`` when held (this budget's requests then draw the hold down), else the
        seconds until enough of the rolling hour has refilled (nothing held).
        """
        state, _, sent, holds, ttl = self._keys(key_id)
        # Admission counts our requests as in Apple's window a little longer than the
        # pacing does: our send time precedes Apple's arrival time, so at the edge of
        # the window Apple may not have refilled yet when our clock says it has, and
        # a sync admitted on that edge would then be refused part-way.
        margin = max(0.25, 0.005 * self.window)
        status, value = self._admit(
            keys=[state, sent, holds, ttl],
            args=[
                self._now_ms(),
                self.reserve,
                cost,
                ticket,
                int((self.window + margin) * 1000),
                int(self.window * 1000),
            ],
        )
        if int(status) != 0:
            return int(value) / 1000
        self.ticket = ticket
        return None

    def release(self, key_id: str, ticket: str) -> None:
        """Drop what is left of sync ``ticket``'s hold."""
        _, _, _, holds, ttl = self._keys(key_id)
        self._client.zrem(holds, ticket)
        self._client.zrem(ttl, ticket)
        if self.ticket == ticket:
            self.ticket = None

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def before_request(self, key_id: str) -> None:
        """Wait for a slot for one request with ``key_id``, or raise APP-104."""
        waited = 0.0
        while True:
            member = f"{self._now_ms()}-{secrets.token_hex(6)}"
            state_key, inflight, sent, holds, _ = self._keys(key_id)
            status, value = self._acquire(
                keys=[state_key, inflight, sent, holds],
                args=[
                    self._now_ms(),
                    self.max_in_flight,
                    self.reserve,
                    int(self.in_flight_expiry * 1000),
                    member,
                    self.slow_fraction,
                    int(self.window * 1000),
                    int(self.min_interval * 1000),
                    int(self.max_wait * 1000),
                    int(self.probe_after * 1000),
                    int(self.max_delay * 1000),
                    self.ticket or "",
                ],
            )
            status, value = int(status), int(value)
            if status == _ADMITTED:
                if value > 0:
                    await self._sleep(value / 1000)
                return
            if status == _BUSY and waited < self.max_wait + self.in_flight_expiry:
                await self._sleep(self.poll)
                waited += self.poll
                continue
            raise self._refusal(key_id, status, value)

    def _refusal(self, key_id: str, status: int, value: int) -> RateLimitedError:
        state = self.state(key_id)
        snapshot = RateLimitSnapshot(limit=state.limit, remaining=state.estimated_remaining)
        if status == _EXHAUSTED:
            message = (
                f"stopped before spending the last {self.reserve} requests of key "
                f"{key_id}'s hourly budget (about {value} left); try again later"
            )
        elif status == _TOO_SLOW:
            message = (
                f"key {key_id}'s hourly budget is nearly spent: the next request would "
                f"have to wait {value / 1000:.0f} s; try again later"
            )
        else:
            message = f"key {key_id} had {self.max_in_flight} requests in flight for too long"
        retry_after = self.probe_after if status == _EXHAUSTED else value / 1000
        return RateLimitedError(
            message,
            cause="rate_limited",
            rate_limit=snapshot,
            retry_after=retry_after,
            context={"key_id": key_id, "shared_budget": True},
        )

    def observe(self, key_id: str, snapshot: RateLimitSnapshot | None) -> None:
        """Record a response of ``key_id`` and the ``X-Rate-Limit`` it carried."""
        limit = -1 if snapshot is None or snapshot.limit is None else snapshot.limit
        remaining = -1 if snapshot is None or snapshot.remaining is None else snapshot.remaining
        self._observe(
            keys=self._keys(key_id)[:2],
            args=[
                self._now_ms(),
                limit,
                remaining,
                int(self.refresh_after * 1000),
                int(self.window * 1000),
            ],
        )

    def state(self, key_id: str) -> BudgetState:
        """What the shared budget knows about ``key_id`` now."""
        state_key, inflight_key = self._keys(key_id)[:2]
        pipe = self._client.pipeline()
        pipe.hmget(state_key, ["lim", "est"])
        pipe.zcard(inflight_key)
        (lim, est), in_flight = pipe.execute()
        return BudgetState(
            key_id=key_id,
            limit=int(lim) if lim is not None else None,
            estimated_remaining=int(est) if est is not None else None,
            in_flight=int(in_flight),
        )

    def forget(self, key_id: str) -> None:
        """Drop everything known about ``key_id`` (after a key rotation)."""
        self._client.delete(*self._keys(key_id))
