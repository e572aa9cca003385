"""Fixtures for the worker tests: an isolated key prefix in the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test alone; every key under it is deleted afterwards."""
    prefix = f"asc-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client: Redis[Any] = Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def redis_client(redis_url: str, redis_prefix: str) -> Iterator[Redis[Any]]:
    """A client of the test Redis (keys go under ``redis_prefix``)."""
    client: Redis[Any] = Redis.from_url(redis_url)
    yield client
    client.close()
