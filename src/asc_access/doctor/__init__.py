"""The doctor: offline checks, then online probes against Apple, then one verdict.

It sits at the level of ``sync`` and ``actions`` (it drives the API client);
the words and verdict rules it applies live below, in :mod:`asc_access.diagnosis`
and :mod:`asc_access.catalogue`.

- :func:`~asc_access.doctor.engine.diagnose`: a :class:`~asc_access.diagnosis.DoctorReport`;
- :mod:`~asc_access.doctor.probes`: one cheap read per capability.
"""

from asc_access.doctor.engine import History, diagnose
from asc_access.doctor.probes import ClientFactory, ProbeSession, run_probe

__all__ = ["ClientFactory", "History", "ProbeSession", "diagnose", "run_probe"]
