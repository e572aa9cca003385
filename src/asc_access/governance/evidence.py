"""Evidence of a campaign: a CSV and a PDF, both carrying one content digest.

The digest is the SHA-256 of the CSV's evidence rows (every line above its
last); the CSV ends with it, the PDF prints it. A later copy of the CSV is
checked by hashing its rows again (:func:`verify_csv`) and comparing with the
PDF or the CSV's own last line. Both cover the scope, the reviewers, every
item's access at start, the decision with who / when / comment, the outcome
of remediation, the access read back afterwards, and what failed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import textwrap
from collections.abc import Sequence
from pathlib import Path

from asc_access.store.campaigns import Campaign, Item

__all__ = [
    "COLUMNS",
    "DIGEST_PREFIX",
    "csv_rows",
    "digest_of",
    "verify_csv",
    "write_csv",
    "write_pdf",
]

COLUMNS = (
    "campaign", "connection", "email", "name", "status", "flags",
    "roles_at_start", "apps_at_start", "decision", "decision_roles", "decision_apps",
    "comment", "decided_by", "decided_at", "outcome", "outcome_detail",
    "roles_after", "apps_after",
)  # fmt: skip
DIGEST_PREFIX = "# sha256 of the lines above: "
FAILED = ("failed", "refused")
_WRAP = 120  # characters per line at 8 pt Helvetica on A4


def _apps(all_apps: bool, apps: Sequence[str]) -> str:
    return "ALL" if all_apps else " ".join(apps)


def _after(item: Item) -> tuple[str, str]:
    if item.after is None:
        return ("(no access)", "") if item.outcome else ("", "")
    roles = " ".join(item.after.get("roles") or ())
    return roles, _apps(bool(item.after.get("all_apps_visible")), item.after.get("apps") or ())


def _row(campaign: Campaign, item: Item) -> list[str]:
    roles_after, apps_after = _after(item)
    return [
        str(campaign.id), item.connection, item.email, item.name, item.status,
        " ".join(item.flags), " ".join(item.roles), _apps(item.all_apps_visible, item.apps),
        item.decision or "", " ".join(item.decision_roles or ()),
        " ".join(item.decision_apps or ()), item.comment or "", item.decided_by or "",
        item.decided_at.isoformat() if item.decided_at else "", item.outcome or "",
        item.outcome_detail or "", roles_after, apps_after,
    ]  # fmt: skip


def csv_rows(campaign: Campaign, items: Sequence[Item]) -> str:
    """The CSV's evidence rows (header included), the text the digest covers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in items:
        writer.writerow(_row(campaign, item))
    return buffer.getvalue()


def digest_of(rows: str) -> str:
    """The content digest: ``sha256:<hex>`` of the rows' UTF-8 bytes."""
    return "sha256:" + hashlib.sha256(rows.encode("utf-8")).hexdigest()


def write_csv(path: Path, campaign: Campaign, items: Sequence[Item]) -> str:
    """Write the CSV evidence; its digest."""
    rows = csv_rows(campaign, items)
    digest = digest_of(rows)
    path.write_text(rows + DIGEST_PREFIX + digest + "\n", encoding="utf-8")
    return digest


def verify_csv(text: str) -> bool:
    """Whether a CSV's last line is the digest of the lines above it."""
    body, _, last = text.rstrip("\n").rpartition("\n")
    if not last.startswith(DIGEST_PREFIX):
        return False
    return digest_of(body + "\n") == last.removeprefix(DIGEST_PREFIX)


def _latin(text: str) -> str:
    """Core PDF fonts are Latin-1: anything else is shown as ``?``."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _summary_lines(campaign: Campaign, items: Sequence[Item], digest: str) -> list[str]:
    decided = sum(1 for i in items if i.decision)
    closed = campaign.closed_at.isoformat(timespec="seconds") if campaign.closed_at else "-"
    failed = [i for i in items if i.outcome in FAILED]
    return [
        f"Campaign {campaign.id}: {campaign.name}",
        f"Status: {campaign.status}; due {campaign.due_date or '-'}",
        f"Scope: {', '.join(campaign.connections)} ({len(items)} people x teams)",
        f"Reviewers: {', '.join(campaign.reviewers) or '-'}",
        f"Started {campaign.created_at.isoformat(timespec='seconds')} by {campaign.created_by}",
        f"Closed {closed} by {campaign.closed_by or '-'}; audit entry {campaign.audit_id or '-'}",
        f"Decided: {decided} of {len(items)}; failed or refused: {len(failed)}",
        f"Content digest (SHA-256 of the CSV evidence rows): {digest}",
    ]


def _item_lines(item: Item) -> list[str]:
    roles_after, apps_after = _after(item)
    when = item.decided_at.isoformat(timespec="seconds") if item.decided_at else "-"
    lines = [
        f"{item.connection} | {item.email} ({item.status}) {' '.join(item.flags)}",
        f"    at start: {' '.join(item.roles)}; apps {_apps(item.all_apps_visible, item.apps)}",
        f"    decision: {item.decision or 'none'} by {item.decided_by or '-'} at {when}"
        + (f" - {item.comment}" if item.comment else ""),
    ]
    if item.outcome:
        lines.append(f"    outcome: {item.outcome}; after: {roles_after or '-'} {apps_after}")
        if item.outcome in FAILED:
            lines.append(f"    what failed: {item.outcome_detail or '-'}")
    return lines


def write_pdf(path: Path, campaign: Campaign, items: Sequence[Item]) -> str:
    """Write the PDF evidence report; its digest (the same as the CSV's)."""
    from fpdf import FPDF  # lazy: only PDF reports need fpdf

    digest = digest_of(csv_rows(campaign, items))
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(_latin(f"Access review {campaign.id}: {campaign.name}"))
    pdf.set_creator("asc-access")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _latin("Access review evidence"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for line in _summary_lines(campaign, items, digest):
        pdf.multi_cell(0, 5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Items", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    for item in items:  # cell() per pre-wrapped line: multi_cell is ~50x slower at 10,000 items
        for line in _item_lines(item):
            for part in textwrap.wrap(_latin(line), _WRAP, subsequent_indent="      ") or [""]:
                pdf.cell(0, 4, part, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return digest
