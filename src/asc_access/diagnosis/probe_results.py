"""What one online probe found: pure data, read by the verdicts (no API client here).

The probes themselves (which send the requests) live in :mod:`asc_access.doctor.probes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from asc_access.errors import ApiError, AuthenticationError, RateLimitSnapshot

__all__ = ["PROBES", "ProbeName", "ProbeResult"]

ProbeName = Literal["apps", "users", "invitations"]

#: Probe name → the request it sends (for evidence).
PROBES: dict[ProbeName, str] = {
    "apps": "GET /v1/apps?limit=1",
    "users": "GET /v1/users?limit=1",
    "invitations": "GET /v1/userInvitations?limit=1",
}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one probe.

    ``skew_seconds`` is Apple's ``Date`` minus this computer's clock at the
    moment of the answer (``None`` when Apple sent no answer).
    """

    name: ProbeName
    request: str
    error: ApiError | None
    skew_seconds: float | None
    server_date: datetime | None
    rate_limit: RateLimitSnapshot | None

    @property
    def ok(self) -> bool:
        """Apple answered 2xx."""
        return self.error is None

    @property
    def unauthorized(self) -> bool:
        """Apple answered 401."""
        return isinstance(self.error, AuthenticationError)
