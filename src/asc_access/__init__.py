"""asc-access: connect to App Store Connect, diagnose keys, mirror and govern access.

The names in :data:`__all__` are the library's stable surface (``docs/library.md``):
the client, credentials and tokens, the sync, the actions, the errors and the
models. They load on first use, so ``import asc_access`` (and the CLI's start-up)
costs nothing; ``tests/test_public_api.py`` pins the list.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from asc_access.version import __version__

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # the client
    "AppStoreConnectClient": "asc_access.api",
    "PacingBudget": "asc_access.api",
    "RetryPolicy": "asc_access.api",
    "TokenSource": "asc_access.api",
    # credentials and tokens
    "Credentials": "asc_access.credentials",
    "TokenManager": "asc_access.credentials",
    "load_credentials": "asc_access.credentials",
    # the sync
    "SyncResult": "asc_access.sync",
    "sync_connection": "asc_access.sync",
    # the actions
    "Execution": "asc_access.actions",
    "Outcome": "asc_access.actions",
    "Plan": "asc_access.actions",
    "Team": "asc_access.actions",
    "execute_plan": "asc_access.actions",
    "parse_desired_state": "asc_access.actions",
    "plan_cancel_invitation": "asc_access.actions",
    "plan_desired_state": "asc_access.actions",
    "plan_invite": "asc_access.actions",
    "plan_offboard": "asc_access.actions",
    "plan_remove": "asc_access.actions",
    "plan_set_apps": "asc_access.actions",
    "plan_set_roles": "asc_access.actions",
    # the errors (one tree, grouped by what the caller should do next)
    "ApiError": "asc_access.errors",
    "AscAccessError": "asc_access.errors",
    "AuthenticationError": "asc_access.errors",
    "CredentialError": "asc_access.errors",
    "PermissionDeniedError": "asc_access.errors",
    "RateLimitedError": "asc_access.errors",
    "ServerError": "asc_access.errors",
    "SyncError": "asc_access.errors",
    "TransportError": "asc_access.errors",
    "UsageError": "asc_access.errors",
    # the models
    "App": "asc_access.models",
    "Invitation": "asc_access.models",
    "Role": "asc_access.models",
    "User": "asc_access.models",
}

__all__ = [
    "ApiError",
    "App",
    "AppStoreConnectClient",
    "AscAccessError",
    "AuthenticationError",
    "CredentialError",
    "Credentials",
    "Execution",
    "Invitation",
    "Outcome",
    "PacingBudget",
    "PermissionDeniedError",
    "Plan",
    "RateLimitedError",
    "RetryPolicy",
    "Role",
    "ServerError",
    "SyncError",
    "SyncResult",
    "Team",
    "TokenManager",
    "TokenSource",
    "TransportError",
    "UsageError",
    "User",
    "__version__",
    "execute_plan",
    "load_credentials",
    "parse_desired_state",
    "plan_cancel_invitation",
    "plan_desired_state",
    "plan_invite",
    "plan_offboard",
    "plan_remove",
    "plan_set_apps",
    "plan_set_roles",
    "sync_connection",
]

if TYPE_CHECKING:
    from asc_access.actions import (
        Execution,
        Outcome,
        Plan,
        Team,
        execute_plan,
        parse_desired_state,
        plan_cancel_invitation,
        plan_desired_state,
        plan_invite,
        plan_offboard,
        plan_remove,
        plan_set_apps,
        plan_set_roles,
    )
    from asc_access.api import AppStoreConnectClient, PacingBudget, RetryPolicy, TokenSource
    from asc_access.credentials import Credentials, TokenManager, load_credentials
    from asc_access.errors import (
        ApiError,
        AscAccessError,
        AuthenticationError,
        CredentialError,
        PermissionDeniedError,
        RateLimitedError,
        ServerError,
        SyncError,
        TransportError,
        UsageError,
    )
    from asc_access.models import App, Invitation, Role, User
    from asc_access.sync import SyncResult, sync_connection


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'asc_access' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
