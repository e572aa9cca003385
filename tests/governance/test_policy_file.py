"""The policy file: every kind parses; unknown kinds and fields are errors naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from asc_access.errors import UsageError
from asc_access.governance.policies import KINDS, load_policies, parse_policies

EVERY_KIND = """\
policies:
  - id: few-admins
    kind: max_admins
    max: 2
  - id: company-mail
    kind: allowed_domains
    domains: [Example.com]
  - id: stale-invites
    kind: invitation_age
    days: 7
  - id: leavers
    kind: leavers
    directory: staff.csv
  - id: sprawl
    kind: admin_on_teams
    max: 1
  - id: outside
    kind: out_of_band_change
  - id: broken
    kind: connection_unhealthy
    hours: 24
"""


def test_every_kind_parses(tmp_path: Path) -> None:
    path = tmp_path / "policies.yaml"
    path.write_text(EVERY_KIND)
    files = load_policies(path)
    assert [p.kind for p in files.policies] == list(KINDS)
    assert files.policies[1].domains == ["example.com"]  # type: ignore[union-attr]
    assert files.resolve("staff.csv") == tmp_path / "staff.csv"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("policies:\n  - id: a\n    kind: max_admins\n    max: 2\n  - id: b\n    kind: nope\n",
         6, "unknown kind 'nope'"),
        ("policies:\n  - id: a\n    kind: max_admins\n    max: 2\n    maximum: 3\n",
         5, "unknown field 'maximum'"),
        ("policies:\n  - id: a\n    kind: invitation_age\n    days: soon\n", 4, "days"),
        ("policies:\n  - id: a\n    kind: max_admins\n", 2, "max"),
        (("policies:\n  - id: a\n    kind: out_of_band_change\n  - id: a\n"
         "    kind: out_of_band_change\n"), 4, "duplicate policy id 'a'"),
        ("policies:\n  - id: a\n    kind: allowed_domains\n    domains: []\n", 4, "domains"),
        ("rules:\n  - id: a\n", 1, "unknown top-level field 'rules'"),
        ("policies:\n  - id: a\n   kind: [\n", 3, "not valid YAML"),
        ("policies:\n  - kind: max_admins\n    max: 1\n", 2, "id"),
        ("policies:\n  - id: a\n", 2, "no kind"),
    ],
)  # fmt: skip
def test_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_policies(text, "p.yaml")
    assert f"p.yaml, line {line}:" in str(caught.value)
    assert words in str(caught.value)


def test_an_empty_file_has_no_policies() -> None:
    assert parse_policies("", "p.yaml").policies == ()


def test_every_kind_has_a_rule() -> None:
    from asc_access.governance.evaluate import _RULES  # lazy: the private table, this test only
    from asc_access.governance.policies import _MODELS  # lazy: the private table, this test only

    assert set(_RULES) == set(_MODELS.values())
