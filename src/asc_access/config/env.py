"""The names of the settings and the one value the doctor reads without loading them."""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["APPLE_API_URL", "ENV_PREFIX", "api_url_from_env", "env_name"]

APPLE_API_URL = "https://api.appstoreconnect.apple.com"
ENV_PREFIX = "ASC_ACCESS_"


def env_name(field_name: str) -> str:
    """The environment variable of a settings field (``home`` → ``ASC_ACCESS_HOME``)."""
    return ENV_PREFIX + field_name.upper()


def api_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``Settings.from_env(environ).api_url`` without loading the settings model."""
    env = os.environ if environ is None else environ
    return (env.get(env_name("api_url")) or APPLE_API_URL).rstrip("/")
