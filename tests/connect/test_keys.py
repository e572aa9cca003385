"""Private-key parsing: every copy-paste tolerance, every really-wrong input."""

from __future__ import annotations

import base64
import pickle
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from _support import keys
from asc_access.credentials import PrivateKey, clean_text_value, parse_private_key, read_key_file
from asc_access.errors import CredentialError

SOURCE = "env ASC_PRIVATE_KEY"


@pytest.fixture(scope="module")
def pem() -> str:
    return keys.p256_key_pem()


def _same_key(pem_a: str, loaded: PrivateKey) -> bool:
    reference = parse_private_key(pem_a, source="reference").key
    return reference == loaded


def _one_line_body(pem: str) -> str:
    body = keys.pem_body(pem).replace("\n", "")
    return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"


def _wrap(text: str, width: int) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


@pytest.mark.parametrize(
    ("label", "mangle", "note"),
    [
        ("as downloaded", lambda p: p, None),
        ("missing final newline", lambda p: p.rstrip("\n"), None),
        ("surrounding whitespace", lambda p: f"  \n{p}\n\n  ", None),
        ("double quotes", lambda p: f'"{p}"', "quotes"),
        ("single quotes", lambda p: f"'{p}'", "quotes"),
        ("\\n escapes", lambda p: p.replace("\n", "\\n"), "\\n escapes"),
        ("quoted \\n escapes", lambda p: '"' + p.replace("\n", "\\n") + '"', "\\n escapes"),
        ("CRLF", lambda p: p.replace("\n", "\r\n"), "Windows line endings"),
        ("one line with spaces", lambda p: p.replace("\n", " "), "re-wrapped"),
        ("body on one line", _one_line_body, "re-wrapped"),
        (
            "base64 of the whole PEM",
            lambda p: base64.b64encode(p.encode()).decode(),
            "base64 of a whole PEM",
        ),
        (
            "base64 of the whole PEM, wrapped",
            lambda p: _wrap(base64.b64encode(p.encode()).decode(), 76),
            "base64 of a whole PEM",
        ),
        ("body without header lines", keys.pem_body, "without its PEM header"),
        ("body on one line without headers", lambda p: keys.pem_body(p).replace("\n", ""), None),
        ("BOM in front", lambda p: "\ufeff" + p, "invisible"),
    ],
)
def test_tolerated_forms_give_the_same_key(
    pem: str, label: str, mangle: object, note: str | None
) -> None:
    assert callable(mangle)
    loaded = parse_private_key(mangle(pem), source=SOURCE)
    assert _same_key(pem, loaded.key), label
    if note:
        assert any(note in n for n in loaded.notes), (label, loaded.notes)


def test_raw_der_bytes_and_sec1_are_accepted(pem: str) -> None:
    loaded = parse_private_key(keys.key_der(pem), source="file x.p8")
    assert _same_key(pem, loaded.key)
    assert "binary DER" in " ".join(loaded.notes)
    sec1 = parse_private_key(keys.sec1_key_pem(), source="file x.p8")
    assert sec1.form == "SEC1 EC PEM"


def test_fastlane_declared_base64(pem: str) -> None:
    encoded = base64.b64encode(pem.encode()).decode()
    assert _same_key(pem, parse_private_key(encoded, source=SOURCE, base64_content=True).key)
    with pytest.raises(CredentialError) as info:
        parse_private_key("not base64 at all!", source=SOURCE, base64_content=True)
    assert info.value.cause == "private_key_unreadable"


@pytest.mark.parametrize(
    ("make", "cause", "words"),
    [
        (keys.rsa_key_pem, "private_key_wrong_type", "RSA"),
        (lambda: keys.rsa_key_pem(traditional=True), "private_key_wrong_type", "RSA"),
        (lambda: keys.ec_key_pem(ec.SECP384R1()), "private_key_wrong_type", "secp384r1"),
        (lambda: keys.ec_key_pem(ec.SECP256K1()), "private_key_wrong_type", "secp256k1"),
        (keys.ed25519_key_pem, "private_key_wrong_type", "Ed25519"),
        (keys.public_key_pem, "private_key_wrong_type", "public key"),
        (keys.certificate_pem, "private_key_wrong_type", "certificate"),
        (keys.encrypted_key_pem, "private_key_encrypted", "encrypted"),
        (
            lambda: base64.b64encode(keys.encrypted_key_pem().encode()).decode(),
            "private_key_encrypted",
            "encrypted",
        ),
        (
            lambda: keys.pem_body(keys.encrypted_key_pem()),
            "private_key_encrypted",
            "encrypted",
        ),
        (lambda: keys.pem_body(keys.public_key_pem()), "private_key_wrong_type", "public key"),
        (lambda: "hello world, not a key!", "private_key_unreadable", "not a PEM key"),
        (lambda: "aGVsbG8gd29ybGQ=", "private_key_unreadable", "readable private key"),
        (lambda: b"\x00\x01\x02\xff\xfe garbage", "private_key_unreadable", "binary data"),
        (lambda: "", "private_key_unreadable", "empty"),
        (lambda: '  ""  ', "private_key_unreadable", "empty"),
        (lambda: "/home/me/AuthKey_ABC.p8", "private_key_unreadable", "file path"),
        (
            lambda: "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMG\n",
            "private_key_unreadable",
            "header or footer",
        ),
        (
            lambda: "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----",
            "private_key_unreadable",
            "readable private key",
        ),
    ],
)
def test_wrong_inputs_are_named_and_classified(make: object, cause: str, words: str) -> None:
    assert callable(make)
    value = make()
    with pytest.raises(CredentialError) as info:
        parse_private_key(value, source=SOURCE)
    error = info.value
    assert error.cause == cause
    assert error.code == "APP-101"
    assert error.source == SOURCE
    assert SOURCE in str(error)
    assert words.lower() in str(error).lower()


def test_error_text_never_quotes_the_key() -> None:
    wrong = keys.rsa_key_pem()
    with pytest.raises(CredentialError) as info:
        parse_private_key(wrong, source=SOURCE)
    body_lines = keys.pem_body(wrong).splitlines()
    assert not any(line in str(info.value) for line in body_lines)
    assert info.value.__cause__ is None


def test_private_key_never_shows_material(pem: str) -> None:
    key = parse_private_key(pem, source=SOURCE).key
    shown = repr(key) + str(key) + f"{key}"
    assert "PRIVATE" not in shown
    assert not any(line in shown for line in keys.pem_body(pem).splitlines())
    assert key.pem_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    with pytest.raises(TypeError):
        pickle.dumps(key)


@pytest.mark.parametrize(
    ("raw", "value", "noted"),
    [
        ("ABCDE12345", "ABCDE12345", False),
        ("  ABCDE12345\n", "ABCDE12345", True),
        ('"ABCDE12345"', "ABCDE12345", True),
        ("' ABCDE12345 '", "ABCDE12345", True),
        ("\u200bABCDE12345", "ABCDE12345", True),
    ],
)
def test_clean_text_value(raw: str, value: str, noted: bool) -> None:
    cleaned, notes = clean_text_value(raw)
    assert cleaned == value
    assert bool(notes) is noted


def test_read_key_file_problems(tmp_path: Path, pem: str) -> None:
    def cause_of(path: Path) -> str:
        with pytest.raises(CredentialError) as info:
            read_key_file(path, f"file {path}")
        assert str(path) in str(info.value)
        return str(info.value)

    assert "does not exist" in cause_of(tmp_path / "missing.p8")
    assert "directory" in cause_of(tmp_path)
    empty = keys.write_key_file(tmp_path, "", name="empty.p8")
    assert "empty" in cause_of(empty)
    blank = keys.write_key_file(tmp_path, "  \n\n", name="blank.p8")
    assert "empty" in cause_of(blank)
    huge = keys.write_key_file(tmp_path, b"x" * 100_000, name="huge.p8")
    assert "100000 bytes" in cause_of(huge)


def test_read_key_file_unreadable(tmp_path: Path, pem: str) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = keys.write_key_file(tmp_path, pem, mode=0o000)
    with pytest.raises(CredentialError) as info:
        read_key_file(path, f"file {path}")
    assert "permission denied" in str(info.value)
    assert info.value.cause == "private_key_unreadable"


def test_read_key_file_warns_when_others_can_read(tmp_path: Path, pem: str) -> None:
    private = keys.write_key_file(tmp_path, pem, name="a.p8", mode=0o600)
    assert read_key_file(private, "file a")[1] == []
    shared = keys.write_key_file(tmp_path, pem, name="b.p8", mode=0o644)
    data, warnings = read_key_file(shared, "file b")
    assert data == pem.encode()
    assert len(warnings) == 1
    assert "others" in warnings[0]
    assert "chmod 600" in warnings[0]
    group = keys.write_key_file(tmp_path, pem, name="c.p8", mode=0o640)
    assert "group" in read_key_file(group, "file c")[1][0]


def test_read_key_file_io_error() -> None:
    path = Path("/proc/self/mem")  # a regular file whose first bytes cannot be read
    if not path.exists():
        pytest.skip("no /proc")
    with pytest.raises(CredentialError) as info:
        read_key_file(path, "file /proc/self/mem")
    assert "cannot be read" in str(info.value)
    assert info.value.cause == "private_key_unreadable"
