"""``docs/errors.md``, generated from the diagnosis table.

Run ``python -m asc_access.diagnosis.docs > docs/errors.md`` after changing
the catalogue (:mod:`asc_access.catalogue`); a test fails while the file and
the table differ.
"""

from __future__ import annotations

import sys

from asc_access.catalogue import APPLE_CODES, CAUSES, CODE_CAUSES, CODES, EXIT_STATUS, fill

__all__ = ["render_markdown"]

_DOC_FACTS = {
    "message": "<the failing check's message, naming where the value came from>",
    "detail": "<what was sent, what came back, and Apple's request id>",
    "request": "<METHOD /path (request id)>",
    "context": "<what the local checks and the other token shape showed>",
    "request_id": "<REQUEST_ID>",
    "corrected": "<whether a token dated by Apple's clock was accepted>",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _summary() -> list[str]:
    out = [
        "# Error catalogue",
        "",
        "<!-- Generated from src/asc_access/catalogue/ (the one table) by",
        "     `python -m asc_access.diagnosis.docs > docs/errors.md`. Do not edit by hand:",
        "     tests/connect/test_diagnosis_table.py fails while file and table differ. -->",
        "",
        (
            "Every failure asc-access can explain becomes a *finding*: a stable `code` and "
            "`cause`, a `certainty` (`certain` when local evidence proves it, `likely` when "
            "Apple's answer cannot tell the reasons apart), a one-line title, the evidence, and "
            "numbered steps in App Store Connect's own menu names. `asc-access doctor --json` "
            "prints them; the exit status of a command is the code's number (101–107), 0 on "
            "success, 2 for a usage error and 1 for anything else."
        ),
        "",
        "| code | exit | meaning | causes |",
        "|---|---|---|---|",
    ]
    for code, meaning in CODES.items():
        causes = ", ".join(f"[`{c}`](#{c})" for c in CODE_CAUSES[code])
        out.append(f"| {code} | {EXIT_STATUS[code]} | {_cell(meaning)} | {causes} |")
    return out


def _cause_section(cause: str) -> list[str]:
    item = CAUSES[cause]
    out = [
        f'<a id="{cause}"></a>',
        f"### `{cause}`: {item.title}",
        "",
        item.meaning,
        "",
        f"**How sure:** {item.certainty_rule}",
        "",
        f"**Evidence shown:** {fill(item.evidence, _DOC_FACTS)}",
        "",
        "**What to do:**",
        "",
    ]
    out += [f"{n}. {fill(step, _DOC_FACTS)}" for n, step in enumerate(item.resolution, 1)]
    out.append("")
    return out


def _apple_codes() -> list[str]:
    out = [
        "## Apple's error codes",
        "",
        (
            "Apple's answers are matched by HTTP status and by the dotted hierarchy of the "
            "`code` in its error document (the longest known prefix wins; `(any)` is the "
            "fallback for a status). Errors outside the catalogue (the request itself was "
            "refused) are explained with the title and meaning below."
        ),
        "",
        "| HTTP | Apple code | title | meaning | cause | client |",
        "|---|---|---|---|---|---|",
    ]
    for known in APPLE_CODES:
        code_text = f"`{known.code}`" if known.code else "(any)"
        cause = f"`{known.cause}`" if known.cause else "—"
        out.append(
            f"| {known.status} | {code_text} | {_cell(known.title)} | {_cell(known.meaning)} "
            f"| {cause} | {known.action} |"
        )
    out.append("")
    return out


def render_markdown() -> str:
    """The whole of ``docs/errors.md``."""
    out = _summary()
    for code, meaning in CODES.items():
        out += ["", f"## {code}: {meaning}", ""]
        for cause in CODE_CAUSES[code]:
            out += _cause_section(cause)
    return "\n".join(out + _apple_codes())


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(render_markdown())
