"""Settings from the environment: where data lives and which services to use.

:class:`~asc_access.config.settings.Settings` (pydantic-settings) is loaded on
first use of ``asc_access.config.Settings``, not on ``import asc_access.config``:
the doctor's start-up reads only the API URL (:func:`api_url_from_env`) and
never imports pydantic (``tests/test_startup.py``). Every variable is listed in
``docs/settings.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

__all__ = ["APPLE_API_URL", "ENV_PREFIX", "Settings", "api_url_from_env", "env_name"]

APPLE_API_URL = "https://api.appstoreconnect.apple.com"
ENV_PREFIX = "ASC_ACCESS_"

if TYPE_CHECKING:
    from asc_access.config.settings import Settings


def env_name(field_name: str) -> str:
    """The environment variable of a settings field (``home`` → ``ASC_ACCESS_HOME``)."""
    return ENV_PREFIX + field_name.upper()


def api_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``Settings.from_env(environ).api_url`` without loading the settings model."""
    env = os.environ if environ is None else environ
    return (env.get(env_name("api_url")) or APPLE_API_URL).rstrip("/")


def __getattr__(name: str) -> Any:
    if name == "Settings":
        from asc_access.config.settings import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
