"""Sandbox fixtures for end-to-end tests: a real App Store Connect stand-in on loopback.

``start_sandbox(**options)`` runs the sandbox with uvicorn in a background thread on a
free loopback port and yields a :class:`RunningSandbox`; the ``sandbox`` fixture gives
a demo team per test, ``sandbox_factory`` starts as many teams as a test needs.
Every helper talks to the control API over HTTP (the server's event loop owns the
state), so tests stage situations exactly as an outside user would.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from asc_access.sandbox import Clock, Sandbox, SandboxOptions
from asc_access.sandbox.server import ThreadedServer

__all__ = [
    "RunningSandbox",
    "SandboxKey",
    "make_token",
    "sandbox",
    "sandbox_factory",
    "start_sandbox",
]


@dataclass(frozen=True, slots=True)
class SandboxKey:
    """A key the sandbox issued, with its private half on disk and in memory."""

    name: str
    key_id: str
    issuer_id: str | None
    key_type: str  # "team" | "individual"
    role: str | None
    user: str | None
    private_key_file: Path
    private_key_pem: str

    def __repr__(self) -> str:  # never show key material
        return f"SandboxKey(name={self.name!r}, key_id={self.key_id!r}, type={self.key_type!r})"


def make_token(
    key: SandboxKey,
    *,
    now: float | None = None,
    lifetime: int = 600,
    iat_offset: int = 0,
    **claims: Any,
) -> str:
    """A JWT shaped for ``key`` (team: ``iss``; individual: ``sub="user"``).

    Pass claims to override (``iss=None`` removes ``iss``), or ``kid=...`` to change
    the header's key id.
    """
    issued = int(now if now is not None else time.time()) + iat_offset
    payload: dict[str, Any] = {
        "aud": "appstoreconnect-v1",
        "iat": issued,
        "exp": issued + lifetime,
    }
    if key.key_type == "team":
        payload["iss"] = key.issuer_id
    else:
        payload["sub"] = "user"
    kid = claims.pop("kid", key.key_id)
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key.private_key_pem, algorithm="ES256", headers={"kid": kid})


class RunningSandbox:
    """A sandbox serving on ``base_url``; helpers drive its control API."""

    def __init__(self, base_url: str, state_dir: Path, control: httpx.Client) -> None:
        self.base_url = base_url
        self.state_dir = state_dir
        self.control = control
        document = json.loads((state_dir / "sandbox.json").read_text())
        self.issuer_id: str = document["issuer_id"]
        self.keys: dict[str, SandboxKey] = {}
        for entry in document["keys"]:
            path = Path(entry["private_key_file"])
            self.keys[entry["name"]] = SandboxKey(
                name=entry["name"],
                key_id=entry["key_id"],
                issuer_id=entry["issuer_id"],
                key_type=entry["key_type"],
                role=entry["role"],
                user=entry["user"],
                private_key_file=path,
                private_key_pem=path.read_text(),
            )

    def __repr__(self) -> str:
        return f"RunningSandbox({self.base_url!r})"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.control.request(method, path, json=body)
        if response.status_code >= 400:
            raise AssertionError(
                f"sandbox control {method} {path} -> {response.status_code}: {response.text}"
            )
        return response.json()

    # ----- tokens --------------------------------------------------------------------
    def token(self, name: str = "admin", **options: Any) -> str:
        """A fresh JWT for the named key (see :func:`make_token`)."""
        return make_token(self.keys[name], **options)

    def headers(self, name: str = "admin", **options: Any) -> dict[str, str]:
        """``Authorization`` header for the named key."""
        return {"Authorization": f"Bearer {self.token(name, **options)}"}

    # ----- control API ---------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """``GET /_sandbox/info``: counts, clock offset, keys (no key material)."""
        result: dict[str, Any] = self._call("GET", "info")
        return result

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        """Add a fault rule (``latency_ms``, ``status``, ``rate``, ``count``, ``after``,
        ``path_prefix``, ``method``, ``retry_after``, ``drop``, ``malformed``)."""
        result: dict[str, Any] = self._call("POST", "faults", spec)
        return result

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "faults")

    def stats(self) -> dict[str, Any]:
        """``{"requests": n, "by_route": {...}, "by_status": {...}}``."""
        result: dict[str, Any] = self._call("GET", "stats")
        return result

    def reset_stats(self) -> None:
        """Zero the request counters."""
        self._call("POST", "stats/reset")

    def issue_key(
        self,
        key_type: str = "team",
        *,
        role: str | None = "ADMIN",
        user: str | None = None,
        name: str | None = None,
    ) -> SandboxKey:
        """Issue a new key; its ``.p8`` is written (0600) into ``state_dir``."""
        body: dict[str, Any] = {"key_type": key_type}
        if key_type == "team":
            body["role"] = role
        else:
            body["user"] = user
        if name:
            body["name"] = name
        issued = self._call("POST", "keys", body)
        path = self.state_dir / f"AuthKey_{issued['key_id']}.p8"
        path.write_text(issued["private_key"])
        path.chmod(0o600)
        key = SandboxKey(
            name=name or issued["key_id"],
            key_id=issued["key_id"],
            issuer_id=issued["issuer_id"],
            key_type=issued["key_type"],
            role=issued["role"],
            user=issued["user"],
            private_key_file=path,
            private_key_pem=issued["private_key"],
        )
        if name:
            self.keys[name] = key
        return key

    def revoke_key(self, key_id: str) -> None:
        """Revoke a key for good."""
        self._call("POST", f"keys/{key_id}/revoke")

    def set_agreements(self, accepted: bool) -> None:
        """``False``: every call answers 403 REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED."""
        self._call("POST", "agreements", {"accepted": accepted})

    def set_clock_offset(self, seconds: float) -> None:
        """Run the sandbox's clock ahead of (positive) or behind real time."""
        self._call("POST", "clock", {"offset_seconds": seconds})

    def set_rate_limit(self, limit: int) -> None:
        """Change the hourly quota per key."""
        self._call("POST", "rate-limit", {"limit": limit})

    def accept_invitation(self, invitation_id: str) -> str:
        """The invitee accepts; returns the new user's id."""
        result: dict[str, Any] = self._call("POST", f"userInvitations/{invitation_id}/accept")
        return str(result["user_id"])

    def expire_invitation(self, invitation_id: str) -> None:
        """Make an invitation expired now."""
        self._call("POST", f"userInvitations/{invitation_id}/expire")

    def set_roles(
        self, user_id: str, roles: list[str], *, all_apps_visible: bool | None = None
    ) -> dict[str, Any]:
        """Change a member's roles out of band (as in App Store Connect's web UI)."""
        body: dict[str, Any] = {"roles": roles}
        if all_apps_visible is not None:
            body["all_apps_visible"] = all_apps_visible
        result: dict[str, Any] = self._call("POST", f"users/{user_id}/roles", body)
        return result

    def reset(self, seed: str = "demo", **sizes: int) -> dict[str, Any]:
        """A fresh team (``users``, ``apps``, ``invitations``, ``random_seed`` for generated)."""
        if seed == "demo" and any(sizes.get(k) for k in ("users", "apps", "invitations")):
            seed = "generated"
        result: dict[str, Any] = self._call("POST", "reset", {"seed": seed, **sizes})
        return result


@contextmanager
def start_sandbox(
    *,
    seed: str = "demo",
    users: int = 0,
    apps: int = 0,
    invitations: int = 0,
    random_seed: int = 0,
    latency_ms: int = 0,
    rate_limit: int = 3600,
    state_dir: Path | str | None = None,
    clock: Clock | None = None,
) -> Iterator[RunningSandbox]:
    """Serve a sandbox on a free loopback port for the duration of the block."""
    if seed == "demo" and (users or apps or invitations):
        seed = "generated"
    options = SandboxOptions(
        seed=seed,
        users=users,
        apps=apps,
        invitations=invitations,
        random_seed=random_seed,
        latency_ms=latency_ms,
        rate_limit=rate_limit,
    )
    with ExitStack() as stack:
        if state_dir is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="asc-sbx-")))
        else:
            directory = Path(state_dir)
        model = Sandbox(options, clock=clock)
        server = stack.enter_context(ThreadedServer(model))
        model.write_state_dir(directory, server.base_url)
        control = stack.enter_context(
            httpx.Client(base_url=f"{server.base_url}/_sandbox/", timeout=30.0)
        )
        yield RunningSandbox(server.base_url, directory, control)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A demo-team sandbox on a real loopback port, stopped after the test."""
    with start_sandbox() as running:
        yield running


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., RunningSandbox]]:
    """Start sandboxes with options (several teams at once); all stop at teardown."""
    with ExitStack() as stack:

        def factory(**options: Any) -> RunningSandbox:
            return stack.enter_context(start_sandbox(**options))

        yield factory
