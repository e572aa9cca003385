"""The small shared seams of the shells: each idea in one place, reached the same way."""

from __future__ import annotations

import inspect
from typing import get_args

from asc_access.cli import actions_cmd
from asc_access.cli.launch import is_loopback
from asc_access.service.auth import FormPrincipal, check_form_csrf
from asc_access.service.console.common import see_other
from asc_access.service.plans import PlanStore


def test_see_other_answers_a_form_post_with_a_303_to_the_page() -> None:
    response = see_other("/connections/team/scim-groups")
    assert response.status_code == 303
    assert response.headers["location"] == "/connections/team/scim-groups"


def test_is_loopback_knows_this_machine_only() -> None:
    assert is_loopback("localhost")
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("example.com")


def test_form_principal_checks_the_csrf_field() -> None:
    _principal, depends = get_args(FormPrincipal)
    assert depends.dependency is check_form_csrf


def test_a_plan_is_taken_once_and_only_by_its_token() -> None:
    now = [0.0]
    plans = PlanStore(ttl=60, clock=lambda: now[0])
    pending = plans.add("hash-a", {"action": "remove"}, plan=object())
    assert plans.get(pending.id, "hash-b") is None
    assert plans.take(pending.id, "hash-b") is None
    assert plans.get(pending.id, "hash-a") is pending
    assert plans.take(pending.id, "hash-a") is pending
    assert plans.take(pending.id, "hash-a") is None
    later = plans.add("hash-a", {}, plan=object())
    now[0] = 61.0
    assert plans.get(later.id, "hash-a") is None  # expired


def test_the_one_team_commands_share_run_on_one() -> None:
    for name in ("invite", "cancel_invitation", "remove", "set_roles", "set_apps"):
        assert "run_on_one(" in inspect.getsource(getattr(actions_cmd, name))
