"""A per-connection lock in Redis that expires when its holder dies.

``SET key token NX PX ttl`` takes it; a background thread renews it every third of
its lifetime with a compare-and-``PEXPIRE`` script; release is a compare-and-
``DEL`` script, so a holder whose lock already expired can never delete the lock
a successor now holds. The token is ``<request key>|<random>``: a second delivery
of the same task can tell "my own earlier delivery still holds it" from "another
sync of this connection is running".

If a renewal finds the lock gone (the holder stalled longer than the TTL), the
holder is told through :attr:`LockLease.lost` and the task stops its sync.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from redis import Redis

__all__ = ["ConnectionLock", "LockLease", "LockState"]

_log = logging.getLogger(__name__)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class LockState:
    """Who holds a lock now, as read from Redis."""

    request_key: str
    token: str
    ttl_ms: int


class LockLease:
    """A held lock: renewed in the background until :meth:`release`."""

    def __init__(self, lock: ConnectionLock, token: str) -> None:
        self._lock = lock
        self.token = token
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._renew_loop, name=f"lock-renew:{lock.name}", daemon=True
        )

    def start(self) -> None:
        """Start renewing in the background."""
        self._thread.start()

    def _renew_loop(self) -> None:
        interval = self._lock.ttl_ms / 3000.0
        while not self._stop.wait(interval):
            try:
                still_held = self._lock.renew(self.token)
            except Exception:  # noqa: BLE001 - Redis hiccup: try again next tick
                _log.warning("lock renewal failed; retrying", extra={"lock": self._lock.name})
                continue
            if not still_held:
                self.lost.set()
                return

    def release(self) -> bool:
        """Stop renewing and delete the lock if it is still ours."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        return self._lock.release(self.token)


class ConnectionLock:
    """The lock of one connection (``<prefix>lock:connection:<id>``)."""

    def __init__(self, client: Redis[Any], key: str, *, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._client = client
        self.name = key
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @staticmethod
    def new_token(request_key: str) -> str:
        """A unique token that names the request holding the lock."""
        return f"{request_key}|{secrets.token_hex(8)}"

    def try_acquire(self, request_key: str) -> str | None:
        """Take the lock for ``request_key``; the token, or ``None`` when held."""
        token = self.new_token(request_key)
        if self._client.set(self.name, token, nx=True, px=self.ttl_ms):
            return token
        return None

    def renew(self, token: str) -> bool:
        """Extend the lock if ``token`` still holds it."""
        return bool(self._renew(keys=[self.name], args=[token, self.ttl_ms]))

    def release(self, token: str) -> bool:
        """Delete the lock if ``token`` still holds it (never a successor's)."""
        return bool(self._release(keys=[self.name], args=[token]))

    def holder(self) -> LockState | None:
        """Who holds the lock now, or ``None``."""
        pipe = self._client.pipeline()
        pipe.get(self.name)
        pipe.pttl(self.name)
        raw, ttl = pipe.execute()
        if raw is None:
            return None
        token = raw.decode() if isinstance(raw, bytes) else str(raw)
        request_key = token.rsplit("|", 1)[0]
        return LockState(request_key=request_key, token=token, ttl_ms=max(0, int(ttl)))

    @contextmanager
    def held(self, token: str) -> Iterator[LockLease]:
        """Keep an acquired lock renewed for the ``with`` block, then release it."""
        lease = LockLease(self, token)
        lease.start()
        try:
            yield lease
        finally:
            lease.release()
