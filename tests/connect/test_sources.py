"""Loading credentials from flags, env, fastlane JSON and stdin; offline checks."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from _support import keys
from asc_access.credentials import (
    CredentialFlags,
    evaluate,
    gather_credentials,
    load_credentials,
)
from asc_access.errors import CredentialError, UsageError

KID = "ABCDE12345"
ISS = "57246542-96fe-1a63-e053-0824d011072a"  # Apple's sample: not an RFC 4122 UUID


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return keys.write_key_file(tmp_path, keys.p256_key_pem(), name=f"AuthKey_{KID}.p8")


def _flags(key_file: Path, **overrides: object) -> CredentialFlags:
    values: dict[str, object] = {
        "key_id": KID,
        "issuer_id": ISS,
        "private_key_file": str(key_file),
    }
    values.update(overrides)
    return CredentialFlags(**values)  # type: ignore[arg-type]


def _causes(flags: CredentialFlags, environ: dict[str, str] | None = None) -> list[str | None]:
    ev = evaluate(gather_credentials(flags, environ=environ or {}))
    return [e.cause for e in ev.errors]


def test_flags_team_key(key_file: Path) -> None:
    creds = load_credentials(_flags(key_file), environ={})
    assert creds.key_id == KID
    assert creds.issuer_id == ISS
    assert creds.key_type == "team"
    assert creds.sources["key_id"] == "flag --key-id"
    assert creds.sources["private_key"].startswith(f"file {key_file}")
    assert creds.key_file == key_file


def test_individual_by_flag_or_by_missing_issuer(key_file: Path) -> None:
    creds = load_credentials(_flags(key_file, individual=True), environ={})
    assert creds.key_type == "individual"
    assert creds.issuer_id == ISS  # kept so the doctor can try the team shape
    creds = load_credentials(_flags(key_file, issuer_id=None), environ={})
    assert creds.key_type == "individual"
    assert creds.issuer_id is None


def test_env_names_asc_and_codemagic(key_file: Path) -> None:
    pem = key_file.read_text()
    creds = load_credentials(
        environ={"ASC_KEY_ID": KID, "ASC_ISSUER_ID": ISS, "ASC_PRIVATE_KEY_PATH": str(key_file)}
    )
    assert creds.sources == {
        "key_id": "env ASC_KEY_ID",
        "issuer_id": "env ASC_ISSUER_ID",
        "private_key": f"file {key_file} (env ASC_PRIVATE_KEY_PATH)",
        "key_type": "Issuer ID given (env ASC_ISSUER_ID)",
    }
    creds = load_credentials(
        environ={
            "APP_STORE_CONNECT_KEY_IDENTIFIER": KID,
            "APP_STORE_CONNECT_ISSUER_ID": ISS,
            "APP_STORE_CONNECT_PRIVATE_KEY": pem.replace("\n", "\\n"),
        }
    )
    assert creds.key_type == "team"
    assert creds.sources["private_key"] == "env APP_STORE_CONNECT_PRIVATE_KEY"
    creds = load_credentials(
        environ={"ASC_KEY_ID": KID, "ASC_PRIVATE_KEY": f'"{pem}"'},
    )
    assert creds.key_type == "individual"


def test_codemagic_indirections(key_file: Path) -> None:
    creds = load_credentials(
        environ={
            "APP_STORE_CONNECT_KEY_IDENTIFIER": "@env:MY_KID",
            "MY_KID": KID,
            "APP_STORE_CONNECT_PRIVATE_KEY": f"@file:{key_file}",
        }
    )
    assert creds.sources["key_id"] == "env MY_KID (via APP_STORE_CONNECT_KEY_IDENTIFIER)"
    assert creds.sources["private_key"] == f"file {key_file} (via APP_STORE_CONNECT_PRIVATE_KEY)"
    with pytest.raises(UsageError, match="MISSING_VAR"):
        load_credentials(environ={"ASC_KEY_ID": "@env:MISSING_VAR"})


def test_fastlane_json(tmp_path: Path, key_file: Path) -> None:
    pem = key_file.read_text()
    doc = {
        "key_id": KID,
        "issuer_id": ISS,
        "key": base64.b64encode(pem.encode()).decode(),
        "is_key_content_base64": True,
        "duration": 900,
        "in_house": False,
    }
    path = tmp_path / "api_key.json"
    path.write_text(json.dumps(doc))
    creds = load_credentials(CredentialFlags(api_key_json=str(path)), environ={})
    assert creds.key_id == KID
    assert creds.token_lifetime_seconds == 900
    assert creds.sources["private_key"] == f"file {path} (--api-key-json) key"
    # key_filepath form, individual (no issuer_id)
    path.write_text(json.dumps({"key_id": KID, "key_filepath": str(key_file)}))
    creds = load_credentials(CredentialFlags(api_key_json=str(path)), environ={})
    assert creds.key_type == "individual"
    assert creds.key_file == key_file


def test_fastlane_json_from_stdin(key_file: Path) -> None:
    doc = json.dumps({"key_id": KID, "issuer_id": ISS, "key": key_file.read_text()})
    creds = load_credentials(CredentialFlags(api_key_json="-"), environ={}, read_stdin=doc.encode)
    assert creds.sources["key_id"] == "stdin (--api-key-json -) key_id"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_fastlane_json_bad(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "api_key.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=words):
        load_credentials(CredentialFlags(api_key_json=str(path)), environ={})
    with pytest.raises(UsageError, match="cannot be read"):
        load_credentials(CredentialFlags(api_key_json=str(tmp_path / "nope.json")), environ={})
    with pytest.raises(UsageError, match="directory"):
        load_credentials(CredentialFlags(api_key_json=str(tmp_path)), environ={})


def test_private_key_from_stdin(key_file: Path) -> None:
    data = key_file.read_bytes()
    creds = load_credentials(
        CredentialFlags(key_id=KID, issuer_id=ISS, private_key_file="-"),
        environ={},
        read_stdin=lambda: data,
    )
    assert creds.sources["private_key"] == "stdin (--private-key-file -)"
    with pytest.raises(UsageError, match="stdin"):
        load_credentials(
            CredentialFlags(private_key_file="-", api_key_json="-"), environ={}, read_stdin=bytes
        )


def test_flag_wins_over_env_and_the_conflict_is_reported(key_file: Path) -> None:
    raw = gather_credentials(
        _flags(key_file), environ={"ASC_KEY_ID": "ZZZZZ99999", "ASC_ISSUER_ID": ISS}
    )
    ev = evaluate(raw)
    assert ev.ok
    assert ev.credentials is not None
    assert ev.credentials.key_id == KID
    sources = next(c for c in ev.checks if c.id == "sources")
    assert sources.status == "warn"
    assert "Key ID: flag --key-id wins over env ASC_KEY_ID" in sources.detail
    assert "Issuer ID" not in sources.detail.split("Conflicting sources:")[1]  # same value


@pytest.mark.parametrize(
    ("overrides", "env", "missing"),
    [
        ({"key_id": None}, {}, "no Key ID"),
        ({"private_key_file": None}, {}, "no private key"),
        ({"key_id": "  "}, {}, "no Key ID"),
        ({"key_id": None}, {"ASC_KEY_ID": ""}, "no Key ID"),
    ],
)
def test_missing_values_are_usage_errors(
    key_file: Path, overrides: dict[str, object], env: dict[str, str], missing: str
) -> None:
    with pytest.raises(UsageError, match=missing):
        load_credentials(_flags(key_file, **overrides), environ=env)


def test_missing_key_id_hints_at_the_file_name(key_file: Path) -> None:
    with pytest.raises(UsageError, match=f"suggests {KID}"):
        load_credentials(_flags(key_file, key_id=None), environ={})


@pytest.mark.parametrize(
    ("overrides", "cause"),
    [
        ({"key_id": "abcde12345"}, "key_id_malformed"),
        ({"key_id": "ABCDE1234"}, "key_id_malformed"),
        ({"key_id": "ABCDE-12345"}, "key_id_malformed"),
        ({"key_id": ISS, "issuer_id": None}, "key_id_malformed"),
        ({"issuer_id": "57246542-96fe-1a63-e053"}, "issuer_id_malformed"),
        ({"issuer_id": "57246542x96fe-1a63-e053-0824d011072a"}, "issuer_id_malformed"),
        ({"issuer_id": "ZZ246542-96fe-1a63-e053-0824d011072a"}, "issuer_id_malformed"),
        ({"key_id": ISS, "issuer_id": KID}, "ids_swapped"),
        ({"token_lifetime": 1201}, "token_lifetime_invalid"),
        ({"token_lifetime": 0}, "token_lifetime_invalid"),
        ({"token_lifetime": -5}, "token_lifetime_invalid"),
    ],
)
def test_offline_causes(key_file: Path, overrides: dict[str, object], cause: str) -> None:
    flags = _flags(key_file, **overrides)
    assert _causes(flags) == [cause]
    with pytest.raises(CredentialError) as info:
        load_credentials(flags, environ={})
    assert info.value.cause == cause
    assert info.value.source  # every message names its source
    assert info.value.source in str(info.value)


def test_tolerated_id_forms(key_file: Path) -> None:
    creds = load_credentials(
        _flags(key_file, key_id=f' "{KID}"\n', issuer_id=f"'{ISS.upper()}' "), environ={}
    )
    assert creds.key_id == KID
    assert creds.issuer_id == ISS.upper()  # shape only, case-insensitive


def test_filename_mismatch(tmp_path: Path) -> None:
    other = keys.write_key_file(tmp_path, keys.p256_key_pem(), name="AuthKey_OTHER12345.p8")
    flags = CredentialFlags(key_id=KID, issuer_id=ISS, private_key_file=str(other))
    ev = evaluate(gather_credentials(flags, environ={}))
    # A file name is a clue, not proof (the file may be renamed): a warning, not an error.
    assert ev.ok
    assert ev.credentials is not None
    assert [e.cause for e in ev.suspicions] == ["key_id_filename_mismatch"]
    assert "OTHER12345" in ev.suspicions[0].message
    assert next(c for c in ev.checks if c.id == "key_id_filename").status == "warn"
    named_freely = keys.write_key_file(tmp_path, keys.p256_key_pem(), name="prod-key.p8")
    flags = CredentialFlags(key_id=KID, issuer_id=ISS, private_key_file=str(named_freely))
    ev = evaluate(gather_credentials(flags, environ={}))
    assert ev.ok
    assert next(c for c in ev.checks if c.id == "key_id_filename").status == "skip"


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (lambda: "", "private_key_unreadable"),
        (lambda: b"\x89PNG\r\n\x1a\n\x00\x00garbage\xff", "private_key_unreadable"),
        (keys.rsa_key_pem, "private_key_wrong_type"),
        (keys.encrypted_key_pem, "private_key_encrypted"),
    ],
)
def test_bad_key_files(tmp_path: Path, content: object, cause: str) -> None:
    assert callable(content)
    path = keys.write_key_file(tmp_path, content(), name=f"AuthKey_{KID}.p8")
    flags = _flags(path)
    assert _causes(flags) == [cause]


def test_directory_and_missing_file(tmp_path: Path) -> None:
    for target in (tmp_path, tmp_path / "nope.p8"):
        ev = evaluate(gather_credentials(_flags(target), environ={}))
        assert [e.cause for e in ev.errors] == ["private_key_unreadable"]
        assert str(target) in ev.errors[0].message
        assert any(c.id == "private_key_file" and c.status == "fail" for c in ev.checks)


def test_others_readable_file_is_a_warning(tmp_path: Path) -> None:
    path = keys.write_key_file(tmp_path, keys.p256_key_pem(), mode=0o644)
    ev = evaluate(gather_credentials(_flags(path, key_id=None), environ={"ASC_KEY_ID": KID}))
    check = next(c for c in ev.checks if c.id == "private_key_file")
    assert check.status == "warn"
    assert "readable by others" in check.detail


def test_evaluate_keeps_going_after_a_failure(tmp_path: Path) -> None:
    path = keys.write_key_file(tmp_path, keys.rsa_key_pem(), name="AuthKey_OTHER12345.p8")
    flags = CredentialFlags(key_id="bad", issuer_id="also-bad", private_key_file=str(path))
    ev = evaluate(gather_credentials(flags, environ={}))
    assert [e.cause for e in ev.errors] == [
        "key_id_malformed",
        "issuer_id_malformed",
        "private_key_wrong_type",
    ]
    assert ev.credentials is None
    ids = [c.id for c in ev.checks]
    assert ids == [
        "sources",
        "key_id_format",
        "issuer_id_format",
        "key_type",
        "private_key_file",
        "private_key",
        "key_id_filename",
        "token_lifetime",
    ]
