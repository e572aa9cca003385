"""Credentials: load and check an App Store Connect API key, and mint its tokens.

- :func:`load_credentials` reads flags / env / fastlane JSON / stdin (see
  :mod:`asc_access.credentials.sources`) and raises the first problem;
  :func:`evaluate` runs every offline check for the doctor.
- :class:`Credentials` holds a checked key (:class:`PrivateKey` never shows
  its material).
- :class:`TokenManager` mints ES256 tokens, reuses them and refreshes them
  before they expire.
"""

from asc_access.credentials.keys import (
    LoadedKey,
    PrivateKey,
    clean_text_value,
    parse_private_key,
    read_key_file,
)
from asc_access.credentials.sources import (
    CredentialFlags,
    KeyInput,
    RawCredentials,
    Sourced,
    gather_credentials,
)
from asc_access.credentials.tokens import AUDIENCE, TokenManager
from asc_access.credentials.types import CheckResult, CheckStatus, Credentials, KeyType
from asc_access.credentials.validate import (
    DEFAULT_TOKEN_LIFETIME,
    KEY_ID_PATTERN,
    MAX_TOKEN_LIFETIME,
    UUID_PATTERN,
    Evaluation,
    evaluate,
    load_credentials,
)

__all__ = [
    "AUDIENCE",
    "DEFAULT_TOKEN_LIFETIME",
    "KEY_ID_PATTERN",
    "MAX_TOKEN_LIFETIME",
    "UUID_PATTERN",
    "CheckResult",
    "CheckStatus",
    "CredentialFlags",
    "Credentials",
    "Evaluation",
    "KeyInput",
    "KeyType",
    "LoadedKey",
    "PrivateKey",
    "RawCredentials",
    "Sourced",
    "TokenManager",
    "clean_text_value",
    "evaluate",
    "gather_credentials",
    "load_credentials",
    "parse_private_key",
    "read_key_file",
]
