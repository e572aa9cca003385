"""Safety rules: what the actions refuse to do, and the sentence saying why.

The rules are checked when planning (so a plan shows them before anything is
sent) and again right before each write, against a fresh read from Apple.

- The Account Holder is never touched: not removed, not changed, never in a
  desired-state file, and the role is never given by invitation.
- App access is never limited for roles that always see every app
  (:data:`asc_access.models.ALWAYS_ALL_APPS_ROLES`).
- The last Admin (besides the Account Holder) is not removed or demoted
  unless forced.
"""

from __future__ import annotations

from collections.abc import Iterable

from asc_access.actions.model import Refusal, Rule
from asc_access.actions.reads import other_admins
from asc_access.actions.source import ProvisioningSource
from asc_access.models import ALWAYS_ALL_APPS_ROLES, Role, User, can_restrict_apps

__all__ = [
    "access_refusal",
    "account_holder_refusal",
    "all_apps_refusal",
    "last_admin_refusal",
    "restrictable_roles_text",
]

_RESTRICTABLE = "App Manager, Customer Support, Developer, Marketing or Sales"


def restrictable_roles_text() -> str:
    """The roles whose app access Apple lets us limit, for messages."""
    return _RESTRICTABLE


def account_holder_refusal(connection: str, email: str, what: str) -> Refusal:
    """Refusal to ``what`` (remove, change, invite as) the Account Holder."""
    return Refusal(
        connection=connection,
        email=email,
        rule=Rule.ACCOUNT_HOLDER,
        reason=(
            f"{email} is the Account Holder of team {connection}; asc-access never {what} "
            "the Account Holder (only Apple can transfer that role)"
        ),
    )


def all_apps_refusal(connection: str, email: str, roles: Iterable[str]) -> Refusal:
    """Refusal to limit the app access of someone whose roles always see every app."""
    blocking = sorted(set(roles) & ALWAYS_ALL_APPS_ROLES)
    return Refusal(
        connection=connection,
        email=email,
        rule=Rule.ALL_APPS_ROLE,
        reason=(
            f"{', '.join(blocking)} always see all apps in App Store Connect, so Apple does "
            f"not let their app access be limited; use all apps, or roles that can be "
            f"limited ({_RESTRICTABLE})"
        ),
    )


def access_refusal(
    connection: str, email: str, roles: Iterable[str], *, restricted: bool
) -> Refusal | None:
    """The refusal access with ``roles`` meets (limited to some apps when ``restricted``).

    The Account Holder role is never given, and roles that always see every app
    are never limited; ``None`` when the access breaks neither rule.
    """
    role_tuple = tuple(roles)
    if Role.ACCOUNT_HOLDER in role_tuple:
        return account_holder_refusal(connection, email, "gives the role of")
    if restricted and needs_all_apps(role_tuple):
        return all_apps_refusal(connection, email, role_tuple)
    return None


def needs_all_apps(roles: Iterable[str]) -> bool:
    """Whether these roles always see every app."""
    return not can_restrict_apps(tuple(roles))


async def last_admin_refusal(
    source: ProvisioningSource,
    connection: str,
    member: User,
    new_roles: tuple[str, ...] | None,
) -> Refusal | None:
    """A (forceable) refusal when ``member`` is the last Admin and would stop being one.

    ``new_roles`` ``None`` means the member is being removed. The Account
    Holder does not count as an Admin here: the rule keeps someone besides the
    Account Holder able to manage the team.
    """
    if Role.ADMIN not in member.roles:
        return None
    if new_roles is not None and Role.ADMIN in new_roles:
        return None
    if await other_admins(source, besides=member.username):
        return None
    what = "removing" if new_roles is None else "taking the Admin role from"
    return Refusal(
        connection=connection,
        email=member.username,
        rule=Rule.LAST_ADMIN,
        reason=(
            f"{member.username} is the last Admin of team {connection} besides the Account "
            f"Holder; {what} them leaves only the Account Holder able to manage users "
            "(pass --force if that is intended)"
        ),
        forceable=True,
    )
