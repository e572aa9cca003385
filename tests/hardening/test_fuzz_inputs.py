"""Hostile input, fuzzed with Hypothesis: nothing escapes but our own errors, each clear.

- credentials: mangled ``.p8`` keys (bytes cut, inserted, swapped; quotes, escapes,
  base64 layers), arbitrary bytes, arbitrary Key IDs / Issuer IDs, every env-var
  form (``@env:``, ``@file:``, empty, whitespace), fastlane API-key JSON of any
  shape. Errors must be :class:`~asc_access.errors.AscAccessError`, name where
  the value came from, and never quote key material;
- ``X-Rate-Limit``, ``Retry-After`` and ``Date`` headers (and statuses and
  bodies) answered to the doctor: it always ends in a report;
- desired-state files: any YAML/JSON text and any document shape.
"""

from __future__ import annotations

import base64
import json
import math
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from _support import keys
from asc_access.actions.desired import load_desired_state, parse_desired_state
from asc_access.api import RetryPolicy, parse_rate_limit, parse_retry_after
from asc_access.catalogue import CODE_CAUSES
from asc_access.credentials import (
    CredentialFlags,
    evaluate,
    gather_credentials,
    load_credentials,
    parse_private_key,
)
from asc_access.errors import AscAccessError, CredentialError, UsageError
from asc_access.runtime import diagnose_credentials, doctor_client_factory

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PEM = keys.p256_key_pem()
BODY_LINES = [line for line in keys.pem_body(PEM).splitlines() if len(line) >= 16]
ALL_CAUSES = {cause for causes in CODE_CAUSES.values() for cause in causes}


def _quotes_no_key(message: str) -> bool:
    return not any(line in message for line in BODY_LINES)


def _check_error(
    error: AscAccessError, source_hint: str | None = None, *, strict: bool = False
) -> None:
    assert error.message.strip(), "an error without a message"
    assert _quotes_no_key(str(error)), "an error quotes key material"
    if isinstance(error, CredentialError):
        assert error.code == "APP-101"
        assert error.cause in ALL_CAUSES
        assert error.source
    if source_hint is not None:
        assert source_hint in str(error) or (isinstance(error, UsageError) and not strict)


# -- private keys ------------------------------------------------------------------------------


@st.composite
def mangled_keys(draw: Any) -> str | bytes:
    """The real key, damaged the ways copy-paste and hostile users damage it."""
    text = PEM
    for _ in range(draw(st.integers(1, 3))):
        action = draw(
            st.sampled_from(
                ["cut", "insert", "delete", "swap_lines", "quote", "escape", "b64", "crlf",
                 "truncate", "bytes"]
            )
        )  # fmt: skip
        if action == "cut" and len(text) > 2:
            start = draw(st.integers(0, len(text) - 1))
            text = text[:start] + text[start + draw(st.integers(1, 20)) :]
        elif action == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.text(max_size=8)) + text[at:]
        elif action == "delete":
            text = text.replace(draw(st.sampled_from(["-", "\n", "A", "=", "BEGIN", "END"])), "")
        elif action == "swap_lines" and text.splitlines():
            lines = text.splitlines()
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif action == "quote":
            text = f'"{text}"'
        elif action == "escape":
            text = text.replace("\n", "\\n")
        elif action == "b64":
            text = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()
        elif action == "crlf":
            text = text.replace("\n", "\r\n")
        elif action == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        else:
            return text.encode("utf-8", "surrogatepass") + draw(st.binary(max_size=16))
    return text


@FUZZ
@given(raw=mangled_keys() | st.binary(max_size=400) | st.text(max_size=400), b64=st.booleans())
@example(raw=b"\x00" * 32, b64=False)
@example(raw="-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----", b64=False)
@example(raw="~/AuthKey_ABC.p8", b64=False)
def test_private_key_parsing_raises_only_named_credential_errors(
    raw: str | bytes, b64: bool
) -> None:
    try:
        loaded = parse_private_key(raw, source="env ASC_PRIVATE_KEY", base64_content=b64)
    except CredentialError as error:
        _check_error(error, "env ASC_PRIVATE_KEY")
        _check_key_cause(error)
    else:
        assert "sha256:" in repr(loaded.key)
        assert _quotes_no_key(repr(loaded) + " ".join(loaded.notes))


def _check_key_cause(error: CredentialError) -> None:
    assert error.cause in {
        "private_key_unreadable",
        "private_key_wrong_type",
        "private_key_encrypted",
    }


# -- ids, env forms, flags ---------------------------------------------------------------------

ENV_NAMES = [
    "ASC_KEY_ID",
    "ASC_ISSUER_ID",
    "ASC_PRIVATE_KEY",
    "ASC_PRIVATE_KEY_PATH",
    "APP_STORE_CONNECT_KEY_IDENTIFIER",
    "APP_STORE_CONNECT_ISSUER_ID",
    "APP_STORE_CONNECT_PRIVATE_KEY",
]
ID_TEXT = (
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=8, max_size=12)
    | st.uuids().map(str)
    | st.text(max_size=60)
    | st.sampled_from(["", " ", "'2X9R4HXF34'", "\u200b2X9R4HXF34\ufeff", "null"])
)


@st.composite
def env_values(draw: Any, key_file: Path, other_file: Path) -> str:
    return str(
        draw(
            ID_TEXT
            | st.just(PEM)
            | st.just(PEM.replace("\n", "\\n"))
            | st.sampled_from(
                [
                    f"@file:{key_file}",
                    f"@file:{other_file}",
                    "@file:/nonexistent/AuthKey.p8",
                    "@file:/",
                    "@env:ASC_KEY_ID",
                    "@env:NOT_SET_ANYWHERE",
                    str(key_file),
                    "/dev/null",
                    "/",
                ]
            )
        )
    )


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real key file, and a file of garbage."""
    directory = tmp_path_factory.mktemp("fuzz-keys")
    good = keys.write_key_file(directory, PEM, name="AuthKey_2X9R4HXF34.p8")
    garbage = keys.write_key_file(directory, b"\xff\xfe garbage \x00", name="garbage.p8")
    return good, garbage


@FUZZ
@given(data=st.data())
def test_credentials_from_any_env_and_flags_fail_only_with_our_errors(
    data: st.DataObject, key_files: tuple[Path, Path]
) -> None:
    good, garbage = key_files
    names = data.draw(st.lists(st.sampled_from(ENV_NAMES), unique=True, max_size=7))
    environ = {name: data.draw(env_values(good, garbage)) for name in names}
    flags = CredentialFlags(
        key_id=data.draw(st.none() | ID_TEXT),
        issuer_id=data.draw(st.none() | ID_TEXT),
        private_key_file=data.draw(
            st.none() | st.sampled_from([str(good), str(garbage), "/nonexistent", "/", "-"])
        ),
        individual=data.draw(st.booleans()),
        token_lifetime=data.draw(st.none() | st.integers(-(2**40), 2**40)),
    )
    stdin = data.draw(st.binary(max_size=64) | st.just(PEM.encode()))
    try:
        raw = gather_credentials(flags, environ=environ, read_stdin=lambda: stdin)
    except UsageError as error:
        _check_error(error)
        return
    evaluation = evaluate(raw)  # "never raises for bad input"
    for error in evaluation.errors:
        _check_error(error)
    for check in evaluation.checks:
        assert _quotes_no_key(check.detail)
    try:
        credentials = load_credentials(flags, environ=environ, read_stdin=lambda: stdin)
    except AscAccessError as error:
        _check_error(error)
    else:
        assert _quotes_no_key(repr(credentials) + credentials.describe())


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.just(PEM)
    | st.just(base64.b64encode(PEM.encode()).decode()),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "key_id",
                    "issuer_id",
                    "key",
                    "key_content",
                    "key_filepath",
                    "is_key_content_base64",
                    "duration",
                    "in_house",
                    "other",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=12,
)


@FUZZ
@given(document=JSON_VALUES, text=st.none() | st.text(max_size=80) | st.binary(max_size=80))
def test_fastlane_api_key_json_of_any_shape(
    document: Any, text: str | bytes | None, tmp_path: Path
) -> None:
    path = tmp_path / "api_key.json"
    if text is None:
        path.write_text(json.dumps(document))
    elif isinstance(text, str):
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(text)
    try:
        load_credentials(CredentialFlags(api_key_json=str(path)), environ={})
    except AscAccessError as error:
        _check_error(error)


# -- rate-limit headers, Retry-After, Date: through the doctor -------------------------------------

HEADER = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60) | (
    st.sampled_from(
        [
            "user-hour-lim:3600;user-hour-rem:0;",
            "user-hour-lim:-1;user-hour-rem:99999999999999999999;",
            "user-hour-rem:;;;:::",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Mon, 32 Foo 2026 99:99:99 GMT",
            "1e308",
            "99999999999999999",
            "-5",
            "NaN",
        ]
    )
)


@FUZZ
@given(value=HEADER, now=st.datetimes(timezones=st.just(UTC)))
def test_rate_limit_and_retry_after_parsers_never_raise(value: str, now: datetime) -> None:
    snapshot = parse_rate_limit(value)
    if snapshot is not None:
        assert snapshot.limit is None or snapshot.limit >= 0
        assert snapshot.remaining is None or snapshot.remaining >= 0
    delay = parse_retry_after(value, now=now)
    assert delay is None or (math.isfinite(delay) and delay >= 0)


AGREEMENTS = json.dumps(
    {"errors": [{"status": "403", "code": "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"}]}
).encode()
BODIES = st.sampled_from(
    [
        b'{"data": [], "meta": {"paging": {"total": 0, "limit": 1}}}',
        b'{"errors": [{"status": "401", "code": "NOT_AUTHORIZED"}]}',
        b'{"errors": [{"status": "403", "code": "FORBIDDEN_ERROR"}]}',
        AGREEMENTS,
        b'{"errors": [{"status": "429", "code": "RATE_LIMIT_EXCEEDED"}]}',
        b"<html>502 Bad Gateway</html>",
        b"",
        b"\x00\xff",
    ]
) | st.binary(max_size=80)


@FUZZ
@given(
    answers=st.lists(
        st.tuples(
            st.sampled_from([200, 200, 401, 403, 404, 429, 500, 502, 503, 504, 302, 418]),
            BODIES,
            HEADER,
            HEADER,
            HEADER,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_doctor_ends_in_a_report_whatever_apple_answers(
    answers: list[tuple[int, bytes, str, str, str]], key_files: tuple[Path, Path]
) -> None:
    good, _ = key_files
    flags = CredentialFlags(
        key_id="2X9R4HXF34",
        issuer_id="57246542-96fe-1a63-e053-0824d011072a",
        private_key_file=str(good),
    )
    evaluation = evaluate(gather_credentials(flags, environ={}))
    assume(evaluation.ok)
    replies = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        status, body, rate, retry_after, date = next(replies, answers[-1])
        headers = {"X-Rate-Limit": rate, "Retry-After": retry_after, "Date": date}
        return httpx.Response(status, content=body, headers=headers)

    factory = doctor_client_factory(
        "https://api.test",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0, total_budget=0),
    )
    import asyncio

    report = asyncio.run(
        diagnose_credentials(evaluation, "https://api.test", client_factory=factory)
    )
    document = report.as_dict()
    assert set(document) >= {"ok", "code", "cause", "findings", "checks", "capabilities"}
    if not document["ok"]:
        assert document["code"] in {f"APP-10{i}" for i in range(1, 8)}, document
        assert document["findings"][0]["resolution"]
    json.dumps(document)


# -- desired-state files -------------------------------------------------------------------------

PERSON_KEYS = st.sampled_from(
    ["email", "first_name", "last_name", "roles", "apps", "all_apps", "provisioning"]
)
ANY_KEY = PERSON_KEYS | st.text(max_size=6) | st.integers() | st.none() | st.booleans()
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["a@b.c", "ADMIN", "DEVELOPER", "ACCOUNT_HOLDER", "com.example.app"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(ANY_KEY, children, max_size=5)
    ),
    max_leaves=20,
)
DOCUMENTS = st.dictionaries(
    st.sampled_from(["connections", "people"]) | ANY_KEY,
    st.dictionaries(ANY_KEY, VALUES | st.dictionaries(st.just("people"), VALUES), max_size=3)
    | VALUES,
    max_size=3,
)


@FUZZ
@given(document=DOCUMENTS | VALUES)
def test_desired_state_documents_of_any_shape(document: Any) -> None:
    try:
        state = parse_desired_state(document, "team.yaml")
    except UsageError as error:
        _check_error(error, "team.yaml")
    else:
        for name, people in state.teams.items():
            assert isinstance(name, str)
            for person in people:
                assert "@" in person.email


@FUZZ
@given(
    text=st.text(max_size=300)
    | st.sampled_from(
        [
            "connections: {acme: [{email: a@b.c, first_name: A, last_name: B, roles: x}]}",
            "connections:\n  acme:\n    people:\n      - &a {email: a@b.c}\n      - *a\n",
            "a: &a [*a]",
            "!!python/object:os.system {}",
            "connections: !!binary aGVsbG8=",
            "connections: {? [a, b] : c}",
            "\x00\x01",
        ]
    ),
    suffix=st.sampled_from([".yaml", ".yml", ".json", ".txt"]),
)
@example(text="{" * 2000, suffix=".json")
@example(text="[" * 2000, suffix=".yaml")
def test_desired_state_files_of_any_text(text: str, suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"team{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_desired_state(path)
    except UsageError as error:
        _check_error(error, str(path), strict=True)


# -- regressions found by the fuzzing above ------------------------------------------------------


@pytest.mark.parametrize(
    ("env_name", "flag"),
    [
        ("ASC_KEY_ID", None),
        ("ASC_ISSUER_ID", None),
        ("APP_STORE_CONNECT_KEY_IDENTIFIER", None),
        ("ASC_PRIVATE_KEY_PATH", None),
        (None, "--private-key-file"),
        (None, "--key-id"),
    ],
)
def test_a_private_key_pasted_into_the_wrong_place_is_never_echoed(
    env_name: str | None, flag: str | None, key_files: tuple[Path, Path]
) -> None:
    """Was: the Key ID / Issuer ID messages quoted the value, and a key given as a *path*
    became part of the source label, so the whole PEM came back in output and logs."""
    from hardening.support import cli

    good, _ = key_files
    environ = {
        "ASC_KEY_ID": "2X9R4HXF34",
        "ASC_ISSUER_ID": "57246542-96fe-1a63-e053-0824d011072a",
        "ASC_PRIVATE_KEY_PATH": str(good),
    }
    args = ["doctor", "--json", "--api-url", "http://127.0.0.1:9"]
    if env_name is not None:
        environ[env_name] = PEM
        if env_name == "APP_STORE_CONNECT_KEY_IDENTIFIER":
            del environ["ASC_KEY_ID"]  # else ASC_KEY_ID wins and the PEM is never read
    else:
        assert flag is not None
        args += [flag, PEM]
    result = cli(*args, env=environ)
    assert result.exit_code in {2, 101}, result.stdout
    assert result.exception is None
    everything = result.stdout + result.stderr
    assert BODY_LINES
    assert not any(line in everything for line in BODY_LINES), "the key was echoed"
    assert "not shown" in everything or "not a file path" in everything


@pytest.mark.parametrize(
    "document",
    [
        {"connections": {"acme": [{"email": "a@b.c", 1: "x", None: "y"}]}},
        {"connections": {"acme": {"people": [{"email": "a@b.c", 2: 3}]}}},
        {"connections": {1: [{"email": "a@b.c", "roles": ["ADMIN"], True: False}]}},
    ],
)
def test_desired_state_keys_that_are_not_text(document: Any) -> None:
    """Was: a TypeError (sorting and joining keys of mixed types) instead of a usage error."""
    with pytest.raises(UsageError, match="unknown key"):
        parse_desired_state(document, "team.yaml")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("deep.json", b"[" * 100_000, "nested too deeply"),
        ("deep.yaml", b"[" * 100_000, "nested too deeply"),
        ("latin1.yaml", "connections: {acme: [{email: é}]}".encode("latin-1"), "not UTF-8"),
    ],
)
def test_desired_state_files_that_are_too_deep_or_not_utf8(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    """Was: RecursionError / UnicodeDecodeError tracebacks instead of a usage error."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        load_desired_state(path)


@pytest.mark.parametrize("duration", ["Infinity", "-Infinity", "NaN", "1e400", "1e300"])
def test_fastlane_duration_that_is_no_number_of_seconds(tmp_path: Path, duration: str) -> None:
    """Was: OverflowError / ValueError tracebacks from ``int(duration)``."""
    path = tmp_path / "api_key.json"
    path.write_text('{"key_id": "2X9R4HXF34", "duration": ' + duration + "}")
    with pytest.raises(UsageError, match="duration must be a number of seconds"):
        load_credentials(CredentialFlags(api_key_json=str(path)), environ={})
