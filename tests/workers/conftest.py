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


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose ``search_path`` is a fresh schema, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"wk_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    sep = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{sep}options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def worker_env(redis_url: str, redis_prefix: str, pg_url: str) -> dict[str, str]:
    """Environment for worker code: broker, prefix and store of this test alone."""
    return {
        "ASC_ACCESS_BROKER_URL": redis_url,
        "ASC_ACCESS_KEY_PREFIX": redis_prefix,
        "ASC_ACCESS_DATABASE_URL": pg_url,
        "ASC_ACCESS_QUEUE": f"{redis_prefix}sync",
        "ASC_ACCESS_LOCK_TTL": "3",
        "ASC_ACCESS_VISIBILITY_TIMEOUT": "60",
    }
