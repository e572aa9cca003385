"""From a result row to a record (:func:`record`), and from a record to JSON (:func:`json_view`).

Every store module returns frozen dataclasses; instead of a hand-written
``_row``/``_record`` per table, :func:`record` fills each field from the row's
column of the same name. A field named differently from its column, or one
that needs shaping (a JSON list into a tuple), is given explicitly; a field the
row does not have keeps its default. Datetimes arrive aware UTC already
(:class:`~asc_access.store.timeutil.UtcDateTime` in the schema).

The way back, :func:`values_of` gives a record's fields as column values, and
:func:`json_view` gives a record's ``--json`` / REST shape: the
fields (or the attributes named) in order, a datetime as ISO 8601 text and a
tuple as a list.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

__all__ = ["json_ready", "json_view", "record", "values_of"]

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


def values_of(obj: Any, **given: Any) -> dict[str, Any]:
    """``obj``'s dataclass fields by name (the way back of :func:`record`); ``given`` win."""
    out = {f.name: getattr(obj, f.name) for f in fields(obj)}
    out.update(given)
    return out


def json_ready(value: Any) -> Any:
    """A datetime as ISO 8601 text, a tuple as a list; anything else as it is."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def json_view(obj: Any, *names: str, skip: Collection[str] = (), **given: Any) -> dict[str, Any]:
    """``obj``'s attributes, JSON-ready (:func:`json_ready`), in order.

    Args:
        names: the attributes shown (fields or properties); ``"key=attr"`` shows
            ``attr`` under ``key``. None given: every dataclass field not in ``skip``.
        given: a value shown under its key instead of the attribute's.
    """
    order = names or tuple(f.name for f in fields(obj) if f.name not in skip)
    out: dict[str, Any] = {}
    for name in order:
        key, _, attr = name.partition("=")
        out[key] = given[key] if key in given else json_ready(getattr(obj, attr or key))
    return out
