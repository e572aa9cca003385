"""``asc-access tokens create NAME --role viewer|operator|admin [--json]``, and ``tokens list``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from asc_access.cli.main import app


def test_a_token_is_made_with_its_role_and_listed_with_it() -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["tokens", "create", "helpdesk", "--role", "viewer", "--json"])
    assert made.exit_code == 0, made.output
    doc = json.loads(made.stdout)
    assert doc["token"].startswith("asca_")
    assert doc["role"] == "viewer"

    default = runner.invoke(app, ["tokens", "create", "ci", "--json"])
    assert json.loads(default.stdout)["role"] == "admin", "admin when no role is given"

    listed = runner.invoke(app, ["tokens", "list", "--json"])
    roles = {t["name"]: t["role"] for t in json.loads(listed.stdout)["tokens"]}
    assert roles == {"ci": "admin", "helpdesk": "viewer"}
    table = runner.invoke(app, ["tokens", "list"])
    assert "viewer" in table.stdout
    assert doc["token"] not in listed.stdout + table.stdout


def test_an_unknown_role_is_a_usage_error_naming_the_roles() -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["tokens", "create", "x", "--role", "root", "--json"])
    assert bad.exit_code == 2
    assert "viewer, operator, admin" in bad.output
    listed = runner.invoke(app, ["tokens", "list", "--json"])
    assert json.loads(listed.stdout)["tokens"] == []
