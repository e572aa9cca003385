"""What happened when a plan ran: one result per step, and the run's status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asc_access.actions.model import Outcome, Plan, Step

__all__ = ["Execution", "StepResult"]


@dataclass(slots=True)
class StepResult:
    """What happened to one step. ``outcome`` is ``None`` while it has not run.

    ``state`` is ``pending`` (not started), ``running`` (a write may be on its
    way: a crash here leaves the audit saying so), ``finished`` or ``not_run``
    (skipped because an earlier step it depends on failed, or Apple became
    unavailable). ``request_ids`` are Apple's ``X-Request-ID`` values of the
    calls the step made; ``error`` is the :class:`~asc_access.errors.ApiError`
    context when Apple refused.
    """

    step: Step
    state: str = "pending"
    outcome: Outcome | None = None
    message: str = ""
    code: str | None = None
    cause: str | None = None
    error: dict[str, Any] | None = None
    request_ids: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in the audit log."""
        return {
            "index": self.step.index,
            "kind": self.step.kind.value,
            "connection": self.step.connection,
            "email": self.step.email,
            "summary": self.step.summary(),
            "state": self.state,
            "outcome": self.outcome.value if self.outcome else None,
            "message": self.message,
            "code": self.code,
            "cause": self.cause,
            "error": self.error,
            "request_ids": list(self.request_ids),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


@dataclass(slots=True)
class Execution:
    """The result of executing a plan: one :class:`StepResult` per step."""

    plan: Plan
    results: list[StepResult]
    audit_id: int | None = None

    @property
    def status(self) -> str:
        """``done`` (nothing failed), ``failed`` (nothing applied) or ``partial``."""
        outcomes = [r.outcome for r in self.results]
        failed = any(o is Outcome.FAILED for o in outcomes) or any(
            r.state == "not_run" for r in self.results
        )
        if not failed:
            return "done"
        applied = any(o is Outcome.DONE for o in outcomes)
        return "partial" if applied else "failed"

    @property
    def first_failure(self) -> StepResult | None:
        """The first failed step, if any."""
        return next((r for r in self.results if r.outcome is Outcome.FAILED), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "status": self.status,
            "audit_id": self.audit_id,
            "steps": [r.as_dict() for r in self.results],
        }
