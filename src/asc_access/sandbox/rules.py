"""Field checks behind Apple's 409s: roles, people, restrictable app access."""

from __future__ import annotations

import re

from asc_access.sandbox import problems
from asc_access.sandbox.vocabulary import ROLES, can_restrict_apps

__all__ = ["check_app_access", "check_person", "check_roles", "duplicate"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_roles(roles: list[str], *, allow_account_holder: bool = False) -> list[str]:
    """The roles without repeats, or the 409 naming what is wrong."""
    if not roles:
        raise problems.entity_error(
            "ENTITY_ERROR.ATTRIBUTE.INVALID",
            "At least one role is required.",
            "/data/attributes/roles",
        )
    for role in roles:
        if role not in ROLES:
            raise problems.entity_error(
                "ENTITY_ERROR.ATTRIBUTE.INVALID",
                f"'{role}' is not a valid role.",
                "/data/attributes/roles",
            )
        if role == "ACCOUNT_HOLDER" and not allow_account_holder:
            raise problems.entity_error(
                "ENTITY_ERROR.ATTRIBUTE.INVALID",
                "The Account Holder role can't be assigned.",
                "/data/attributes/roles",
            )
    return list(dict.fromkeys(roles))


def check_person(email: str, first_name: str, last_name: str) -> None:
    """A usable e-mail address and non-empty names."""
    if not _EMAIL.match(email):
        raise problems.entity_error(
            "ENTITY_ERROR.ATTRIBUTE.INVALID",
            f"'{email}' is not a valid email address.",
            "/data/attributes/email",
        )
    for name, value in (("firstName", first_name), ("lastName", last_name)):
        if not value.strip():
            raise problems.entity_error(
                "ENTITY_ERROR.ATTRIBUTE.INVALID",
                f"'{name}' must not be empty.",
                f"/data/attributes/{name}",
            )


def check_app_access(roles: list[str], all_apps_visible: bool) -> bool:
    """``allAppsVisible: false`` only for roles Apple lets you restrict."""
    if not all_apps_visible and not can_restrict_apps(roles):
        raise problems.entity_error(
            "ENTITY_ERROR.ATTRIBUTE.INVALID",
            "App access can't be limited for people with the roles "
            f"{', '.join(roles)}: they always see all apps.",
            "/data/attributes/allAppsVisible",
        )
    return all_apps_visible


def duplicate(detail: str) -> problems.ApiProblem:
    """409 for a second member or pending invitation with the same e-mail address."""
    return problems.entity_error(
        "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE", detail, "/data/attributes/email"
    )
