"""The doctor's report and its ``--json`` document (the contract in design.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asc_access.catalogue import exit_status_for
from asc_access.credentials import CheckResult, CheckStatus
from asc_access.diagnosis.findings import Finding
from asc_access.errors import RateLimitSnapshot

__all__ = ["CAPABILITIES", "DoctorReport"]

#: The capabilities the doctor measures, in the contract's order.
CAPABILITIES = ("read_apps", "read_users", "read_invitations", "manage_users")


@dataclass(slots=True)
class DoctorReport:
    """Everything the doctor found.

    ``findings`` are ordered by importance: the first is the verdict (``code``,
    ``cause``, ``certainty``). ``usage_error`` is set when a value is missing
    (exit status 2). ``accepted_at`` is when Apple last accepted a token in
    this run (``None`` when it never did).
    """

    key_type: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    capabilities: dict[str, bool | None] = field(
        default_factory=lambda: dict.fromkeys(CAPABILITIES)
    )
    clock_skew_seconds: float | None = None
    rate_limit: RateLimitSnapshot | None = None
    usage_error: str | None = None
    accepted_at: datetime | None = None
    key_id: str | None = None
    api_url: str | None = None
    connection: str | None = None

    def add(self, check_id: str, status: CheckStatus, detail: str) -> None:
        """Record a check."""
        self.checks.append(CheckResult(check_id, status, detail))

    @property
    def ok(self) -> bool:
        """No finding and no usage error."""
        return not self.findings and self.usage_error is None

    @property
    def verdict(self) -> Finding | None:
        """The first (most important) finding."""
        return self.findings[0] if self.findings else None

    @property
    def code(self) -> str | None:
        """The verdict's code."""
        return None if self.usage_error or not self.findings else self.findings[0].code

    @property
    def cause(self) -> str | None:
        """The verdict's cause."""
        return None if self.usage_error or not self.findings else self.findings[0].cause

    @property
    def certainty(self) -> str | None:
        """The verdict's certainty."""
        return None if self.usage_error or not self.findings else self.findings[0].certainty

    @property
    def exit_status(self) -> int:
        """0 when ok, 2 for a usage error, else the code's number (1 when uncatalogued)."""
        if self.usage_error is not None:
            return 2
        if not self.findings:
            return 0
        return exit_status_for(self.findings[0].code)

    @property
    def accepted(self) -> bool:
        """Whether Apple accepted a token of this key during the run."""
        return self.accepted_at is not None

    def as_dict(self) -> dict[str, Any]:
        """The ``doctor --json`` document."""
        doc: dict[str, Any] = {
            "ok": self.ok,
            "code": self.code,
            "cause": self.cause,
            "certainty": self.certainty,
            "findings": [f.as_dict() for f in self.findings],
            "checks": [c.as_dict() for c in self.checks],
            "key_type": self.key_type,
            "capabilities": dict(self.capabilities),
            "clock_skew_seconds": self.clock_skew_seconds,
            "rate_limit": (
                self.rate_limit.as_dict() if self.rate_limit else {"limit": None, "remaining": None}
            ),
        }
        if self.usage_error is not None:
            doc["error"] = self.usage_error
        if self.key_id is not None:
            doc["key_id"] = self.key_id
        if self.api_url is not None:
            doc["api_url"] = self.api_url
        if self.connection is not None:
            doc["connection"] = self.connection
        return doc
