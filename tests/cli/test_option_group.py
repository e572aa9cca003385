"""Shared options declared once (:mod:`asc_access.cli.option_group`) and the listing helpers."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import NamedTuple

import typer
from typer.testing import CliRunner

from asc_access.cli.mirror_views import describe_change
from asc_access.cli.option_group import grouped, option_group


class Pair(NamedTuple):
    left: str
    right: int


def _pair(
    left: str = typer.Option("l", "--left", help="The left one."),
    right: int = typer.Option(0, "--right", help="The right one."),
) -> Pair:
    return Pair(left, right)


PAIR = option_group(_pair)


@grouped
def _command(
    name: str = typer.Argument(..., help="A name."),
    pair: Pair = PAIR,
    loud: bool = typer.Option(False, "--loud", help="Shout."),
) -> None:
    typer.echo(f"{name} {pair.left} {pair.right} {loud}")


def test_the_group_stands_in_the_place_of_its_parameter() -> None:
    names = list(inspect.signature(_command).parameters)
    assert names == ["name", "left", "right", "loud"]


def test_the_command_gets_the_packed_value() -> None:
    app = typer.Typer()
    app.command("run")(_command)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, ["run", "x", "--right", "3", "--loud"])
    assert result.exit_code == 0, result.output
    assert result.output == "x l 3 True\n"
    help_text = CliRunner().invoke(app, ["run", "--help"]).output
    assert "--left" in help_text
    assert "The right one." in help_text


def _change(details: dict[str, object], email: str | None = "a@x.com") -> SimpleNamespace:
    return SimpleNamespace(subject_id="s1", email=email, details=details)


def test_one_sentence_changes_fill_in_who_roles_and_app() -> None:
    roles = {"roles": ["ADMIN", "APP_MANAGER"]}
    assert describe_change("user_removed", _change(roles), {}) == (
        "[red]-[/] a@x.com left the team (was Admin, App Manager)"
    )
    assert describe_change("invitation_created", _change({}), {}) == (
        "[green]+[/] a@x.com invited as -"
    )
    assert describe_change("invitation_expired", _change({}, None), {}) == (
        "[yellow]![/] s1's invitation expired"
    )
    assert describe_change("app_added", _change({"name": "{Mine}"}), {}) == (
        "[green]+[/] app {Mine} appeared"
    )
    assert describe_change("app_removed", _change({}), {}) == "[red]-[/] app s1 is gone"
    assert describe_change("odd_kind", _change({}), {}) == "odd_kind a@x.com"
