"""The settings models (pydantic-settings): where data lives and which services to use.

Each field of :class:`Settings` is the variable ``ASC_ACCESS_<FIELD>``; its
description is what ``docs/settings.md`` (generated, with the workers' and the
service's variables) says about it. An empty variable counts as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from asc_access.config.env import APPLE_API_URL, env_name

__all__ = ["KEEP_EMPTY", "EnvSettings", "EnvironSource", "Settings"]

#: Field metadata marker: an empty variable is a value (``""``), not "unset".
KEEP_EMPTY = "keep-empty"


class EnvironSource(PydanticBaseSettingsSource):
    """Settings values from a mapping of environment variables (exact, upper-case names).

    Values are handed to the model's validators as the raw strings; a variable
    set to ``""`` is left out (the field's default applies) unless the field
    carries :data:`KEEP_EMPTY` in its metadata.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        name = env_name(field_name)
        raw = self._environ.get(name)
        if raw == "" and KEEP_EMPTY not in field.metadata:
            raw = None
        return raw, name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            raw, _, _ = self.get_field_value(field, field_name)
            if raw is not None:
                values[field_name] = raw
        return values


class EnvSettings(BaseSettings):
    """A settings model read from ``ASC_ACCESS_*`` through :class:`EnvironSource`."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then ``os.environ`` read by :class:`EnvironSource` (no dotenv)."""
        del env_settings, dotenv_settings, file_secret_settings
        return (init_settings, EnvironSource(settings_cls, os.environ))

    @classmethod
    def values_from(cls, environ: Mapping[str, str] | None) -> dict[str, Any]:
        """The raw values ``environ`` (default ``os.environ``) sets for this model."""
        return EnvironSource(cls, os.environ if environ is None else environ)()


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("asc-access"))


class Settings(EnvSettings):
    """Resolved settings. Secret values are kept out of ``repr``."""

    home: Path = Field(
        default_factory=_default_home,
        description="data directory: the SQLite database, the master-key file, policies.yaml "
        "(default: the platform's user data dir)",
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the store, e.g. `postgresql+psycopg://…` "
        "(default: SQLite `asc-access.db` in the home dir)",
    )
    api_url: str = Field(APPLE_API_URL, description="Apple's base URL, or the sandbox's")
    broker_url: str | None = Field(
        None,
        description="Celery broker (a Redis URL), required by `asc-access worker`; "
        "unset = every sync in-process",
    )
    master_key: str | None = Field(
        None,
        repr=False,
        description="master key for stored private keys (else a 0600 `master.key` file "
        "in the home dir)",
    )
    api_token: str | None = Field(
        None, repr=False, description="the service's admin bearer token (else generated once)"
    )
    allowed_api_urls: tuple[str, ...] = Field(
        (), description="origins the service may call besides Apple's (comma-separated)"
    )
    session_secret: str | None = Field(
        None,
        repr=False,
        description="console session key, at least 32 characters (default: derived from "
        "the master key)",
    )

    @field_validator("api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("allowed_api_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(u.strip() for u in value.split(",") if u.strip())
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            url = f"sqlite:///{self.home / 'asc-access.db'}"
            object.__setattr__(self, "database_url", url)
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``)."""
        return cls.model_validate(cls.values_from(environ))

    def ensure_home(self) -> Path:
        """Create the home directory (mode 0700) if needed and return it."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.home
