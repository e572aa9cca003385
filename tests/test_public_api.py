"""The library's public surface: ``asc_access.__all__`` is pinned, lazy and real."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import asc_access

PINNED = [
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


def test_the_public_names_are_pinned() -> None:
    # Removing or renaming a name breaks embedding platforms: change this list on purpose.
    assert sorted(asc_access.__all__) == sorted(PINNED)


@pytest.mark.parametrize("name", [n for n in PINNED if n != "__version__"])
def test_each_public_name_is_the_object_of_its_home_module(name: str) -> None:
    home = importlib.import_module(asc_access._EXPORTS[name])
    assert getattr(asc_access, name) is getattr(home, name)
    assert name in dir(asc_access)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = asc_access.nope  # type: ignore[attr-defined]


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import json, sys, asc_access;"
        "print(json.dumps(sorted(m for m in ('httpx', 'sqlalchemy', 'fastapi', 'celery',"
        " 'asc_access.api', 'asc_access.store') if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []
