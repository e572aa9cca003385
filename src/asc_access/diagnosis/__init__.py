"""Diagnosis: what a failure means and what to do about it.

- :mod:`~asc_access.diagnosis.causes`: the table, one entry per catalogue cause
  (title, meaning, certainty rule, evidence template, resolution steps);
- :mod:`~asc_access.diagnosis.apple_codes`: every Apple error code we know;
- :func:`finding_for`: any asc-access error → a :class:`Finding`;
- :func:`~asc_access.diagnosis.doctor.diagnose`: the doctor (offline checks,
  then online probes) producing a :class:`DoctorReport`.

The doctor and its probes import the API client, so they are not re-exported
here: import them from :mod:`asc_access.diagnosis.doctor`.
"""

from asc_access.diagnosis.apple_codes import APPLE_CODES, AppleCodeEntry, lookup
from asc_access.diagnosis.causes import CAUSES, CauseEntry, Certainty, entry, fill
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
