"""One way from a result row to a record: :func:`record` maps dataclass fields by name.

Every store module returns frozen dataclasses; instead of a hand-written
``_row``/``_record`` per table, :func:`record` fills each field from the row's
column of the same name. A field named differently from its column, or one
that needs shaping (a JSON list into a tuple), is given explicitly; a field the
row does not have keeps its default. Datetimes arrive aware UTC already
(:class:`~asc_access.store.timeutil.UtcDateTime` in the schema).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

__all__ = ["record"]

T = TypeVar("T")


def record(cls: type[T], row: Any, **values: Any) -> T:
    """``cls`` from ``row``'s columns of the same names; ``values`` win over the row.

    ``row`` is a result row or its mapping (``row._mapping``).

    Raises:
        TypeError: a field without a default is neither in ``row`` nor in ``values``.
    """
    mapping = getattr(row, "_mapping", row)  # a Row, or already a RowMapping
    chosen: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if not f.init:
            continue
        if f.name in values:
            chosen[f.name] = values[f.name]
        elif f.name in mapping:
            chosen[f.name] = mapping[f.name]
    return cls(**chosen)
