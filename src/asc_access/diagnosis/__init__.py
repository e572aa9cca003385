"""Diagnosis: what a failure means and what to do about it.

The words come from the catalogue's one table (:mod:`asc_access.catalogue`:
one entry per cause, and every Apple error code we know), re-exported here;
this package turns failures into findings:

- :func:`finding_for`: any asc-access error → a :class:`Finding`;
- :class:`DoctorReport`: the doctor's answer, rendered by :mod:`.render`;
- :mod:`.verdicts` / :mod:`.suspects`: reading probe results into findings.

The doctor itself, and its online probes, import the API client, so they live a
layer higher, in :mod:`asc_access.doctor`.
"""

from asc_access.catalogue import (
    APPLE_CODES,
    CAUSES,
    AppleCodeEntry,
    CauseEntry,
    Certainty,
    entry,
    fill,
    lookup,
)
from asc_access.diagnosis.findings import Finding, finding_for, make_finding
from asc_access.diagnosis.report import CAPABILITIES, DoctorReport

__all__ = [
    "APPLE_CODES",
    "CAPABILITIES",
    "CAUSES",
    "AppleCodeEntry",
    "CauseEntry",
    "Certainty",
    "DoctorReport",
    "Finding",
    "entry",
    "fill",
    "finding_for",
    "lookup",
    "make_finding",
]
