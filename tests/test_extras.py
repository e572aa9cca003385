"""Optional extras: `pip install asc-access` is the library and CLI; a command needing more says."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from asc_access.cli.extras import EXTRAS, install_hint, needed_extra

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

#: Runs the real entry point with ``hidden`` modules made unimportable.
RUN = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
from asc_access.cli.main import main
sys.argv = ["asc-access", *sys.argv[2:]]
main()
"""


def _run(hidden: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN, hidden, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


@pytest.mark.parametrize(
    ("hidden", "args", "extra"),
    [
        ("uvicorn,fastapi,starlette", ["serve", "--port", "1"], "service"),
        ("starlette,uvicorn", ["sandbox", "--port", "0"], "service"),
        ("celery,redis", ["worker"], "workers"),
        ("celery,redis", ["scheduler"], "workers"),
    ],
)
def test_a_command_needing_a_missing_extra_says_what_to_install(
    hidden: str, args: list[str], extra: str, tmp_path: Path
) -> None:
    result = _run(hidden, *args, ASC_ACCESS_HOME=str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert f"pip install 'asc-access[{extra}]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_postgres_driver_is_an_extra_too(tmp_path: Path) -> None:
    result = _run(
        "psycopg",
        "users",
        ASC_ACCESS_HOME=str(tmp_path),
        ASC_ACCESS_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none",
    )
    assert result.returncode == 2, result.stderr
    assert "pip install 'asc-access[postgres]'" in result.stderr


def test_other_missing_modules_stay_tracebacks() -> None:
    assert needed_extra(ModuleNotFoundError("x", name="no_such_module")) is None
    assert needed_extra(ModuleNotFoundError("x", name="celery.signals")) == "workers"
    assert install_hint("service", "fastapi").endswith("pip install 'asc-access[service]'")


def _names(requirements: list[str]) -> set[str]:
    return {r.split("[")[0].split(">")[0].split("<")[0].split("=")[0].lower() for r in requirements}


def test_shell_dependencies_are_extras_and_dev_has_them_all() -> None:
    core = _names(PYPROJECT["dependencies"])
    extras = PYPROJECT["optional-dependencies"]
    assert set(EXTRAS) <= set(extras)
    for name in ("fastapi", "starlette", "uvicorn", "celery", "redis", "psycopg", "authlib"):
        assert name not in core
    assert "asc-access[service,workers,postgres]" in extras["dev"]


def test_the_library_and_core_commands_need_no_extra(tmp_path: Path) -> None:
    every_extra = ",".join(m for modules in EXTRAS.values() for m in modules)
    for args in (["users"], ["changes"], ["connections"]):
        result = _run(every_extra, *args, ASC_ACCESS_HOME=str(tmp_path))
        assert result.returncode == 0, result.stderr
    imports = (
        f"import sys\nfor n in {every_extra!r}.split(','): sys.modules[n] = None\n"
        "import asc_access.api, asc_access.sync, asc_access.actions, asc_access.runtime"
    )
    subprocess.run([sys.executable, "-c", imports], check=True, timeout=60)
