"""Key material generated at run time for tests (never committed).

Every helper returns PEM text (``str``) unless its name says otherwise. Use
:func:`key_id` for a random, well-formed Key ID and :func:`write_key_file`
to put a key where a test wants it, with the mode it wants.
"""

from __future__ import annotations

import base64
import secrets
import string
import uuid
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "certificate_pem",
    "ec_key_pem",
    "ed25519_key_pem",
    "encrypted_key_pem",
    "issuer_id",
    "key_der",
    "key_id",
    "p256_key",
    "p256_key_pem",
    "pem_body",
    "public_key_pem",
    "rsa_key_pem",
    "sec1_key_pem",
    "write_key_file",
]

_KEY_ID_ALPHABET = string.ascii_uppercase + string.digits


def key_id() -> str:
    """A random, well-formed Key ID (10 upper-case letters and digits)."""
    return "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(10))


def issuer_id() -> str:
    """A random, well-formed Issuer ID."""
    return str(uuid.uuid4())


def p256_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 private key object."""
    return ec.generate_private_key(ec.SECP256R1())


def _pkcs8(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def p256_key_pem(key: ec.EllipticCurvePrivateKey | None = None) -> str:
    """An unencrypted PKCS#8 P-256 key, exactly as App Store Connect's ``.p8``."""
    return _pkcs8(key or p256_key())


def key_der(pem: str) -> bytes:
    """The DER bytes inside a PEM."""
    return base64.b64decode("".join(pem_body(pem).split()))


def pem_body(pem: str) -> str:
    """The base64 lines of a PEM, without the header and footer lines."""
    lines = [line for line in pem.strip().splitlines() if not line.startswith("-----")]
    return "\n".join(lines)


def sec1_key_pem() -> str:
    """A P-256 key in the traditional ``EC PRIVATE KEY`` (SEC1) form."""
    return (
        p256_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        .decode("ascii")
    )


def ec_key_pem(curve: ec.EllipticCurve) -> str:
    """A PKCS#8 EC key on another curve (e.g. ``ec.SECP384R1()``)."""
    return _pkcs8(ec.generate_private_key(curve))


def rsa_key_pem(*, traditional: bool = False) -> str:
    """An RSA key (PKCS#8, or ``RSA PRIVATE KEY`` when ``traditional``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if not traditional:
        return _pkcs8(key)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def ed25519_key_pem() -> str:
    """An Ed25519 key (PKCS#8)."""
    return _pkcs8(ed25519.Ed25519PrivateKey.generate())


def encrypted_key_pem(password: bytes = b"secret") -> str:
    """A P-256 key as encrypted PKCS#8 (``ENCRYPTED PRIVATE KEY``)."""
    return (
        p256_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
        .decode("ascii")
    )


def public_key_pem() -> str:
    """The public half of a P-256 key (``PUBLIC KEY``)."""
    return (
        p256_key()
        .public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode("ascii")
    )


def certificate_pem() -> str:
    """A self-signed certificate for a P-256 key (``CERTIFICATE``)."""
    import datetime as dt

    key = p256_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "asc-access test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def write_key_file(
    directory: Path, content: str | bytes, *, name: str | None = None, mode: int = 0o600
) -> Path:
    """Write ``content`` to ``directory/name`` (default ``AuthKey_<random>.p8``) with ``mode``."""
    path = directory / (name or f"AuthKey_{key_id()}.p8")
    data = content.encode("ascii") if isinstance(content, str) else content
    path.write_bytes(data)
    path.chmod(mode)
    return path
