"""The key that signs console sessions, the same in every process of one deployment.

A random key per process would sign everyone out at each restart and make two
service processes (behind one load balancer) refuse each other's cookies. The
key is derived with HKDF-SHA256, under its own label, from:

1. ``ASC_ACCESS_SESSION_SECRET`` when set (at least 32 characters);
2. else the master key: ``ASC_ACCESS_MASTER_KEY``, or the ``master.key`` file in
   ``ASC_ACCESS_HOME`` when it exists (it is read, never created here);
3. else a random key for this process only (said in the log).

The label keeps the session key independent of the key that encrypts private
keys: knowing one says nothing about the other.
"""

from __future__ import annotations

import logging
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from asc_access.config import Settings
from asc_access.errors import UsageError
from asc_access.vault import MASTER_KEY_FILE

__all__ = ["MIN_SESSION_SECRET", "session_secret_for"]

log = logging.getLogger("asc_access.service.sessions")

MIN_SESSION_SECRET = 32
_INFO = b"asc-access console session signing v1"


def _derive(material: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)


def session_secret_for(settings: Settings) -> bytes:
    """The session signing key for ``settings`` (see the module docstring)."""
    if settings.session_secret is not None:
        if len(settings.session_secret.strip()) < MIN_SESSION_SECRET:
            raise UsageError(
                f"ASC_ACCESS_SESSION_SECRET is shorter than {MIN_SESSION_SECRET} characters: "
                'use a long random value (e.g. `python -c "import secrets; '
                'print(secrets.token_urlsafe(32))"`), the same in every service process'
            )
        return _derive(b"setting:" + settings.session_secret.strip().encode())
    if settings.master_key:
        return _derive(b"master:" + settings.master_key.strip().encode())
    path = settings.home / MASTER_KEY_FILE
    try:
        content = path.read_bytes().strip()
    except OSError:
        content = b""
    if content:
        return _derive(b"master:" + content)
    log.warning(
        "no ASC_ACCESS_SESSION_SECRET and no master key yet: console sessions are signed "
        "with a key of this process only (a restart signs everyone out)"
    )
    return secrets.token_bytes(32)
