"""No key material and no token in any output, log record, exception text or the database."""

from __future__ import annotations

import base64
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from _support import keys
from _support.sandbox import RunningSandbox
from asc_access.credentials import (
    CredentialFlags,
    TokenManager,
    load_credentials,
    parse_private_key,
)
from asc_access.errors import CredentialError

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def _material(pem: str) -> list[str]:
    """Every form a key could leak in: PEM body lines, the joined body, base64 of the PEM."""
    body = keys.pem_body(pem)
    lines = [line for line in body.splitlines() if len(line) >= 16]
    joined = "".join(body.split())
    return [*lines, joined, joined[:40], base64.b64encode(pem.encode()).decode()[:40]]


def _leaks(text: str, materials: list[str]) -> list[str]:
    found = [m[:12] + "..." for m in materials if m in text]
    found += [f"JWT {m.group(0)[:12]}..." for m in JWT.finditer(text)]
    return found


def test_nothing_secret_leaks_anywhere(
    cli: Any,
    key_args: Any,
    sandbox: RunningSandbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    _isolated_env: Path,  # noqa: PT019 - its value is the home directory
) -> None:
    caplog.set_level(logging.DEBUG)
    materials: list[str] = []
    for key in sandbox.keys.values():
        materials += _material(key.private_key_pem)
    rsa = keys.rsa_key_pem()
    truncated = keys.p256_key_pem()
    materials += _material(rsa) + _material(truncated)
    rsa_file = keys.write_key_file(tmp_path, rsa)
    cut = truncated.splitlines()
    truncated_file = keys.write_key_file(tmp_path, "\n".join([*cut[:2], cut[-1]]) + "\n")
    admin = sandbox.keys["admin"]
    url = ["--api-url", sandbox.base_url]
    outputs: list[str] = []
    exceptions: list[BaseException] = []

    def run(*args: str, **kwargs: Any) -> None:
        result = cli(*args, **kwargs)
        outputs.extend([result.stdout, result.stderr])
        if result.exception is not None:
            exceptions.append(result.exception)

    for as_json in ([], ["--json"]):
        run("doctor", *url, *key_args(admin), *as_json)
        run("doctor", *url, *key_args(sandbox.keys["developer"]), *as_json)
        run("doctor", *url, *key_args(sandbox.keys["revoked"]), *as_json)
        run("doctor", *url, *key_args(admin), "--individual", *as_json)
        run("doctor", *url, "--key-id", admin.key_id, "--private-key-file", str(rsa_file), *as_json)
        run("doctor", *url, "--key-id", admin.key_id, "--private-key-file", str(truncated_file),
            *as_json)  # fmt: skip
        run("doctor", *url, "--key-id", admin.key_id, "--issuer-id", str(admin.issuer_id),
            "--private-key-file", "-", *as_json, stdin=admin.private_key_pem)  # fmt: skip
    env = {
        "ASC_KEY_ID": admin.key_id,
        "ASC_ISSUER_ID": str(admin.issuer_id),
        "ASC_PRIVATE_KEY": admin.private_key_pem.replace("\n", "\\n"),
    }
    run("doctor", *url, "--json", env=env)
    run("connect", "prod", *url, *key_args(admin))
    run("connect", "dev", *url, "--force", *key_args(sandbox.keys["developer"]))
    run("doctor", "prod")
    run("doctor", "prod", "--json")
    run("connections")
    run("connections", "show", "prod", "--json")
    newer = sandbox.issue_key("team", role="ADMIN")
    materials += _material(newer.private_key_pem)
    run("connections", "rotate-key", "prod", *key_args(newer))
    sandbox.set_clock_offset(-400)
    run("doctor", "prod", "--json")  # 401, then a token dated by Apple's clock
    sandbox.set_clock_offset(0)
    sandbox.revoke_key(newer.key_id)
    run("doctor", "prod", "--json")
    monkeypatch.setenv("ASC_ACCESS_MASTER_KEY", "a different master key")
    run("doctor", "prod", "--json")  # cannot decrypt

    # Exceptions raised by the library itself.
    for bad in (rsa, "\n".join([*cut[:3], cut[-1]]), keys.encrypted_key_pem()):
        try:
            parse_private_key(bad, source="env ASC_PRIVATE_KEY")
        except CredentialError as error:
            exceptions.append(error)
    try:
        load_credentials(CredentialFlags(key_id="bad", private_key_file=str(rsa_file)), environ={})
    except CredentialError as error:
        exceptions.append(error)

    creds = load_credentials(CredentialFlags(**_flags(admin)), environ={})
    manager = TokenManager(creds)
    token = manager.token()
    shown = [repr(creds), str(creds), repr(manager), repr(creds.private_key)]

    texts = {
        "output": "\n".join(outputs),
        "logs": "\n".join(
            r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records
        ),
        "exceptions": "\n".join(
            f"{e!s} {e!r} {e.__cause__!s} {e.__context__!s}" for e in exceptions
        ),
        "reprs": "\n".join(shown),
    }
    assert len(texts["output"]) > 5000  # the runs above really printed their reports
    assert len(caplog.records) > 20  # and the client logged its requests at DEBUG
    for where, text in texts.items():
        assert _leaks(text, materials) == [], where
        assert token not in text, where

    home = _isolated_env
    database = b"".join(p.read_bytes() for p in home.glob("asc-access.db*"))
    assert database
    for key in (*sandbox.keys.values(), newer):
        pem = key.private_key_pem
        assert pem.encode() not in database
        assert keys.key_der(pem) not in database
        for material in _material(pem):
            assert material.encode() not in database
    assert not JWT.search(database.decode("latin-1"))
    assert not list(home.rglob("*.jwt"))


def _flags(key: Any) -> dict[str, str]:
    return {
        "key_id": key.key_id,
        "issuer_id": str(key.issuer_id),
        "private_key_file": str(key.private_key_file),
    }
