"""Every policy staged on sandbox teams over real HTTP: each violation opens once, resolves once,
and each event is delivered once to a real webhook receiver (HMAC checked) and a real SMTP server.

Two teams: ``acme`` (the demo team) and ``beta`` (a generated team on another domain). Each
scenario writes a policy file holding one policy into ``ASC_ACCESS_HOME``, then syncs with
the real ``sync`` command, whose post-sync hook evaluates the policies and sends the alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from actions.helpers import demo
from asc_access.config import Settings
from asc_access.runtime import open_store
from asc_access.store.violations import list_violations
from governance.support import (
    SECRET,
    Mailbox,
    WebhookReceiver,
    as_json,
    cli,
    connect,
    sync,
    user_id,
)

OUTSIDER = "guest@elsewhere.example.org"
NEWCOMER = "newcomer@northwindlabs.example.com"


@dataclass
class World:
    acme: Any
    beta: Any
    home: Path
    webhook: WebhookReceiver
    mailbox: Mailbox

    def policies(self, text: str) -> None:
        (self.home / "policies.yaml").write_text(text)

    def emails(self) -> list[str]:
        result = cli("export", "--format", "json")
        assert result.exit_code == 0, result.output
        document = as_json(result)
        rows = document["people"] if isinstance(document, dict) else document
        return sorted({r["email"] for r in rows})


@pytest.fixture
def world(
    sandbox_factory: Callable[..., Any],
    _isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    acme = sandbox_factory()
    beta = sandbox_factory(users=4, apps=2, random_seed=7)
    connect("acme", acme)
    connect("beta", beta)
    with WebhookReceiver() as webhook, Mailbox() as mailbox:
        monkeypatch.setenv("ASC_ACCESS_NOTIFY_WEBHOOKS", webhook.url)
        monkeypatch.setenv("ASC_ACCESS_NOTIFY_WEBHOOK_SECRET", SECRET)
        monkeypatch.setenv("ASC_ACCESS_NOTIFY_URLS", mailbox.url)
        monkeypatch.setenv("ASC_ACCESS_NOTIFY_BACKOFF", "0.01")
        for result in sync("acme", "beta"):
            assert result.exit_code == 0, result.output
        yield World(acme, beta, _isolated_env, webhook, mailbox)


def _check() -> list[dict[str, Any]]:
    result = cli("policies", "check", "--json")
    assert result.exit_code in (0, 1), result.output
    violations: list[dict[str, Any]] = as_json(result)["violations"]
    assert result.exit_code == (1 if violations else 0)
    return violations


def _invite(connection: str, email: str, *roles: str) -> None:
    args = ["invite", email, "--first-name", "Pat", "--last-name", "Doe", "-c", connection]
    for role in roles or ("DEVELOPER",):
        args += ["--role", role]
    if not ({"ADMIN"} & set(roles)):
        args += ["--all-apps"]
    result = cli(*args, "--yes", "--json")
    assert result.exit_code == 0, result.output


def _ok(result: Any) -> None:
    assert result.exit_code == 0, result.output


def _lifecycle(
    w: World,
    policy: str,
    stage: Callable[[], None],
    unstage: Callable[[], None],
    expected: tuple[str, str | None],
    *,
    sync_names: tuple[str, ...] = ("acme", "beta"),
    staged_sync_ok: bool = True,
) -> None:
    """Stage, sync twice, unstage, sync: one violation row, opened once and resolved once."""
    engine = open_store(Settings.from_env())
    assert _check() == [], "the policy must hold before staging"
    stage()
    for _ in range(2):  # found by two syncs: still one violation, first_seen unchanged
        results = [cli("sync", name, "--json") for name in sync_names]
        if staged_sync_ok:
            assert all(r.exit_code == 0 for r in results), [r.output for r in results]
    found = _check()
    assert [(v["policy"], v["connection"], v["email"]) for v in found] == [(policy, *expected)]
    assert found[0]["first_seen"] == list_violations(engine)[0].first_seen.isoformat()
    unstage()
    for name in sync_names:
        _ok(cli("sync", name, "--json"))
    assert _check() == []
    (row,) = list_violations(engine, resolved=True)
    assert row.resolved_at is not None
    assert row.last_seen >= row.first_seen
    want = [("violation.opened", policy, *expected), ("violation.resolved", policy, *expected)]
    assert w.webhook.events() == want
    assert w.webhook.rejected == 0
    subjects = w.mailbox.subjects()
    assert len(subjects) == 2
    assert "opened" in subjects[0]
    assert "resolved" in subjects[1]
    assert all(policy in s for s in subjects)
    deliveries = as_json(cli("policies", "alerts", "--json"))["deliveries"]
    assert [d["status"] for d in deliveries] == ["delivered"] * 4


def test_max_admins(world: World) -> None:
    world.policies("policies:\n  - id: few-admins\n    kind: max_admins\n    max: 3\n")
    hannah = user_id("acme", demo("hannah"))
    _lifecycle(
        world,
        "few-admins",
        lambda: world.acme.set_roles(hannah, ["ADMIN"]),
        lambda: _ok(cli("set-roles", demo("hannah"), "-r", "DEVELOPER", "-c", "acme", "--yes")),
        ("acme", None),
    )


def test_out_of_band_role_change(world: World) -> None:
    world.policies("policies:\n  - id: outside\n    kind: out_of_band_change\n")
    kenji = user_id("acme", demo("kenji"))
    _lifecycle(
        world,
        "outside",
        lambda: world.acme.set_roles(kenji, ["DEVELOPER", "MARKETING"]),
        lambda: _ok(cli("set-roles", demo("kenji"), "-r", "DEVELOPER", "-c", "acme", "--yes")),
        ("acme", demo("kenji")),
    )


def test_allowed_domains(world: World) -> None:
    beta_domain = "team7.example.com"
    world.policies(
        "policies:\n  - id: company-mail\n    kind: allowed_domains\n"
        f"    domains: [northwindlabs.example.com, {beta_domain}]\n"
    )
    _lifecycle(
        world,
        "company-mail",
        lambda: _invite("acme", OUTSIDER),
        lambda: _ok(cli("cancel-invitation", OUTSIDER, "-c", "acme", "--yes")),
        ("acme", OUTSIDER),
    )


def test_invitation_age(world: World) -> None:
    _ok(cli("cancel-invitation", demo("ella"), "-c", "acme", "--yes"))
    world.policies("policies:\n  - id: stale-invites\n    kind: invitation_age\n    days: 0\n")
    _lifecycle(
        world,
        "stale-invites",
        lambda: _invite("acme", NEWCOMER),
        lambda: _ok(cli("cancel-invitation", NEWCOMER, "-c", "acme", "--yes")),
        ("acme", NEWCOMER),
    )


def test_leavers(world: World) -> None:
    staff = world.home / "staff.csv"
    emails = world.emails()
    staff.write_text("email\n" + "\n".join(emails) + "\n")
    world.policies("policies:\n  - id: leavers\n    kind: leavers\n    directory: staff.csv\n")
    grace = demo("grace")

    def leaves() -> None:  # HR's directory drops Grace; she is still on the team
        staff.write_text("email\n" + "\n".join(e for e in emails if e != grace) + "\n")

    _lifecycle(
        world,
        "leavers",
        leaves,
        lambda: _ok(cli("offboard", grace, "--yes")),
        ("acme", grace),
    )


def test_admin_on_teams(world: World) -> None:
    world.policies("policies:\n  - id: sprawl\n    kind: admin_on_teams\n    max: 1\n")
    priya = demo("priya")

    def admin_on_beta() -> None:
        _invite("beta", priya, "ADMIN")
        invitations = as_json(cli("invitations", "--connection", "beta", "--json"))
        rows = invitations["invitations"] if isinstance(invitations, dict) else invitations
        (invitation,) = [i for i in rows if i["email"] == priya]
        world.beta.accept_invitation(invitation["id"])

    _lifecycle(
        world,
        "sprawl",
        admin_on_beta,
        lambda: _ok(cli("remove", priya, "-c", "beta", "--yes")),
        ("acme, beta", priya),
    )


def test_connection_unhealthy(world: World) -> None:
    world.policies("policies:\n  - id: broken\n    kind: connection_unhealthy\n    hours: 0\n")
    _lifecycle(
        world,
        "broken",
        lambda: world.beta.set_agreements(False),
        lambda: world.beta.set_agreements(True),
        ("beta", None),
        sync_names=("beta",),
        staged_sync_ok=False,
    )
