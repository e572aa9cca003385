"""Human output for the doctor: a troubleshooting page, not a stack trace."""

from __future__ import annotations

import re

from rich.console import Console
from rich.markup import escape

from asc_access.catalogue import CAUSES
from asc_access.diagnosis.findings import Finding
from asc_access.diagnosis.report import CAPABILITIES, DoctorReport
from asc_access.diagnosis.verdicts import signed_seconds

__all__ = ["render_finding", "render_report", "rich_text"]

_MARK = {"pass": "[green]✓[/]", "fail": "[red]✗[/]", "warn": "[yellow]![/]", "skip": "[dim]-[/]"}
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_SURE = {
    "certain": "certain: the evidence above proves it",
    "likely": "likely: Apple's answer cannot prove it; this is the best reading of the evidence",
}


def rich_text(text: str) -> str:
    """Escape ``text`` for rich and turn the table's ``**bold**`` and ```code``` into styles."""
    safe = escape(text)
    safe = _BOLD.sub(r"[bold]\1[/bold]", safe)
    return _CODE.sub(r"[cyan]\1[/cyan]", safe)


def render_finding(finding: Finding, console: Console, *, number: int | None = None) -> None:
    """Print one finding: what happened, evidence, suspects, steps, certainty."""
    label = " · ".join(p for p in (finding.code, finding.cause, finding.certainty) if p)
    prefix = f"{number}. " if number is not None else ""
    console.print(f"[bold red]✗ {prefix}{escape(label)}[/]")
    console.print(f"  [bold]{rich_text(finding.title)}[/]")
    meaning = CAUSES[finding.cause].meaning if finding.cause in CAUSES else None
    if meaning:
        console.print("\n  [bold]What happened[/]")
        console.print(f"    {rich_text(meaning)}")
    if finding.evidence:
        console.print("\n  [bold]Evidence[/]")
        console.print(f"    {rich_text(finding.evidence)}")
    if finding.suspects:
        console.print("\n  [bold]Suspects, most likely first[/]")
        for n, suspect in enumerate(finding.suspects, 1):
            console.print(f"    {n}. {rich_text(suspect)}")
    if finding.resolution:
        console.print("\n  [bold]How to fix it[/]")
        for n, step in enumerate(finding.resolution, 1):
            console.print(f"    {n}. {rich_text(step)}")
    console.print("\n  [bold]How sure we are[/]")
    rule = CAUSES[finding.cause].certainty_rule if finding.cause in CAUSES else None
    console.print(f"    {rich_text(rule) if rule else escape(_SURE[finding.certainty])}")


def render_report(report: DoctorReport, console: Console) -> None:
    """Print the whole report."""
    subject = report.connection or (f"key {report.key_id}" if report.key_id else "credentials")
    where = f" at {report.api_url}" if report.api_url else ""
    console.print(f"[bold]asc-access doctor[/]: {escape(subject)}{escape(where)}\n")
    if report.usage_error:
        console.print(f"[bold red]✗ Missing input[/]: {escape(report.usage_error)}\n")
    if report.ok:
        console.print(
            f"[bold green]✓ All good[/]: Apple accepts this {escape(report.key_type or '')} key "
            "and it can do everything asc-access needs."
        )
        warnings = [c for c in report.checks if c.status == "warn"]
        for check in warnings:
            console.print(f"  [yellow]! warning[/] ({check.id}): {escape(check.detail)}")
        console.print()
    many = len(report.findings) > 1
    for n, finding in enumerate(report.findings, 1):
        render_finding(finding, console, number=n if many else None)
        console.print()
    console.print("[bold]Checks[/]")
    width = max((len(c.id) for c in report.checks), default=10)
    for check in report.checks:
        console.print(f"  {_MARK[check.status]} {check.id:<{width}}  {escape(check.detail)}")
    caps = "  ".join(f"{name} {_flag(report.capabilities.get(name))}" for name in CAPABILITIES)
    console.print(f"\n[bold]Capabilities[/]: {caps}")
    skew = report.clock_skew_seconds
    clock = "unknown" if skew is None else f"{signed_seconds(skew)} against Apple's clock"
    rate = report.rate_limit
    budget = (
        f"{rate.remaining} of {rate.limit} requests left this hour"
        if rate and rate.remaining is not None
        else "unknown"
    )
    console.print(f"[bold]Clock[/]: {clock}   [bold]Rate limit[/]: {budget}")


def _flag(value: bool | None) -> str:
    if value is None:
        return "[dim]?[/]"
    return "[green]yes[/]" if value else "[red]no[/]"
