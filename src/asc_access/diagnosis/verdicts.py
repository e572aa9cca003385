"""Verdict helpers for the doctor: permission findings, the rate budget, wording of facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from asc_access.catalogue import Certainty
from asc_access.diagnosis.findings import Finding, make_finding
from asc_access.diagnosis.probe_results import ProbeName, ProbeResult
from asc_access.diagnosis.report import DoctorReport
from asc_access.errors import ApiError

__all__ = [
    "CAPABILITY_OF",
    "History",
    "finding_facts",
    "permission_finding",
    "rate_budget_verdict",
    "signed_seconds",
    "skew_text",
]

#: Which capability each probe measures.
CAPABILITY_OF: dict[ProbeName, str] = {
    "apps": "read_apps",
    "users": "read_users",
    "invitations": "read_invitations",
}

#: Below this share of the hourly budget left, the rate-limit check warns.
_LOW_BUDGET = 0.1


@dataclass(frozen=True, slots=True)
class History:
    """What a saved connection remembers: when its key last worked, and what it could do."""

    name: str
    key_id: str
    key_type: str
    last_ok_at: datetime | None = None
    capabilities: Mapping[str, bool | None] | None = None


def finding_facts(error: ApiError) -> dict[str, object]:
    """Facts about an Apple error for the finding templates."""
    label = f"{error.method} {error.path}".strip() or "the request"
    if error.request_id:
        label += f" (request id {error.request_id})"
    return {"request": label, "request_id": error.request_id, "apple_code": error.apple_code}


def permission_finding(
    forbidden: list[ProbeResult],
    *,
    facts: Mapping[str, object],
    key_type: str,
    key_id: str,
    history: History | None,
) -> Finding:
    """The APP-102 finding for probes Apple answered with 403.

    ``permissions_revoked`` when the saved history shows this key had the
    capability (certain for an individual key, whose owner's roles changed;
    likely for a team key, whose role cannot change); otherwise
    ``individual_key_limited`` or ``key_role_insufficient``.
    """
    first = forbidden[0]
    assert first.error is not None
    merged: dict[str, object] = {**finding_facts(first.error), **facts}
    previous = history.capabilities if history and history.key_id == key_id else None
    lost = [
        CAPABILITY_OF[r.name]
        for r in forbidden
        if previous and previous.get(CAPABILITY_OF[r.name]) is True
    ]
    if lost and history is not None:
        when = history.last_ok_at
        merged["last_ok_at"] = when.strftime("%Y-%m-%d %H:%M UTC") if when else "an earlier run"
        merged["lost"] = " and ".join(c.replace("_", " ") for c in lost)
        certainty: Certainty = "certain" if key_type == "individual" else "likely"
        return make_finding("permissions_revoked", merged, certainty=certainty)
    if key_type == "individual":
        return make_finding("individual_key_limited", merged)
    return make_finding("key_role_insufficient", merged)


def rate_budget_verdict(report: DoctorReport, facts: Mapping[str, object]) -> None:
    """Add the rate-limit check (and an APP-104 finding when nothing is left)."""
    snapshot = report.rate_limit
    if snapshot is None or snapshot.remaining is None:
        report.add("rate_limit", "skip", "Apple sent no X-Rate-Limit header")
        return
    text = f"{snapshot.remaining} of {snapshot.limit} requests left this hour"
    if snapshot.remaining <= 0:
        report.add("rate_limit", "fail", text)
        report.findings.append(
            make_finding(
                "rate_limited", {**facts, "detail": f"Apple's X-Rate-Limit header: {text}."}
            )
        )
    elif snapshot.limit and snapshot.remaining < snapshot.limit * _LOW_BUDGET:
        report.add("rate_limit", "warn", text)
    else:
        report.add("rate_limit", "pass", text)


def signed_seconds(seconds: float, digits: int = 1) -> str:
    """``+1.5 s``, ``-3 s``; a value that rounds to zero is ``0 s`` (never ``-0 s``)."""
    shown = round(seconds, digits)
    if shown == 0:
        return "0 s"
    return f"{shown:+.{digits}f} s"


def skew_text(skew: float) -> str:
    """``this computer's clock is 300 s ahead of Apple's`` (skew = Apple minus us)."""
    if abs(skew) < 1.5:
        return f"this computer's clock agrees with Apple's ({signed_seconds(skew)})"
    direction = "behind" if skew > 0 else "ahead of"
    return f"this computer's clock is {abs(skew):.0f} s {direction} Apple's"
