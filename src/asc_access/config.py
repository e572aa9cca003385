"""Settings from the environment: where data lives and which services to use.

=================================  ==============================================
``ASC_ACCESS_HOME``                data directory (default: the platform's user data dir)
``ASC_ACCESS_DATABASE_URL``        SQLAlchemy URL (default: SQLite in the home dir)
``ASC_ACCESS_MASTER_KEY``          master key for stored private keys (else a 0600 file)
``ASC_ACCESS_API_URL``             Apple's base URL, or the sandbox's
``ASC_ACCESS_BROKER_URL``          Celery broker (Redis); unset = everything in-process
``ASC_ACCESS_API_TOKEN``           the service's admin bearer token
``ASC_ACCESS_ALLOWED_API_URLS``    origins the service may call besides Apple's (comma-separated)
``ASC_ACCESS_SESSION_SECRET``      console session key (default: derived from the master key)
=================================  ==============================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

__all__ = ["APPLE_API_URL", "Settings"]

APPLE_API_URL = "https://api.appstoreconnect.apple.com"


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Secret values are kept out of ``repr``."""

    home: Path
    database_url: str
    api_url: str = APPLE_API_URL
    broker_url: str | None = None
    master_key: str | None = field(default=None, repr=False)
    api_token: str | None = field(default=None, repr=False)
    allowed_api_urls: tuple[str, ...] = ()
    session_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        home = Path(env.get("ASC_ACCESS_HOME") or platformdirs.user_data_dir("asc-access"))
        database_url = env.get("ASC_ACCESS_DATABASE_URL") or f"sqlite:///{home / 'asc-access.db'}"
        return cls(
            home=home,
            database_url=database_url,
            api_url=(env.get("ASC_ACCESS_API_URL") or APPLE_API_URL).rstrip("/"),
            broker_url=env.get("ASC_ACCESS_BROKER_URL") or None,
            master_key=env.get("ASC_ACCESS_MASTER_KEY") or None,
            api_token=env.get("ASC_ACCESS_API_TOKEN") or None,
            allowed_api_urls=tuple(
                u.strip()
                for u in env.get("ASC_ACCESS_ALLOWED_API_URLS", "").split(",")
                if u.strip()
            ),
            session_secret=env.get("ASC_ACCESS_SESSION_SECRET") or None,
        )

    def ensure_home(self) -> Path:
        """Create the home directory (mode 0700) if needed and return it."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.home
