"""cli.plain_params: the doctor's parameters convert without pydantic, and give typer's answers."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from asc_access.cli.doctor_cmd import _PlainParamsCommand

seen: dict[str, object] = {}


def _command(
    name: str | None = typer.Argument(None),
    count: int | None = typer.Option(None, "--count"),
    text: str | None = typer.Option(None, "--text"),
    flag: bool = typer.Option(False, "--flag"),
) -> None:
    seen.update(name=name, count=count, text=text, flag=flag)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("x", cls=_PlainParamsCommand)(_command)
    app.command("y")(lambda: None)  # a second command keeps "x" a subcommand
    return app


def test_values_convert_as_typer_would() -> None:
    result = CliRunner().invoke(_app(), ["x", "n", "--count", "600", "--text", "t", "--flag"])
    assert result.exit_code == 0, result.output
    assert seen == {"name": "n", "count": 600, "text": "t", "flag": True}
    result = CliRunner().invoke(_app(), ["x", "--count", "-5"])
    assert result.exit_code == 0, result.output
    assert (seen["count"], seen["name"], seen["flag"]) == (-5, None, False)


def test_values_off_the_fast_path_get_typers_own_error() -> None:
    result = CliRunner().invoke(_app(), ["x", "--count", "abc"])
    assert result.exit_code == 2
    assert "Invalid value for '--count'" in result.output
