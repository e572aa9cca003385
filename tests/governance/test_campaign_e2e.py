"""A whole access review over three sandbox teams, through the CLI over real HTTP.

Start (frozen items with flags), decide (keep / revoke / reduce roles / reduce apps, and in
bulk on a filter), close (remediation through the actions engine, audited as the campaign),
read the remediation back from the sandboxes, produce the CSV and PDF evidence (the PDF's
text extracted with pypdf), and see every edit after close refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from actions.helpers import client_for, demo
from asc_access.actions.reads import complete_team
from asc_access.governance.evidence import DIGEST_PREFIX, verify_csv
from governance.support import as_json, cli, connect, sync

WEATHER = "com.northwindlabs.weather"


def team(running: Any) -> tuple[dict[str, Any], set[str]]:
    """Members by e-mail and pending invitation e-mails, read from the sandbox's Apple API."""

    async def read() -> tuple[Any, Any]:
        async with client_for(running) as client:
            return await complete_team(client)

    users, invitations = asyncio.run(read())
    return {u.username: u for u in users}, {i.email for i in invitations}


def item(show: dict[str, Any], connection: str, email: str) -> dict[str, Any]:
    (found,) = [i for i in show["items"] if i["connection"] == connection and i["email"] == email]
    return found


def decide(campaign: int, *args: str) -> Any:
    result = cli("campaigns", "decide", str(campaign), *args, "--json")
    assert result.exit_code == 0, result.output
    return as_json(result)["decided"]


def _start(teams: dict[str, Any], tmp_path: Path) -> int:
    staff = tmp_path / "staff.csv"
    members, invited = team(teams["acme"])
    people = sorted(set(members) | invited)
    staff.write_text("email\n" + "\n".join(e for e in people if e != demo("grace")) + "\n")
    started = cli("campaigns", "start", "Q4 2026 review", "--due", "2026-12-31",
                  "--reviewer", "dana@northwindlabs.example.com", "--directory", str(staff),
                  "--json")  # fmt: skip
    assert started.exit_code == 0, started.output
    campaign: int = as_json(started)["id"]
    show = as_json(cli("campaigns", "show", str(campaign), "--json"))
    assert show["progress"]["items"] == 3 * 14  # 12 members and 2 invitations per team
    assert "admin" in item(show, "acme", demo("priya"))["flags"]
    assert "leaver" in item(show, "beta", demo("grace"))["flags"]
    assert item(show, "gamma", demo("kenji"))["apps"] == ["com.northwindlabs.ledger"]
    return campaign


def _decide_all(campaign: int) -> None:
    assert decide(campaign, "-c", "acme", "-e", demo("priya"), "-d", "keep",
                  "--comment", "on-call admin") == 1  # fmt: skip
    assert decide(campaign, "-c", "acme", "-e", demo("sofia"), "-d", "reduce",
                  "-r", "MARKETING") == 1  # fmt: skip
    assert decide(campaign, "-c", "gamma", "-e", demo("kenji"), "-d", "reduce",
                  "-r", "DEVELOPER", "-a", WEATHER) == 1  # fmt: skip
    assert decide(campaign, "-c", "acme", "-e", demo("ella"), "-d", "revoke") == 1
    # bulk: the leaver goes from beta and gamma; everything else undecided is kept
    assert decide(campaign, "--flag", "leaver", "-c", "beta", "-d", "revoke") == 1
    assert decide(campaign, "--flag", "leaver", "-c", "gamma", "-d", "revoke") == 1
    progress = as_json(cli("campaigns", "show", str(campaign), "--json"))["progress"]
    assert progress["decided"] == 6
    assert decide(campaign, "--undecided", "-d", "keep", "--comment", "reviewed") == 42 - 6


def _check_remediation(teams: dict[str, Any], campaign: int, audit_id: int) -> None:
    """What closing did, read back from the sandboxes' Apple API, the items and the audit."""
    acme_members, acme_invited = team(teams["acme"])
    assert list(acme_members[demo("sofia")].roles) == ["MARKETING"]
    assert demo("ella") not in acme_invited
    assert demo("grace") in acme_members  # kept on acme
    for name in ("beta", "gamma"):
        assert demo("grace") not in team(teams[name])[0]
    kenji = team(teams["gamma"])[0][demo("kenji")]
    assert list(kenji.roles) == ["DEVELOPER"]
    assert len(kenji.visible_app_ids or ()) == 1
    shown = as_json(cli("campaigns", "show", str(campaign), "--json"))
    assert item(shown, "gamma", demo("kenji"))["after"]["apps"] == [WEATHER]
    assert item(shown, "beta", demo("grace"))["after"] is None
    assert item(shown, "beta", demo("grace"))["outcome"] == "done"
    audit = as_json(cli("audit", "--id", str(audit_id), "--json"))["entries"][0]
    assert audit["action"] == "campaign"
    assert audit["target"] == f"campaign {campaign}: Q4 2026 review"


def _check_frozen(campaign: int) -> None:
    again = cli("campaigns", "decide", str(campaign), "-c", "acme", "-e", demo("priya"),
                "-d", "revoke", "--json")  # fmt: skip
    assert again.exit_code == 2
    assert "closed" in again.stdout
    assert cli("campaigns", "close", str(campaign), "--yes").exit_code == 2
    assert item(as_json(cli("campaigns", "show", str(campaign), "--json")), "acme",
                demo("priya"))["decision"] == "keep"  # fmt: skip


def _check_evidence(campaign: int, tmp_path: Path) -> None:
    csv_path, pdf_path = tmp_path / "evidence.csv", tmp_path / "evidence.pdf"
    made = cli("campaigns", "report", str(campaign), "--format", "csv", "-o", str(csv_path),
               "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    digest = as_json(made)["digest"]
    text = csv_path.read_text()
    assert verify_csv(text)
    assert text.rstrip().endswith(DIGEST_PREFIX + digest)
    assert not verify_csv(text.replace("on-call admin", "on-call admins"))
    assert f"{campaign},beta,{demo('grace')}" in text
    made = cli("campaigns", "report", str(campaign), "--format", "pdf", "-o", str(pdf_path),
               "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert as_json(made)["digest"] == digest
    pdf_text = " ".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    flat = " ".join(pdf_text.split())
    for expected in ("Access review evidence", "Q4 2026 review", "dana@northwindlabs.example.com",
                     "acme, beta, gamma", digest, "on-call admin", demo("kenji"),
                     "outcome: done", "Decided: 42 of 42"):  # fmt: skip
        assert expected in flat, expected


def test_a_whole_campaign(sandbox_factory: Callable[..., Any], tmp_path: Path) -> None:
    teams = {name: sandbox_factory() for name in ("acme", "beta", "gamma")}
    for name, running in teams.items():
        connect(name, running)
        assert sync(name).exit_code == 0
    campaign = _start(teams, tmp_path)
    _decide_all(campaign)
    closed = cli("campaigns", "close", str(campaign), "--yes", "--json")
    assert closed.exit_code == 0, closed.output
    document = as_json(closed)
    assert document["outcomes"] == {"done": 5, "kept": 37}
    assert document["plan"]["action"] == "campaign"
    _check_remediation(teams, campaign, document["audit_id"])
    _check_frozen(campaign)
    _check_evidence(campaign, tmp_path)
