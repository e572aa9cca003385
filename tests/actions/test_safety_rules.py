"""``access_refusal``: the one statement of the two access rules every planner and step applies."""

from __future__ import annotations

import pytest

from asc_access.actions import Rule
from asc_access.actions.safety import access_refusal


@pytest.mark.parametrize("restricted", [False, True])
def test_the_account_holder_role_is_never_given(restricted: bool) -> None:
    refusal = access_refusal("acme", "a@example.com", ["ACCOUNT_HOLDER"], restricted=restricted)
    assert refusal is not None
    assert refusal.rule is Rule.ACCOUNT_HOLDER
    assert "never gives the role of the Account Holder" in refusal.reason
    assert not refusal.forceable


def test_roles_that_see_every_app_are_not_limited() -> None:
    refusal = access_refusal("acme", "a@example.com", ["ADMIN", "DEVELOPER"], restricted=True)
    assert refusal is not None
    assert refusal.rule is Rule.ALL_APPS_ROLE
    assert refusal.reason.startswith("ADMIN always see all apps")


@pytest.mark.parametrize(
    ("roles", "restricted"),
    [(["ADMIN"], False), (["DEVELOPER"], True), (["DEVELOPER", "MARKETING"], False)],
)
def test_access_within_the_rules_is_not_refused(roles: list[str], restricted: bool) -> None:
    assert access_refusal("acme", "a@example.com", roles, restricted=restricted) is None


def test_an_unknown_role_is_kept_and_not_refused() -> None:
    assert access_refusal("acme", "a@example.com", ["NEW_APPLE_ROLE"], restricted=False) is None
