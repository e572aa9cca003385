"""One rule for the names the store saves (connections, API tokens).

The rule itself is :func:`asc_access.ids.name_problem`; :func:`allowed_name`
turns a problem into the one :class:`UsageError` every caller shows.
"""

from __future__ import annotations

from asc_access.errors import UsageError
from asc_access.ids import name_problem, shown_name

__all__ = ["allowed_name"]


def allowed_name(name: str, what: str) -> str:
    """Return ``name`` if it may name a ``what`` (``"connection"``, ``"token"``), else raise.

    Raises:
        UsageError: naming the problem, with ``context={"input": "name"}``.
    """
    problem = name_problem(name)
    if problem is not None:
        raise UsageError(
            f"{what} name {shown_name(name)} is not allowed: {problem}", context={"input": "name"}
        )
    return name
