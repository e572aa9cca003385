"""What every request handler needs, built once by :func:`create_app` and kept on ``app.state``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from asc_access.config import Settings
from asc_access.service.sessions import SessionSigner
from asc_access.service.throttle import AuthThrottle
from asc_access.store.handle import Database
from asc_access.urlpolicy import UrlPolicy

if TYPE_CHECKING:
    from asc_access.service.plans import PlanStore
    from asc_access.service.syncing import SyncManager

__all__ = ["ServiceContext", "context_of", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass
class ServiceContext:
    """The service's settings, store and long-lived helpers."""

    settings: Settings
    engine: Database
    signer: SessionSigner
    syncs: SyncManager
    plans: PlanStore
    clock: Callable[[], datetime] = utcnow
    #: Extra keyword arguments for every API client the service builds (tests pass pacing).
    client_kwargs: dict[str, Any] = field(default_factory=dict)
    #: Upper bound for an uploaded private key, in bytes.
    max_key_bytes: int = 10 * 1024
    #: Which API URLs the service may send a token to (Apple's, plus the listed ones).
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)
    #: Failed sign-ins and bearer tokens, counted per client and overall.
    throttle: AuthThrottle = field(default_factory=AuthThrottle.from_env)


def context_of(conn: HTTPConnection) -> ServiceContext:
    """The context of the app serving ``conn``."""
    ctx = conn.app.state.ctx
    assert isinstance(ctx, ServiceContext)
    return ctx
