"""Test-wide fixtures: an isolated environment for every test.

Service-backed tests read their targets from the environment:
``ASC_ACCESS_TEST_POSTGRES_URL``, ``ASC_ACCESS_TEST_REDIS_URL`` and
``ASC_ACCESS_TEST_CHROMIUM`` (``.ci/run`` sets all three). Without one, the
tests that need it skip with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# CI replays the same examples every run (a red CI is then a regression, never luck);
# local runs keep exploring new ones and remember failures in .hypothesis/.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI", "").lower() == "true":
    hypothesis_settings.load_profile("ci")

_CREDENTIAL_ENV = (
    "ASC_KEY_ID",
    "ASC_ISSUER_ID",
    "ASC_PRIVATE_KEY",
    "ASC_PRIVATE_KEY_PATH",
    "APP_STORE_CONNECT_KEY_IDENTIFIER",
    "APP_STORE_CONNECT_ISSUER_ID",
    "APP_STORE_CONNECT_PRIVATE_KEY",
    "ASC_ACCESS_API_URL",
    "ASC_ACCESS_DATABASE_URL",
    "ASC_ACCESS_MASTER_KEY",
    "ASC_ACCESS_BROKER_URL",
    "ASC_ACCESS_API_TOKEN",
    "ASC_ACCESS_ALLOWED_API_URLS",
    "ASC_ACCESS_SESSION_SECRET",
)


def require_service(env_name: str, what: str) -> str:
    """The value of ``env_name``; skip (locally) or fail (under CI) when unset."""
    value = os.environ.get(env_name)
    if value:
        return value
    message = f"{what} not configured: set {env_name} (.ci/run does)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Clear credential env vars and give each test its own ASC_ACCESS_HOME."""
    for name in _CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "asc-home"
    monkeypatch.setenv("ASC_ACCESS_HOME", str(home))
    return home


@pytest.fixture
def postgres_url() -> str:
    """The PostgreSQL URL for tests (skip locally / fail under CI when absent)."""
    return require_service("ASC_ACCESS_TEST_POSTGRES_URL", "PostgreSQL")


@pytest.fixture
def redis_url() -> str:
    """The Redis URL for tests (skip locally / fail under CI when absent)."""
    return require_service("ASC_ACCESS_TEST_REDIS_URL", "Redis")


@pytest.fixture
def chromium_path() -> str:
    """Debian's chromium binary (skip locally / fail under CI when absent)."""
    return require_service("ASC_ACCESS_TEST_CHROMIUM", "Chromium")


from _support.sandbox import *  # noqa: E402, F403  (sandbox fixtures for every test)
