"""Help shows on/off options as flags: ``--version``, not ``--version <bool>``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "asc-access"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "120", "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize(
    "args",
    [(), ("users",), ("doctor",), ("connections", "show"), ("tokens", "create"), ("sandbox",)],
)
def test_flags_take_no_value_in_help(args: tuple[str, ...]) -> None:
    done = _run(*args, "--help")
    assert done.returncode == 0, done.stderr
    assert "--help" in done.stdout
    assert "<bool>" not in done.stdout


def test_version_is_a_flag() -> None:
    help_text = _run("--help").stdout
    line = next(line for line in help_text.splitlines() if "--version" in line)
    assert "<" not in line, line
    done = _run("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("asc-access ")
