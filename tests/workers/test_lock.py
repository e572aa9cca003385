"""The per-connection lock against the real Redis."""

from __future__ import annotations

import time
from typing import Any

from redis import Redis

from asc_access.queue.lock import ConnectionLock


def _lock(client: Redis[Any], prefix: str, ttl: float = 5.0) -> ConnectionLock:
    return ConnectionLock(client, f"{prefix}lock:connection:1", ttl_seconds=ttl)


def test_only_one_holder_at_a_time(redis_client: Redis[Any], redis_prefix: str) -> None:
    lock = _lock(redis_client, redis_prefix)
    first = lock.try_acquire("req-a")
    assert first is not None
    assert lock.try_acquire("req-b") is None
    holder = lock.holder()
    assert holder is not None
    assert holder.request_key == "req-a"
    assert holder.token == first
    assert 0 < holder.ttl_ms <= 5000
    assert lock.release(first)
    assert lock.holder() is None
    assert lock.try_acquire("req-b") is not None


def test_release_never_deletes_a_successors_lock(
    redis_client: Redis[Any], redis_prefix: str
) -> None:
    lock = _lock(redis_client, redis_prefix, ttl=0.2)
    stale = lock.try_acquire("req-a")
    assert stale is not None
    time.sleep(0.3)  # the holder stalled past its TTL: the lock expired
    successor = lock.try_acquire("req-b")
    assert successor is not None
    assert not lock.release(stale)
    assert not lock.renew(stale)
    holder = lock.holder()
    assert holder is not None
    assert holder.request_key == "req-b"


def test_a_dead_holders_lock_expires(redis_client: Redis[Any], redis_prefix: str) -> None:
    lock = _lock(redis_client, redis_prefix, ttl=0.3)
    assert lock.try_acquire("req-dead") is not None  # never renewed, never released
    assert lock.try_acquire("req-b") is None
    time.sleep(0.4)
    assert lock.try_acquire("req-b") is not None


def test_a_held_lock_is_renewed_past_its_ttl(redis_client: Redis[Any], redis_prefix: str) -> None:
    lock = _lock(redis_client, redis_prefix, ttl=0.3)
    token = lock.try_acquire("req-a")
    assert token is not None
    with lock.held(token) as lease:
        time.sleep(1.0)  # more than three TTLs
        assert lock.try_acquire("req-b") is None
        assert not lease.lost.is_set()
    assert lock.holder() is None  # released on exit


def test_lease_reports_a_lost_lock(redis_client: Redis[Any], redis_prefix: str) -> None:
    lock = _lock(redis_client, redis_prefix, ttl=0.3)
    token = lock.try_acquire("req-a")
    assert token is not None
    with lock.held(token) as lease:
        redis_client.delete(lock.name)  # e.g. Redis lost it, or an operator cleared it
        assert lease.lost.wait(timeout=2.0)
        other = lock.try_acquire("req-b")
        assert other is not None
    holder = lock.holder()
    assert holder is not None
    assert holder.request_key == "req-b"  # the lost lease did not delete the successor's
