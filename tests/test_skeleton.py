"""The package imports and the command line answers."""

from __future__ import annotations

from typer.testing import CliRunner

import asc_access
from asc_access.catalogue import CODE_CAUSES, EXIT_STATUS, code_of
from asc_access.cli.main import app


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert asc_access.__version__ in result.output


def test_catalogue_exit_status_is_code_number() -> None:
    assert EXIT_STATUS["APP-101"] == 101
    assert EXIT_STATUS["APP-107"] == 107
    assert code_of("revoked_after_working") == "APP-101"
    assert sum(len(c) for c in CODE_CAUSES.values()) == 20
