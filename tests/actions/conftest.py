"""Fixtures for the provisioning tests (helpers live in :mod:`actions.helpers`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from actions.helpers import FakeApple, demo_apple
from asc_access.store.db import ensure_schema, make_engine


@pytest.fixture
def apple() -> FakeApple:
    """The small in-memory demo team."""
    return demo_apple()


@pytest.fixture
def make_apple() -> Callable[[], FakeApple]:
    """Make more in-memory demo teams."""
    return demo_apple


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite store at the current schema."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    ensure_schema(engine)
    yield engine
    engine.dispose()
