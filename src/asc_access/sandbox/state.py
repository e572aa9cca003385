"""One running sandbox: the team, its keys, clock, quota, faults and counters."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from asc_access.sandbox.faults import FaultBook
from asc_access.sandbox.keys import IssuedKey, KeyRing
from asc_access.sandbox.ratelimit import DEFAULT_HOURLY_LIMIT, RateLimiter
from asc_access.sandbox.records import Clock
from asc_access.sandbox.seeds import SeedSpec, apply_seed, key_users
from asc_access.sandbox.world import World

__all__ = ["KEY_NAMES", "Sandbox", "SandboxOptions", "Stats"]

KEY_NAMES = ("admin", "developer", "individual-admin", "individual-developer", "revoked")


@dataclass(frozen=True, slots=True)
class SandboxOptions(SeedSpec):
    """How to start: the seed (a :class:`SeedSpec`), latency for every call, the hourly quota."""

    latency_ms: int = 0
    rate_limit: int = DEFAULT_HOURLY_LIMIT
    issuer_id: str | None = None
    #: Leave ``meta.paging.total`` out of included relationships (Apple may omit it).
    omit_included_totals: bool = False

    @property
    def seed_spec(self) -> SeedSpec:
        """The seed part of the options."""
        return SeedSpec(**{f.name: getattr(self, f.name) for f in fields(SeedSpec)})


@dataclass(slots=True)
class Stats:
    """Requests to Apple's API (not the control API), by route and by status."""

    requests: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)

    def count(self, route: str) -> None:
        """Count one request."""
        self.requests += 1
        self.by_route[route] += 1

    def status(self, status: int) -> None:
        """Count one answer's status."""
        self.by_status[str(status)] += 1

    def as_json(self) -> dict[str, Any]:
        """The ``GET /_sandbox/stats`` document."""
        return {
            "requests": self.requests,
            "by_route": dict(self.by_route),
            "by_status": dict(self.by_status),
        }

    def reset(self) -> None:
        """Zero every counter."""
        self.requests = 0
        self.by_route.clear()
        self.by_status.clear()


class Sandbox:
    """Everything the ASGI app serves. Not thread-safe: one event loop owns it."""

    def __init__(
        self,
        options: SandboxOptions | None = None,
        *,
        clock: Clock | None = None,
        world: World | None = None,
    ):
        self.options = options or SandboxOptions()
        self.clock = clock or Clock()
        self.issuer_id = self.options.issuer_id or str(uuid.uuid4())
        self.keys = KeyRing(self.issuer_id)
        self.limiter = RateLimiter(self.options.rate_limit)
        self.faults = FaultBook(self.options.random_seed)
        self.stats = Stats()
        self.latency_ms = self.options.latency_ms
        self.omit_included_totals = self.options.omit_included_totals
        self.agreements_accepted = True
        self.app_cache: dict[tuple[object, ...], dict[str, Any]] = {}
        self.seed_spec = self.options.seed_spec
        self.named_keys: dict[str, IssuedKey] = {}
        #: Called after every successful write request (see :mod:`.persist`).
        self.on_change: Callable[[], None] | None = None
        if world is None:  # a new team; a restored one brings its own keys
            self.world = self._new_world(self.seed_spec)
            self._issue_named_keys()
        else:
            self.world = world

    def _new_world(self, spec: SeedSpec) -> World:
        world = World(self.clock)
        apply_seed(world, spec)
        return world

    def _issue_named_keys(self) -> None:
        self.named_keys["admin"] = self.keys.issue_team("ADMIN", "admin")
        self.named_keys["developer"] = self.keys.issue_team("DEVELOPER", "developer")
        for name, user_id in key_users(self.world).items():
            self.named_keys[name] = self.keys.issue_individual(user_id, name)
        revoked = self.keys.issue_team("ADMIN", "revoked")
        self.keys.revoke(revoked.key_id)
        self.named_keys["revoked"] = revoked

    def changed(self) -> None:
        """A write request succeeded: let the owner save the team."""
        if self.on_change is not None:
            self.on_change()

    def reset(self, spec: SeedSpec | None = None) -> None:
        """A fresh team from ``spec``; faults, counters, quota, clock and agreements reset.

        Keys stay valid (the ``.p8`` files on disk keep working). Individual keys keep
        pointing at their user id: with the demo seed, the same people come back.
        """
        self.seed_spec = spec or self.seed_spec
        self.clock.offset_seconds = 0.0
        self.world = self._new_world(self.seed_spec)
        self.faults.clear()
        self.stats.reset()
        self.limiter.reset()
        self.app_cache.clear()
        self.agreements_accepted = True

    # ----- sandbox.json --------------------------------------------------------------
    def describe(self, base_url: str, key_files: dict[str, Path] | None = None) -> dict[str, Any]:
        """The ``sandbox.json`` document (no key material)."""
        keys = []
        for name, key in self.named_keys.items():
            entry: dict[str, Any] = {**key.describe(self.issuer_id), "name": name}
            if key_files and name in key_files:
                entry["private_key_file"] = str(key_files[name])
            keys.append(entry)
        return {
            "base_url": base_url,
            "issuer_id": self.issuer_id,
            "seed": self.seed_spec.seed,
            "keys": keys,
        }

    def write_state_dir(self, state_dir: Path, base_url: str) -> Path:
        """Write ``AuthKey_<KEYID>.p8`` files (0600) and ``sandbox.json``; return the JSON path."""
        state_dir.mkdir(parents=True, exist_ok=True)
        files: dict[str, Path] = {}
        for name, key in self.named_keys.items():
            path = state_dir / f"AuthKey_{key.key_id}.p8"
            _write_private(path, key.private_key_pem)
            files[name] = path
        target = state_dir / "sandbox.json"
        _write_private(target, json.dumps(self.describe(base_url, files), indent=2) + "\n")
        return target


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (created 0600, never wider)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)
