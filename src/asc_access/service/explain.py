"""What the service tells a person about one of our errors: title, certainty, numbered steps.

The words come from the diagnosis table (:mod:`asc_access.diagnosis`), the same
table the CLI uses; this module only adapts its finding to the service's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asc_access.catalogue import CODES
from asc_access.errors import AscAccessError

__all__ = ["Explanation", "explain"]


@dataclass(frozen=True)
class Explanation:
    """A catalogued finding, or a plain message for errors outside the catalogue."""

    code: str | None
    cause: str | None
    title: str
    resolution: tuple[str, ...] = ()
    certainty: str | None = None
    evidence: tuple[str, ...] = field(default=())


def explain(error: AscAccessError) -> Explanation:
    """The explanation a person reads for ``error``."""
    if error.code is None:
        return Explanation(code=None, cause=error.cause, title=error.message)
    return Explanation(
        code=error.code,
        cause=error.cause,
        title=CODES.get(error.code, error.message),
    )
