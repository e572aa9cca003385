"""What the service tells a person about a failure: title, certainty, evidence, numbered steps.

The words come from the diagnosis table (:mod:`asc_access.diagnosis`), the same
table the CLI and the doctor use; this module only adapts its findings to the
service's shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from asc_access.catalogue import CAUSES, CODES
from asc_access.diagnosis.findings import Finding, finding_for, make_finding
from asc_access.errors import AscAccessError

__all__ = ["Explanation", "explain", "explain_cause", "from_finding"]


@dataclass(frozen=True)
class Explanation:
    """A catalogued finding, or a plain message for errors outside the catalogue."""

    code: str | None
    cause: str | None
    title: str
    resolution: tuple[str, ...] = ()
    certainty: str | None = None
    evidence: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "code": self.code,
            "cause": self.cause,
            "title": self.title,
            "certainty": self.certainty,
            "evidence": list(self.evidence),
            "resolution": list(self.resolution),
        }


def from_finding(finding: Finding) -> Explanation:
    """Adapt a diagnosis finding."""
    return Explanation(
        code=finding.code,
        cause=finding.cause,
        title=finding.title,
        resolution=tuple(finding.resolution),
        certainty=finding.certainty,
        evidence=(finding.evidence,) if finding.evidence else (),
    )


def explain(error: AscAccessError, facts: Mapping[str, object] | None = None) -> Explanation:
    """The explanation a person reads for ``error``."""
    return from_finding(finding_for(error, facts))


def explain_cause(
    code: str | None, cause: str | None, facts: Mapping[str, object] | None = None
) -> Explanation | None:
    """The explanation of a recorded ``code`` / ``cause`` (a failed run, a connection's health)."""
    if cause in CAUSES:
        return from_finding(make_finding(cause, facts))
    if code is None and cause is None:
        return None
    return Explanation(code=code, cause=cause, title=CODES.get(code or "", cause or "failed"))
