"""Offline checks of gathered credentials: every APP-101 cause local evidence can prove.

:func:`evaluate` runs all checks and keeps going after a failure, so the
doctor can show the whole picture; :func:`load_credentials` is the strict
front door for everyone else: it raises the first problem.

Check ids (in order): ``sources``, ``key_id_format``, ``issuer_id_format``,
``key_type``, ``private_key_file``, ``private_key``, ``key_id_filename``,
``token_lifetime``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from asc_access.credentials.keys import LoadedKey, parse_private_key, read_key_file
from asc_access.credentials.shapes import (
    KEY_ID_PATTERN,
    UUID_PATTERN,
    clean,
    issuer_problem,
    key_id_problem,
    shown,
)
from asc_access.credentials.sources import (
    CredentialFlags,
    RawCredentials,
    gather_credentials,
)
from asc_access.credentials.types import CheckResult, CheckStatus, Credentials, KeyType
from asc_access.errors import AscAccessError, CredentialError, UsageError
from asc_access.ids import IssuerId, KeyId

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "KEY_ID_PATTERN",
    "MAX_TOKEN_LIFETIME",
    "UUID_PATTERN",
    "Evaluation",
    "evaluate",
    "load_credentials",
]

_FILENAME = re.compile(r"^(?:AuthKey|ApiKey)_([A-Za-z0-9]+)\.p8$")
#: Apple's cap on ``exp - iat`` for every call this project makes.
MAX_TOKEN_LIFETIME = 20 * 60
#: Our default ``exp - iat``: iat back-dated 60 s, exp = now + 10 min.
DEFAULT_TOKEN_LIFETIME = 11 * 60
#: Above this, a client clock a little ahead was seen to make Apple refuse tokens.
_RISKY_LIFETIME = 15 * 60


@dataclass(slots=True)
class Evaluation:
    """The result of the offline checks.

    ``errors`` holds :class:`CredentialError` (a proven APP-101 cause) and
    :class:`UsageError` (a missing value) in check order; ``credentials`` is
    set only when there are none.
    """

    raw: RawCredentials
    checks: list[CheckResult] = field(default_factory=list)
    errors: list[AscAccessError] = field(default_factory=list)
    credentials: Credentials | None = None
    #: What local evidence suggests but cannot prove (a ``warn`` check each): the
    #: doctor names it as the likely cause only if Apple then refuses the key.
    suspicions: list[CredentialError] = field(default_factory=list)
    key_file: Path | None = None

    @property
    def ok(self) -> bool:
        """Whether every offline check passed (warnings allowed)."""
        return not self.errors

    def add(self, check_id: str, status: CheckStatus, detail: str) -> None:
        """Record one check."""
        self.checks.append(CheckResult(check_id, status, detail))

    def fail(self, check_id: str, error: AscAccessError) -> None:
        """Record a failing check and its error."""
        self.add(check_id, "fail", error.message)
        self.errors.append(error)


def load_credentials(
    flags: CredentialFlags | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    read_stdin: Callable[[], bytes] | None = None,
) -> Credentials:
    """Load and check credentials from flags / env / fastlane JSON / stdin.

    Raises the first problem: :class:`UsageError` for a missing value,
    :class:`CredentialError` (with its APP-101 cause and source) for a wrong one.
    """
    evaluation = evaluate(gather_credentials(flags, environ=environ, read_stdin=read_stdin))
    usage = [e for e in evaluation.errors if isinstance(e, UsageError)]
    if usage:
        raise usage[0]
    if evaluation.errors:
        raise evaluation.errors[0]
    assert evaluation.credentials is not None
    return evaluation.credentials


def evaluate(raw: RawCredentials) -> Evaluation:
    """Run every offline check on ``raw``; never raises for bad input."""
    ev = Evaluation(raw)
    _check_sources(ev)
    key_id, issuer_id = _check_ids(ev)
    key_type = _check_key_type(ev)
    loaded = _check_private_key(ev)
    _check_filename(ev, key_id)
    lifetime = _check_lifetime(ev)
    if ev.errors or key_id is None or loaded is None:
        return ev
    sources = {"key_id": raw.key_id.source if raw.key_id else ""}
    if raw.issuer_id is not None:
        sources["issuer_id"] = raw.issuer_id.source
    if raw.private_key is not None:
        sources["private_key"] = raw.private_key.source
    sources["key_type"] = raw.individual_source or (
        f"Issuer ID given ({raw.issuer_id.source})" if raw.issuer_id else "team"
    )
    ev.credentials = Credentials(
        key_id=KeyId(key_id),
        issuer_id=IssuerId(issuer_id) if issuer_id else None,
        key_type=key_type,
        private_key=loaded.key,
        sources=sources,
        token_lifetime_seconds=lifetime,
        key_file=ev.key_file,
    )
    return ev


def _check_sources(ev: Evaluation) -> None:
    raw = ev.raw
    parts = []
    if raw.key_id:
        parts.append(f"Key ID from {raw.key_id.source}")
    if raw.issuer_id:
        parts.append(f"Issuer ID from {raw.issuer_id.source}")
    if raw.private_key:
        parts.append(f"private key from {raw.private_key.source}")
    detail = "; ".join(parts) or "no credentials given"
    if raw.conflicts:
        detail += f". Conflicting sources: {'; '.join(raw.conflicts)}"
    if raw.notes:
        detail += f". Notes: {'; '.join(raw.notes)}"
    ev.add("sources", "warn" if raw.conflicts else "pass", detail)


def _check_ids(ev: Evaluation) -> tuple[str | None, str | None]:
    raw = ev.raw
    key_id, key_note = clean(raw.key_id.value) if raw.key_id else (None, "")
    issuer_id, issuer_note = clean(raw.issuer_id.value) if raw.issuer_id else (None, "")
    if _swapped(ev, key_id, issuer_id):
        return None, None
    return _check_key_id(ev, key_id, key_note), _check_issuer_id(ev, issuer_id, issuer_note)


def _swapped(ev: Evaluation, key_id: str | None, issuer_id: str | None) -> bool:
    raw = ev.raw
    if not (key_id and issuer_id and raw.key_id and raw.issuer_id):
        return False
    if not (UUID_PATTERN.match(key_id) and KEY_ID_PATTERN.match(issuer_id.upper())):
        return False
    error = CredentialError(
        f"the Key ID ({raw.key_id.source}) and the Issuer ID ({raw.issuer_id.source}) "
        f"are swapped: {key_id} is shaped like an Issuer ID and {issuer_id} like a Key ID",
        cause="ids_swapped",
        source=raw.key_id.source,
        context={"key_id": key_id, "issuer_id": issuer_id},
    )
    ev.fail("key_id_format", error)
    ev.add("issuer_id_format", "fail", "holds a Key ID (the two values are swapped)")
    return True


def _check_key_id(ev: Evaluation, key_id: str | None, note: str) -> str | None:
    raw = ev.raw
    if not key_id:
        ev.fail(
            "key_id_format",
            UsageError(
                "no Key ID given: pass --key-id, set ASC_KEY_ID, or use --api-key-json"
                + _filename_hint(raw)
            ),
        )
        return None
    problem = key_id_problem(key_id)
    source = raw.key_id.source if raw.key_id else "?"
    if problem:
        _malformed(ev, "key_id", "Key ID", source, key_id, problem + _filename_hint(raw))
        return None
    ev.add("key_id_format", "pass", f"{key_id} from {source}{note}")
    return key_id


def _check_issuer_id(ev: Evaluation, issuer_id: str | None, note: str) -> str | None:
    if not issuer_id:
        ev.add("issuer_id_format", "skip", "no Issuer ID given (individual key)")
        return None
    source = ev.raw.issuer_id.source if ev.raw.issuer_id else "?"
    if UUID_PATTERN.match(issuer_id):
        ev.add("issuer_id_format", "pass", f"{issuer_id} from {source}{note}")
        return issuer_id
    _malformed(ev, "issuer_id", "Issuer ID", source, issuer_id, issuer_problem(issuer_id))
    return None


def _malformed(
    ev: Evaluation, field: str, label: str, source: str, value: str, problem: str
) -> None:
    """Fail the ``<field>_format`` check: the id from ``source`` is malformed."""
    ev.fail(
        f"{field}_format",
        CredentialError(
            f"the {label} from {source} is malformed: {problem}",
            cause=f"{field}_malformed",
            source=source,
            context={field: shown(value)},
        ),
    )


def _filename_hint(raw: RawCredentials) -> str:
    path = raw.private_key.path if raw.private_key else None
    if path is not None:
        match = _FILENAME.match(path.name)
        if match:
            return f" (the key file's name suggests {match.group(1)})"
    return ""


def _check_key_type(ev: Evaluation) -> KeyType:
    raw = ev.raw
    if raw.individual_source == "flag --individual":
        extra = (
            f"; the Issuer ID from {raw.issuer_id.source} is not sent in the token"
            if raw.issuer_id
            else ""
        )
        ev.add("key_type", "pass", f"individual key (flag --individual){extra}")
        return "individual"
    if raw.issuer_id is None:
        ev.add(
            "key_type",
            "pass",
            "individual key (no Issuer ID given; pass --issuer-id if this is a team key)",
        )
        return "individual"
    ev.add("key_type", "pass", f"team key (Issuer ID from {raw.issuer_id.source})")
    return "team"


def _check_private_key(ev: Evaluation) -> LoadedKey | None:
    key_input = ev.raw.private_key
    if key_input is None:
        ev.fail(
            "private_key",
            UsageError(
                "no private key given: pass --private-key-file PATH (- for stdin), or set "
                "ASC_PRIVATE_KEY_PATH or ASC_PRIVATE_KEY"
            ),
        )
        return None
    data: bytes | str
    try:
        if key_input.path is not None:
            ev.key_file = key_input.path
            data, warnings = read_key_file(key_input.path, key_input.source)
            if warnings:
                ev.add("private_key_file", "warn", "; ".join(warnings))
            else:
                ev.add("private_key_file", "pass", f"{key_input.source} is readable")
        else:
            ev.add("private_key_file", "skip", f"key given inline by {key_input.source}")
            data = key_input.content or b""
        loaded = parse_private_key(
            data, source=key_input.source, base64_content=key_input.base64_content
        )
    except CredentialError as error:
        check = "private_key"
        if (
            error.cause == "private_key_unreadable"
            and key_input.path is not None
            and not any(c.id == "private_key_file" for c in ev.checks)
        ):
            check = "private_key_file"
        ev.fail(check, error)
        return None
    notes = f"; {'; '.join(loaded.notes)}" if loaded.notes else ""
    ev.add(
        "private_key",
        "pass",
        f"EC P-256 private key ({loaded.form}) from {key_input.source}, public key "
        f"sha256:{loaded.key.fingerprint}{notes}",
    )
    return loaded


def _check_filename(ev: Evaluation, key_id: str | None) -> None:
    key_input = ev.raw.private_key
    path = key_input.path if key_input else None
    if path is None:
        ev.add("key_id_filename", "skip", "key not read from a file")
        return
    match = _FILENAME.match(path.name)
    if not match:
        ev.add("key_id_filename", "skip", f"{path.name} is not named AuthKey_<KEYID>.p8")
        return
    if key_id is None:
        ev.add("key_id_filename", "skip", "no valid Key ID to compare with")
        return
    named = match.group(1)
    if named == key_id:
        ev.add("key_id_filename", "pass", f"{path.name} matches Key ID {key_id}")
        return
    source = ev.raw.key_id.source if ev.raw.key_id else "?"
    # Only the file's name says so (a renamed file is still the right key): a warning,
    # which Apple's answer settles.
    suspicion = CredentialError(
        f"the key file {path} is named for key {named}, but the Key ID from {source} "
        f"is {key_id}: the Key ID and the private key may belong to different keys",
        cause="key_id_filename_mismatch",
        source=f"file {path}",
        context={"key_id": key_id, "file_key_id": named},
    )
    ev.add("key_id_filename", "warn", suspicion.message)
    ev.suspicions.append(suspicion)


def _check_lifetime(ev: Evaluation) -> int | None:
    raw = ev.raw
    if raw.token_lifetime is None:
        ev.add(
            "token_lifetime",
            "pass",
            "default: 11 minutes (iat back-dated 60 s, exp = now + 10 min)",
        )
        return None
    value, source = raw.token_lifetime, raw.token_lifetime_source or "?"
    if value <= 0 or value > MAX_TOKEN_LIFETIME:
        ev.fail(
            "token_lifetime",
            CredentialError(
                f"the token lifetime from {source} is {value} s; Apple accepts more than "
                f"0 and at most {MAX_TOKEN_LIFETIME} s (20 minutes) for these calls",
                cause="token_lifetime_invalid",
                source=source,
                context={"token_lifetime_seconds": value},
            ),
        )
        return None
    if value > _RISKY_LIFETIME:
        ev.add(
            "token_lifetime",
            "warn",
            f"{value} s from {source}: allowed, but above 15 minutes Apple was seen "
            "refusing tokens when the computer's clock runs a little ahead",
        )
    else:
        ev.add("token_lifetime", "pass", f"{value} s from {source}")
    return value
