"""Plans waiting for confirmation: the service's half of plan-then-confirm.

``POST .../plans`` stores a plan here and answers its id; ``POST
.../plans/{id}/confirm`` takes it out (once) and executes it. Plans live in
memory for :data:`PLAN_TTL` seconds and can be confirmed only by the token
that made them, so a plan id alone is worth nothing to anyone else. A plan is
bound to the token itself (its stored hash, unique and never reused), not to
its row id: a token created later, even one that reuses a revoked token's row
id or name, cannot confirm it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PLAN_TTL", "PendingPlan", "PlanStore"]

PLAN_TTL = 15 * 60.0


@dataclass
class PendingPlan:
    """A plan shown to someone and not yet confirmed."""

    id: str
    token_hash: str
    request: dict[str, Any]
    plan: Any
    created: float
    summary: dict[str, Any] = field(default_factory=dict)


class PlanStore:
    """Thread-safe, in-memory, expiring."""

    def __init__(self, *, ttl: float = PLAN_TTL, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._plans: dict[str, PendingPlan] = {}
        self._lock = threading.Lock()

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, p in self._plans.items() if now - p.created > self._ttl]:
            del self._plans[key]

    def add(self, token_hash: str, request: dict[str, Any], plan: Any) -> PendingPlan:
        """Keep ``plan`` (made for ``request`` by the token ``token_hash``); return it."""
        with self._lock:
            self._expire()
            pending = PendingPlan(
                id=secrets.token_urlsafe(12),
                token_hash=token_hash,
                request=request,
                plan=plan,
                created=self._clock(),
            )
            self._plans[pending.id] = pending
            return pending

    def get(self, plan_id: str, token_hash: str) -> PendingPlan | None:
        """The pending plan, if it exists, is current and belongs to ``token_hash``."""
        with self._lock:
            return self._owned(plan_id, token_hash)

    def take(self, plan_id: str, token_hash: str) -> PendingPlan | None:
        """Remove and return the pending plan (so it runs at most once)."""
        with self._lock:
            pending = self._owned(plan_id, token_hash)
            if pending is not None:
                del self._plans[plan_id]
            return pending

    def _owned(self, plan_id: str, token_hash: str) -> PendingPlan | None:
        """The current plan ``plan_id`` if ``token_hash`` made it (the lock is held)."""
        self._expire()
        pending = self._plans.get(plan_id)
        if pending is None or not hmac.compare_digest(pending.token_hash, token_hash):
            return None
        return pending
