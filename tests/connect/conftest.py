"""Fixtures for connect/doctor tests: a shared read-only sandbox and a CLI runner."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner

from _support.sandbox import RunningSandbox, SandboxKey, start_sandbox
from asc_access.cli.main import app


@dataclass(frozen=True)
class Run:
    """One CLI invocation."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def doc(self) -> dict[str, Any]:
        """The single JSON document on stdout."""
        parsed: dict[str, Any] = json.loads(self.stdout)
        return parsed


def cli(*args: str, stdin: str | bytes | None = None, env: Mapping[str, str] | None = None) -> Run:
    """Run ``asc-access ARGS`` in-process (exceptions other than SystemExit are kept)."""
    result = CliRunner().invoke(app, list(args), input=stdin, env=env)
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return Run(result.exit_code, result.stdout, result.stderr, exception)


def key_args(key: SandboxKey, *, issuer: bool = True) -> list[str]:
    """Flags naming a sandbox key (team keys with their Issuer ID)."""
    out = ["--key-id", key.key_id, "--private-key-file", str(key.private_key_file)]
    if issuer and key.issuer_id:
        out += ["--issuer-id", key.issuer_id]
    return out


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[RunningSandbox]:
    """One demo sandbox for tests that do not change its state."""
    with start_sandbox() as running:
        yield running


@pytest.fixture(name="cli")
def cli_fixture() -> Any:
    """The in-process CLI runner (see :func:`cli`)."""
    return cli


@pytest.fixture(name="key_args")
def key_args_fixture() -> Any:
    """Flags naming a sandbox key (see :func:`key_args`)."""
    return key_args
