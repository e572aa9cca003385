"""Verdict rules that the sandbox cannot stage directly (a team key losing a permission)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from asc_access.diagnosis.probe_results import ProbeResult
from asc_access.diagnosis.report import DoctorReport
from asc_access.diagnosis.verdicts import History, permission_finding, rate_budget_verdict
from asc_access.errors import PermissionDeniedError, RateLimitSnapshot

KID = "ABCDE12345"
WHEN = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def _forbidden() -> list[ProbeResult]:
    error = PermissionDeniedError("403", method="GET", path="/v1/users", status=403)
    return [ProbeResult("users", "GET /v1/users?limit=1", error, 0.0, None, None)]


@pytest.mark.parametrize(
    ("key_type", "history", "cause", "certainty"),
    [
        ("team", None, "key_role_insufficient", "certain"),
        ("individual", None, "individual_key_limited", "certain"),
        ("team", History("p", KID, "team", WHEN, {"read_users": True}), "permissions_revoked",
         "likely"),
        ("individual", History("p", KID, "individual", WHEN, {"read_users": True}),
         "permissions_revoked", "certain"),
        # History of another key (rotated since) or without the capability: first-time failure.
        ("team", History("p", "OTHER12345", "team", WHEN, {"read_users": True}),
         "key_role_insufficient", "certain"),
        ("team", History("p", KID, "team", WHEN, {"read_users": False}), "key_role_insufficient",
         "certain"),
    ],
)  # fmt: skip
def test_permission_finding(
    key_type: str, history: History | None, cause: str, certainty: str
) -> None:
    finding = permission_finding(
        _forbidden(), facts={"key_id": KID}, key_type=key_type, key_id=KID, history=history
    )
    assert (finding.code, finding.cause, finding.certainty) == ("APP-102", cause, certainty)
    if cause == "permissions_revoked":
        assert "2026-11-01 09:30 UTC" in finding.evidence
        assert "read users" in finding.evidence


@pytest.mark.parametrize(
    ("remaining", "status", "finding"),
    [(3000, "pass", None), (100, "warn", None), (0, "fail", "rate_limited"), (None, "skip", None)],
)
def test_rate_budget_verdict(remaining: int | None, status: str, finding: str | None) -> None:
    report = DoctorReport()
    report.rate_limit = RateLimitSnapshot(3600, remaining) if remaining is not None else None
    rate_budget_verdict(report, {})
    assert report.checks[-1].status == status
    assert [f.cause for f in report.findings] == ([finding] if finding else [])
