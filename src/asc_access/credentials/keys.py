"""Private keys: tolerant of what copy-paste does, strict about what is really wrong.

App Store Connect's ``.p8`` is an unencrypted PKCS#8 PEM wrapping an EC key on
P-256. People hand it to tools in many mangled forms; :func:`parse_private_key`
undoes the harmless ones (surrounding whitespace or quotes, ``\\n`` escapes,
Windows line endings, a missing final newline, the whole PEM base64-encoded, a
PEM squeezed onto one line, the base64 body without its header lines, raw DER)
and names each one it undid. What it cannot undo becomes a
:class:`~asc_access.errors.CredentialError` with a catalogue cause
(``private_key_unreadable``, ``private_key_encrypted``, ``private_key_wrong_type``)
that names where the key came from and never quotes the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from asc_access.errors import CredentialError

__all__ = [
    "MAX_KEY_FILE_BYTES",
    "LoadedKey",
    "PrivateKey",
    "clean_text_value",
    "parse_private_key",
    "read_key_file",
]

#: A real ``.p8`` is about 250 bytes; anything this large is not one.
MAX_KEY_FILE_BYTES = 64 * 1024

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00a0"), None)
_PEM_BLOCK = re.compile(
    r"-{3,}\s*BEGIN ([A-Z0-9 ]+?)\s*-{3,}(.*?)-{3,}\s*END ([A-Z0-9 ]+?)\s*-{3,}", re.DOTALL
)
_BASE64_TEXT = re.compile(r"^[A-Za-z0-9+/=_-]+$")


class PrivateKey:
    """An EC P-256 private key whose ``repr`` and ``str`` never show key material.

    ``fingerprint`` is the SHA-256 of the public key (safe to show: it identifies
    the key without revealing it). ``pem_bytes()`` exists only so the vault can
    encrypt the key for storage.
    """

    __slots__ = ("_key", "fingerprint")

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.fingerprint = hashlib.sha256(public).hexdigest()[:16]

    def pem_bytes(self) -> bytes:
        """The key as unencrypted PKCS#8 PEM: for encryption at rest only."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def signing_key(self) -> ec.EllipticCurvePrivateKey:
        """The key object the JWT signer uses."""
        return self._key

    def __repr__(self) -> str:
        return f"PrivateKey(P-256, public sha256:{self.fingerprint})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrivateKey) and other.fingerprint == self.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __reduce__(self) -> NoReturn:
        raise TypeError("PrivateKey cannot be pickled: key material stays in memory")


@dataclass(frozen=True, slots=True)
class LoadedKey:
    """A parsed key and the harmless mangling that was undone to read it."""

    key: PrivateKey
    notes: tuple[str, ...] = ()
    form: str = "PKCS#8 PEM"


@dataclass(slots=True)
class _Work:
    source: str
    notes: list[str] = field(default_factory=list)

    def fail(self, cause: str, message: str) -> NoReturn:
        raise CredentialError(
            f"the private key from {self.source} {message}", cause=cause, source=self.source
        )


def clean_text_value(raw: str) -> tuple[str, list[str]]:
    """Undo copy-paste damage around a single-line value (Key ID, Issuer ID, path).

    Strips surrounding whitespace, invisible characters (zero-width spaces, byte
    order marks, non-breaking spaces) and quotes around the whole value.
    Returns the value and what was removed.
    """
    notes: list[str] = []
    value = raw.translate(_INVISIBLE)
    if value != raw:
        notes.append("removed invisible characters")
    stripped = value.strip()
    if stripped != value:
        notes.append("removed surrounding whitespace")
    value = stripped
    while len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"`":
        value = value[1:-1].strip()
        notes.append("removed quotes around the value")
    return value, notes


def read_key_file(path: Path, source: str) -> tuple[bytes, list[str]]:
    """Read a key file; return its bytes and warnings (a file readable by others).

    Raises ``CredentialError(private_key_unreadable)`` naming the file for a
    missing file, a directory, an unreadable or empty file, or one far too large.
    """
    work = _Work(source)
    try:
        info = path.stat()
    except FileNotFoundError:
        work.fail("private_key_unreadable", "does not exist")
    except OSError as error:
        work.fail("private_key_unreadable", f"cannot be read ({error.strerror})")
    if stat.S_ISDIR(info.st_mode):
        work.fail("private_key_unreadable", "is a directory, not a .p8 file")
    if not stat.S_ISREG(info.st_mode) and not stat.S_ISFIFO(info.st_mode):
        work.fail("private_key_unreadable", "is not a regular file")
    warnings: list[str] = []
    if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077:
        who = "others" if info.st_mode & 0o007 else "the file's group"
        warnings.append(
            f"{source} is readable by {who} (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"restrict it with: chmod 600 {path}"
        )
    if info.st_size > MAX_KEY_FILE_BYTES:
        work.fail(
            "private_key_unreadable",
            f"is {info.st_size} bytes; an App Store Connect .p8 is about 250 bytes",
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except PermissionError:
        work.fail("private_key_unreadable", "cannot be read: permission denied")
    except OSError as error:
        work.fail("private_key_unreadable", f"cannot be read ({error.strerror})")
    if not data.strip():
        work.fail("private_key_unreadable", "is empty")
    if os.name == "nt":  # pragma: no cover - permissions are POSIX here
        warnings.clear()
    return data, warnings


def parse_private_key(raw: bytes | str, *, source: str, base64_content: bool = False) -> LoadedKey:
    """Parse an App Store Connect private key from whatever form it arrived in.

    ``source`` names where it came from (``file /path/AuthKey_X.p8``, ``env
    ASC_PRIVATE_KEY``) for every message. ``base64_content`` says the value is
    declared base64 (fastlane's ``is_key_content_base64``).
    """
    work = _Work(source)
    if isinstance(raw, bytes):
        if not raw.strip():
            work.fail("private_key_unreadable", "is empty")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _from_der(work, raw, binary=True)
        if "\x00" in text:
            return _from_der(work, raw, binary=True)
    else:
        text = raw
    text, notes = clean_text_value(text)
    work.notes.extend(n for n in notes if "whitespace" not in n)  # a final newline is normal
    if not text:
        work.fail("private_key_unreadable", "is empty")
    if base64_content:
        decoded = _b64decode(text)
        if decoded is None:
            work.fail("private_key_unreadable", "is declared base64 but is not valid base64")
        return _from_bytes_after_base64(work, decoded)
    return _from_text(work, text, depth=0)


def _from_text(work: _Work, text: str, *, depth: int) -> LoadedKey:
    if "\\n" in text or "\\r" in text:
        text = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\r", "\n")
        work.notes.append("turned \\n escapes into line breaks")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        work.notes.append("turned Windows line endings into plain line breaks")
    if re.search(r"-{3,}\s*(BEGIN|END) ", text):
        return _from_pem_text(work, text)
    compact = "".join(text.split())
    if not _BASE64_TEXT.match(compact):
        if _looks_like_path(text):
            work.fail(
                "private_key_unreadable",
                "looks like a file path, not a key; pass it with --private-key-file "
                "or ASC_PRIVATE_KEY_PATH",
            )
        work.fail(
            "private_key_unreadable",
            "is not a PEM key: expected -----BEGIN PRIVATE KEY----- (the .p8 file "
            "as downloaded from App Store Connect)",
        )
    decoded = _b64decode(compact)
    if decoded is None or depth > 1:
        work.fail("private_key_unreadable", "is neither a PEM key nor valid base64")
    return _from_bytes_after_base64(work, decoded)


def _from_bytes_after_base64(work: _Work, decoded: bytes) -> LoadedKey:
    head = decoded.lstrip()[:40]
    if head.startswith(b"-----"):
        work.notes.append("decoded the base64 of a whole PEM")
        try:
            inner = decoded.decode("ascii")
        except UnicodeDecodeError:
            work.fail("private_key_unreadable", "decodes from base64 to something unreadable")
        return _from_text(work, inner.strip(), depth=1)
    work.notes.append("read a base64 key body without its PEM header lines")
    return _from_der(work, decoded, binary=False)


def _from_pem_text(work: _Work, text: str) -> LoadedKey:
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        work.fail(
            "private_key_unreadable",
            "has a broken PEM header or footer: it must start with "
            "-----BEGIN PRIVATE KEY----- and end with -----END PRIVATE KEY-----",
        )
    labels = [begin for begin, _body, _end in blocks]
    private = [b for b in blocks if "PRIVATE KEY" in b[0]]
    if not private:
        _wrong_pem_kind(work, labels[0])
    begin, body, end = private[0]
    if begin != end:
        work.fail("private_key_unreadable", f"has mismatched PEM lines (BEGIN {begin} / END {end})")
    if len(blocks) > 1:
        work.notes.append(f"ignored {len(blocks) - 1} other PEM block(s) in the same input")
    headers = [line for line in body.split("\n") if ":" in line]
    if begin == "ENCRYPTED PRIVATE KEY" or any("ENCRYPTED" in line for line in headers):
        work.fail(
            "private_key_encrypted",
            "is encrypted with a password; App Store Connect's .p8 is not: use the "
            "file exactly as downloaded",
        )
    if begin == "RSA PRIVATE KEY":
        _wrong_type(work, "an RSA key")
    if begin == "OPENSSH PRIVATE KEY":
        _wrong_type(work, "an OpenSSH key")
    if begin not in {"PRIVATE KEY", "EC PRIVATE KEY"}:
        _wrong_type(work, f"a {begin}")
    lines = [line.strip() for line in body.strip().split("\n")]
    if any(":" in line for line in lines):  # PEM headers such as Proc-Type
        lines = [line for line in lines if ":" not in line]
    body64 = "".join("".join(lines).split())
    expected = "\n".join(body64[i : i + 64] for i in range(0, len(body64), 64))
    if body.strip("\n") != expected:
        work.notes.append("re-wrapped the PEM body")
    der = _b64decode(body64)
    if der is None:
        work.fail("private_key_unreadable", "has a PEM body that is not valid base64")
    form = "PKCS#8 PEM" if begin == "PRIVATE KEY" else "SEC1 EC PEM"
    if begin == "EC PRIVATE KEY":
        work.notes.append("accepted the traditional EC PRIVATE KEY form (Apple's is PKCS#8)")
    return _from_der(work, der, binary=False, form=form)


def _from_der(  # noqa: RET503 - every other path raises
    work: _Work, der: bytes, *, binary: bool, form: str = "DER"
) -> LoadedKey:
    try:
        key = serialization.load_der_private_key(der, password=None)
    except TypeError:
        work.fail(
            "private_key_encrypted",
            "is encrypted with a password; App Store Connect's .p8 is not: use the "
            "file exactly as downloaded",
        )
    except (ValueError, binascii.Error, UnsupportedAlgorithm):
        _classify_unparsable(work, der, binary=binary)
    if binary:
        work.notes.append("read a binary DER key")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            _wrong_type(work, f"an EC key on curve {key.curve.name}, not P-256")
        return LoadedKey(PrivateKey(key), tuple(work.notes), form)
    if isinstance(key, rsa.RSAPrivateKey):
        _wrong_type(work, "an RSA key")
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        _wrong_type(work, "an Ed25519/Ed448 key")
    _wrong_type(work, f"a {type(key).__name__.removeprefix('_')}")


def _classify_unparsable(work: _Work, der: bytes, *, binary: bool) -> NoReturn:
    for loader, what in (
        (serialization.load_der_public_key, "a public key"),
        (_load_der_certificate, "a certificate"),
    ):
        try:
            loader(der)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        _wrong_type(work, what)
    if binary:
        work.fail(
            "private_key_unreadable",
            "is binary data, not a key: expected the .p8 text file from App Store Connect",
        )
    work.fail(
        "private_key_unreadable",
        "does not hold a readable private key (damaged or truncated base64?)",
    )


def _load_der_certificate(der: bytes) -> object:
    from cryptography import x509  # lazy: only to name a wrong input; costly up front

    return x509.load_der_x509_certificate(der)


def _wrong_pem_kind(work: _Work, label: str) -> NoReturn:
    if label == "CERTIFICATE":
        _wrong_type(work, "a certificate")
    if "PUBLIC KEY" in label:
        _wrong_type(work, "a public key")
    _wrong_type(work, f"a {label}")


def _wrong_type(work: _Work, what: str) -> NoReturn:
    work.fail(
        "private_key_wrong_type",
        f"is {what}; App Store Connect keys are EC P-256 private keys (the .p8 file "
        "from Users and Access → Integrations → App Store Connect API)",
    )


def _b64decode(text: str) -> bytes | None:
    compact = "".join(text.split())
    if not compact:
        return None
    padded = compact + "=" * (-len(compact) % 4)
    try:
        if "-" in compact or "_" in compact:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and (
        text.startswith(("/", "~", "./", "../")) or text.lower().endswith(".p8")
    )
