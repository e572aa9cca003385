"""A real OpenID provider process for the sign-in tests (oidc-provider-mock from PyPI)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from _support.service import free_port

__all__ = ["PEOPLE", "ROLE_MAP", "Provider", "run_provider"]

#: Who exists at the provider: e-mail -> groups.
PEOPLE: dict[str, list[str]] = {
    "vera.viewer@corp.example": ["staff", "asc-viewers"],
    "otto.operator@corp.example": ["staff", "asc-operators"],
    "ada.admin@corp.example": ["asc-admins", "asc-viewers"],
    "amir.admin@corp.example": ["asc-admins"],
    "nobody@corp.example": ["staff"],
    "mallory@elsewhere.example": ["asc-admins"],
}
ROLE_MAP = {"asc-viewers": "viewer", "asc-operators": "operator", "asc-admins": "admin"}


@dataclass(frozen=True)
class Provider:
    """A running provider."""

    issuer: str


@contextmanager
def run_provider() -> Iterator[Provider]:
    """Start ``oidc-provider-mock`` on a free port with :data:`PEOPLE` predefined."""
    port = free_port()
    args = [sys.executable, "-W", "ignore", "-m", "oidc_provider_mock", "--port", str(port)]
    for email, groups in PEOPLE.items():
        claims = {"sub": email, "email": email, "email_verified": True, "groups": groups}
        args += ["--user-claims", json.dumps(claims)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration"):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the OIDC provider did not start") from None
                time.sleep(0.1)
        yield Provider(issuer)
    finally:
        process.terminate()
        process.wait(10)
