"""The one CSV writer of the access-review matrix (CLI ``export`` and the API's CSV).

Rows are the design's export objects (:meth:`PersonRow.export_dict`). Names,
e-mails and app names come from Apple or from people, and a spreadsheet runs
any cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula. Every cell is neutralised by OWASP's rule: such a value
gets a leading single quote (the ``csv`` module quotes and escapes the rest).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["EXPORT_COLUMNS", "export_csv", "neutralise"]

EXPORT_COLUMNS = (
    "connection",
    "email",
    "first_name",
    "last_name",
    "status",
    "roles",
    "all_apps_visible",
    "provisioning_allowed",
    "apps",
    "app_ids",
    "synced_at",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """``value`` made inert for spreadsheets (OWASP: prefix a formula-like cell with ``'``)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _cells(row: Mapping[str, Any]) -> list[str]:
    apps = row["apps"]
    everything = bool(row["all_apps_visible"])
    return [
        row["connection"],
        row["email"],
        row["first_name"] or "",
        row["last_name"] or "",
        row["status"],
        ";".join(row["roles"]),
        "yes" if everything else "no",
        "yes" if row["provisioning_allowed"] else "no",
        "ALL" if everything else "; ".join(f"{a['name']} ({a['bundle_id']})" for a in apps),
        ";".join(a["id"] for a in apps),
        row["synced_at"] or "",
    ]


def export_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The matrix as CSV: a header, then one row per person per team, every cell inert."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([neutralise(str(cell)) for cell in _cells(row)])
    return buffer.getvalue()
