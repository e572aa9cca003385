"""Where credentials come from: flags, env vars, fastlane's API-key JSON, stdin.

Precedence, first wins (each value separately):

=================  ==============================================================
Key ID             ``--key-id``; ``--api-key-json`` ``key_id``; ``ASC_KEY_ID``;
                   ``APP_STORE_CONNECT_KEY_IDENTIFIER``
Issuer ID          ``--issuer-id``; ``--api-key-json`` ``issuer_id``; ``ASC_ISSUER_ID``;
                   ``APP_STORE_CONNECT_ISSUER_ID``
private key        ``--private-key-file`` (``-`` = stdin); ``--api-key-json`` ``key``
                   (``is_key_content_base64``) or ``key_filepath``;
                   ``ASC_PRIVATE_KEY_PATH``; ``ASC_PRIVATE_KEY``;
                   ``APP_STORE_CONNECT_PRIVATE_KEY``
token lifetime     ``--token-lifetime``; ``--api-key-json`` ``duration`` (seconds)
=================  ==============================================================

Env values may use codemagic's indirections ``@env:OTHER_VAR`` and
``@file:/path``. When two sources give different values, the first wins and
the conflict is recorded so ``doctor`` can say so. Nothing here validates the
values; :mod:`asc_access.credentials.validate` does.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from asc_access.errors import UsageError

__all__ = [
    "CredentialFlags",
    "KeyInput",
    "RawCredentials",
    "Sourced",
    "gather_credentials",
]

_KEY_ID_ENV = ("ASC_KEY_ID", "APP_STORE_CONNECT_KEY_IDENTIFIER")
_ISSUER_ENV = ("ASC_ISSUER_ID", "APP_STORE_CONNECT_ISSUER_ID")
_KEY_CONTENT_ENV = ("ASC_PRIVATE_KEY", "APP_STORE_CONNECT_PRIVATE_KEY")
_MAX_JSON_BYTES = 256 * 1024
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class CredentialFlags:
    """What the caller passed on the command line (or a library caller's equivalents)."""

    key_id: str | None = None
    issuer_id: str | None = None
    private_key_file: str | None = None
    individual: bool = False
    api_key_json: str | None = None
    token_lifetime: int | None = None

    def any_given(self) -> bool:
        """Whether any credential flag was given."""
        return any(
            (
                self.key_id,
                self.issuer_id,
                self.private_key_file,
                self.individual,
                self.api_key_json,
                self.token_lifetime is not None,
            )
        )


@dataclass(frozen=True, slots=True)
class Sourced:
    """A raw value and where it came from (``flag --key-id``, ``env ASC_KEY_ID``)."""

    value: str
    source: str


@dataclass(frozen=True, slots=True)
class KeyInput:
    """Where the private key is: a file to read, or content given inline."""

    source: str
    path: Path | None = None
    content: str | bytes | None = field(default=None, repr=False)
    base64_content: bool = False

    @property
    def identity(self) -> str:
        """What to compare when two sources both give a key (never the content)."""
        if self.path is not None:
            return f"path:{self.path}"
        return f"content:{hash(self.content)}"


@dataclass(slots=True)
class RawCredentials:
    """Values as gathered, before any check; ``conflicts`` and ``notes`` for the doctor."""

    key_id: Sourced | None = None
    issuer_id: Sourced | None = None
    private_key: KeyInput | None = None
    individual_source: str | None = None
    token_lifetime: int | None = None
    token_lifetime_source: str | None = None
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Candidates:
    """Every value found for each credential, in precedence order (first wins)."""

    key_ids: list[Sourced] = field(default_factory=list)
    issuers: list[Sourced] = field(default_factory=list)
    keys: list[KeyInput] = field(default_factory=list)
    lifetimes: list[tuple[int, str]] = field(default_factory=list)


def gather_credentials(
    flags: CredentialFlags | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    read_stdin: Callable[[], bytes] | None = None,
) -> RawCredentials:
    """Collect raw credential values from flags, fastlane JSON and the environment.

    Raises :class:`~asc_access.errors.UsageError` for inputs that cannot even be
    read as inputs (an unreadable or invalid ``--api-key-json`` file, two things
    wanting stdin, an ``@env:`` pointing at nothing).
    """
    flags = flags or CredentialFlags()
    env = os.environ if environ is None else environ
    stdin = read_stdin or _read_stdin
    raw = RawCredentials()
    if flags.private_key_file == "-" and flags.api_key_json == "-":
        raise UsageError("only one of --private-key-file and --api-key-json can read stdin (-)")
    found = _Candidates()
    _from_flags(flags, stdin, found)
    if flags.api_key_json is not None:
        _from_fastlane_json(flags.api_key_json, stdin, found, raw)
    _from_env(env, found, raw)
    _settle(found, raw)
    if flags.individual:
        raw.individual_source = "flag --individual"
    elif raw.issuer_id is None:
        raw.individual_source = "no Issuer ID given"
    return raw


def _from_flags(flags: CredentialFlags, stdin: Callable[[], bytes], found: _Candidates) -> None:
    if flags.key_id is not None:
        found.key_ids.append(Sourced(flags.key_id, "flag --key-id"))
    if flags.issuer_id is not None:
        found.issuers.append(Sourced(flags.issuer_id, "flag --issuer-id"))
    if flags.private_key_file is not None:
        if flags.private_key_file == "-":
            found.keys.append(KeyInput("stdin (--private-key-file -)", content=stdin()))
        else:
            path = _path(flags.private_key_file, "--private-key-file")
            found.keys.append(KeyInput(f"file {path} (--private-key-file)", path=path))
    if flags.token_lifetime is not None:
        found.lifetimes.append((flags.token_lifetime, "flag --token-lifetime"))


def _from_env(env: Mapping[str, str], found: _Candidates, raw: RawCredentials) -> None:
    for name in _KEY_ID_ENV:
        value = _env_value(env, name, raw)
        if value is not None:
            found.key_ids.append(value)
    for name in _ISSUER_ENV:
        value = _env_value(env, name, raw)
        if value is not None:
            found.issuers.append(value)
    path_value = _env_value(env, "ASC_PRIVATE_KEY_PATH", raw)
    if path_value is not None:
        path = _path(path_value.value.strip().strip("'\""), path_value.source)
        found.keys.append(KeyInput(f"file {path} ({path_value.source})", path=path))
    for name in _KEY_CONTENT_ENV:
        found.keys.extend(_env_key(env, name, raw))


def _settle(found: _Candidates, raw: RawCredentials) -> None:
    """The winners into ``raw``, noting every conflict that lost."""
    raw.key_id = _first(found.key_ids, "Key ID", raw, lambda s: s.value.strip())
    raw.issuer_id = _first(found.issuers, "Issuer ID", raw, lambda s: s.value.strip().lower())
    raw.private_key = _first(found.keys, "private key", raw, lambda k: k.identity)
    if found.lifetimes:
        raw.token_lifetime, raw.token_lifetime_source = found.lifetimes[0]
        for seconds, source in found.lifetimes[1:]:
            if seconds != raw.token_lifetime:
                raw.conflicts.append(
                    f"token lifetime: {raw.token_lifetime_source} wins over {source}"
                )


def _first(
    candidates: list[_T], what: str, raw: RawCredentials, identity: Callable[[_T], str]
) -> _T | None:
    if not candidates:
        return None
    winner = candidates[0]
    for other in candidates[1:]:
        if identity(other) != identity(winner):
            raw.conflicts.append(
                f"{what}: {_source(winner)} wins over {_source(other)} (they differ)"
            )
    return winner


def _source(item: object) -> str:
    return str(getattr(item, "source", "?"))


def _env_value(env: Mapping[str, str], name: str, raw: RawCredentials) -> Sourced | None:
    value = env.get(name)
    if value is None:
        return None
    if not value.strip():
        raw.notes.append(f"env {name} is set but empty; ignored")
        return None
    source = f"env {name}"
    if value.startswith("@env:"):
        other = value.removeprefix("@env:").strip()
        if other not in env:
            raise UsageError(f"env {name} points at @env:{other}, which is not set")
        return Sourced(env[other], f"env {other} (via {name})")
    if value.startswith("@file:"):
        path = _path(value.removeprefix("@file:").strip(), f"env {name}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(
                f"env {name} points at @file:{path}, which cannot be read ({error})"
            ) from None
        return Sourced(text, f"file {path} (via {name})")
    return Sourced(value, source)


def _env_key(env: Mapping[str, str], name: str, raw: RawCredentials) -> list[KeyInput]:
    value = env.get(name)
    if value is None:
        return []
    if not value.strip():
        raw.notes.append(f"env {name} is set but empty; ignored")
        return []
    if value.startswith("@file:"):
        path = _path(value.removeprefix("@file:").strip(), f"env {name}")
        return [KeyInput(f"file {path} (via {name})", path=path)]
    if value.startswith("@env:"):
        other = value.removeprefix("@env:").strip()
        if other not in env:
            raise UsageError(f"env {name} points at @env:{other}, which is not set")
        return [KeyInput(f"env {other} (via {name})", content=env[other])]
    return [KeyInput(f"env {name}", content=value)]


_FASTLANE_FIELDS = frozenset(
    {
        "key_id",
        "issuer_id",
        "key",
        "key_content",
        "key_filepath",
        "is_key_content_base64",
        "duration",
        "in_house",
    }
)


def _from_fastlane_json(
    where: str, stdin: Callable[[], bytes], found: _Candidates, raw: RawCredentials
) -> None:
    label, document = _fastlane_document(where, stdin)
    if isinstance(document.get("key_id"), str):
        found.key_ids.append(Sourced(document["key_id"], f"{label} key_id"))
    if isinstance(document.get("issuer_id"), str) and document["issuer_id"].strip():
        found.issuers.append(Sourced(document["issuer_id"], f"{label} issuer_id"))
    content = document.get("key", document.get("key_content"))
    if isinstance(content, str) and content.strip():
        found.keys.append(
            KeyInput(
                f"{label} key",
                content=content,
                base64_content=bool(document.get("is_key_content_base64")),
            )
        )
    elif isinstance(document.get("key_filepath"), str):
        path = _path(document["key_filepath"], f"{label} key_filepath")
        found.keys.append(KeyInput(f"file {path} ({label} key_filepath)", path=path))
    duration = document.get("duration")
    if isinstance(duration, int | float) and not isinstance(duration, bool):
        if not math.isfinite(duration) or abs(duration) > 2**31:
            raise UsageError(f"{label} duration must be a number of seconds, like 1200")
        found.lifetimes.append((int(duration), f"{label} duration"))
    if document.get("in_house"):
        raw.notes.append(
            f"{label} has in_house: true (an Enterprise key); asc-access talks to the "
            "App Store Connect API"
        )
    unknown = sorted(set(document) - _FASTLANE_FIELDS)
    if unknown:
        raw.notes.append(f"{label}: ignored unknown fields {', '.join(unknown)}")


def _fastlane_document(where: str, stdin: Callable[[], bytes]) -> tuple[str, dict[str, Any]]:
    """Where fastlane's API key JSON came from, and its object."""
    if where == "-":
        label = "stdin (--api-key-json -)"
        data = stdin()
    else:
        path = _path(where, "--api-key-json")
        label = f"file {path} (--api-key-json)"
        if path.is_dir():
            raise UsageError(f"--api-key-json {path} is a directory, not a JSON file")
        try:
            data = path.read_bytes()[:_MAX_JSON_BYTES]
        except OSError as error:
            raise UsageError(f"--api-key-json {path} cannot be read ({error.strerror})") from None
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise UsageError(
            f"{label} is not valid JSON; expected fastlane's API key file "
            '{"key_id": ..., "issuer_id": ..., "key": ...}'
        ) from None
    if not isinstance(document, dict):
        raise UsageError(f"{label} must hold a JSON object")
    return label, document


def _path(text: str, what: str) -> Path:
    """The file path given as ``what``; :class:`UsageError` when the text cannot be one.

    A private key pasted where a path belongs is refused without quoting it, so
    it never reaches a message, a log or a report.
    """
    if "PRIVATE KEY" in text or "\n" in text:
        raise UsageError(
            f"{what} holds a private key's content, not a file path: give the path of the "
            ".p8 file there, or pass the content in ASC_PRIVATE_KEY (or with "
            "--private-key-file - on stdin)"
        )
    if "\x00" in text:
        raise UsageError(f"{what} is not a file path (it contains a NUL character)")
    try:
        return Path(text).expanduser()
    except (RuntimeError, KeyError):
        # ``~user/...`` for a user this system does not know (or no home directory at all).
        user = text.split("/", 1)[0][:64]
        raise UsageError(
            f"{what}: the home directory of {user!r} cannot be found (no such user?); "
            "give the .p8 file's full path"
        ) from None


def _read_stdin() -> bytes:
    return sys.stdin.buffer.read(_MAX_JSON_BYTES)
