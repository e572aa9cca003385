"""Start-up stays light: ``--help`` and ``doctor`` never import the service, store or workers.

Each check runs in a fresh interpreter (a subprocess), invokes the CLI in it and
reports which heavy packages ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests._support.sandbox import start_sandbox

from asc_access.cli.main import COMMANDS, app, load_command

HEAVY = ("fastapi", "celery", "sqlalchemy", "uvicorn", "alembic", "starlette", "redis")

_PROBE = """
import json, sys
from asc_access.cli.main import app
try:
    app(sys.argv[1:], prog_name="asc-access")
except SystemExit as exit:
    code = exit.code
else:
    code = 0
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
sys.stderr.write("\\nPROBE " + json.dumps({{"exit": code, "heavy": heavy}}) + "\\n")
"""


#: Not heavy, but needless before the doctor's first request (issue #14): typer's
#: pydantic converters, a JWT library with X.509, httpx's command-line client.
NEEDLESS = ("pydantic", "jwt", "cryptography.x509", "httpx._main", "pygments")


def _probe(args: list[str], home: Path, heavy: tuple[str, ...] = HEAVY) -> dict[str, object]:
    env = {**os.environ, "ASC_ACCESS_HOME": str(home), "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=heavy), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("PROBE "))
    result: dict[str, object] = json.loads(line.removeprefix("PROBE "))
    result["stdout"] = done.stdout
    return result


def test_help_imports_no_heavy_module(tmp_path: Path) -> None:
    result = _probe(["--help"], tmp_path)
    assert result["exit"] == 0
    assert result["heavy"] == []
    assert "doctor" in str(result["stdout"])
    assert "workers" in str(result["stdout"])


def test_doctor_with_flags_imports_no_heavy_module(tmp_path: Path) -> None:
    with start_sandbox() as sandbox:
        key = sandbox.keys["admin"]
        args = [
            "doctor",
            "--key-id",
            key.key_id,
            "--issuer-id",
            str(key.issuer_id),
            "--private-key-file",
            str(key.private_key_file),
            "--api-url",
            sandbox.base_url,
            "--json",
        ]
        result = _probe(args, tmp_path)
        served = sandbox.stats()["requests"]
    assert result["exit"] == 0, result
    assert json.loads(str(result["stdout"]))["ok"] is True
    assert served > 0  # the doctor really talked to the API
    assert result["heavy"] == []


def test_doctor_skips_needless_imports(tmp_path: Path) -> None:
    with start_sandbox() as sandbox:
        key = sandbox.keys["admin"]
        args = [
            "doctor",
            "--key-id",
            key.key_id,
            "--issuer-id",
            str(key.issuer_id),
            "--private-key-file",
            str(key.private_key_file),
            "--token-lifetime",
            "600",
            "--api-url",
            sandbox.base_url,
        ]
        result = _probe(args, tmp_path, NEEDLESS)
    assert result["exit"] == 0, result
    assert result["heavy"] == []


def test_a_subcommands_help_loads_only_its_module(tmp_path: Path) -> None:
    result = _probe(["doctor", "--help"], tmp_path)
    assert result["exit"] == 0
    assert "--key-id" in str(result["stdout"])
    assert result["heavy"] == []


@pytest.mark.parametrize("entry", COMMANDS, ids=[c.name for c in COMMANDS])
def test_every_listed_command_exists_with_its_help(entry: object) -> None:
    name, _module, summary = entry  # type: ignore[misc]
    command = load_command(name)
    assert command.name == name
    first_line = (command.help or "").strip().splitlines()[0]
    assert first_line == summary


def test_the_table_lists_each_command_once() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    assert app.registered_commands == []  # every command goes through the table
