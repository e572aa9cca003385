"""Settings from the environment: where data lives and which services to use.

:class:`~asc_access.config.settings.Settings` (pydantic-settings) is loaded on
first use of ``asc_access.config.Settings``, not on ``import asc_access.config``:
the doctor's start-up reads only the API URL (:func:`api_url_from_env`) and
never imports pydantic (``tests/test_startup.py``). Every variable is listed in
``docs/settings.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asc_access.config.env import APPLE_API_URL, ENV_PREFIX, api_url_from_env, env_name

__all__ = ["APPLE_API_URL", "ENV_PREFIX", "Settings", "api_url_from_env", "env_name"]

if TYPE_CHECKING:
    from asc_access.config.settings import Settings


def __getattr__(name: str) -> Any:
    if name == "Settings":
        from asc_access.config.settings import Settings  # lazy: pydantic only when asked for

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
