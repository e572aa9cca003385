"""Imports inside functions are lazy on purpose, and each one says why.

A function-level import is allowed only where start-up time (or an optional
extra) needs it, and it carries a one-line reason: a ``# lazy: <reason>``
comment on the import's own line, or on the line just above a block of
consecutive imports. Anything else belongs at the top of the module.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "asc_access"
MARK = "# lazy:"


def _comments(source: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string
    return found


def _has_reason(comment: str | None) -> bool:
    return comment is not None and comment.startswith(MARK) and len(comment) > len(MARK) + 3


def unexplained_lazy_imports(source: str) -> list[int]:
    """Line numbers of function-level imports with no ``# lazy: reason``."""
    tree = ast.parse(source)
    comments = _comments(source)
    bad: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        body_imports = [
            child
            for child in ast.walk(node)
            if isinstance(child, ast.Import | ast.ImportFrom) and child is not node
        ]
        lines = {child.lineno for child in body_imports}
        for child in body_imports:
            first = child.lineno
            while first - 1 in lines:  # the head of a block of consecutive imports
                first -= 1
            if not (
                _has_reason(comments.get(child.lineno)) or _has_reason(comments.get(first - 1))
            ):
                bad.append(child.lineno)
    return sorted(set(bad))


def test_every_lazy_import_gives_its_reason() -> None:
    bad = [
        f"{path.relative_to(SRC.parent)}:{line}"
        for path in sorted(SRC.rglob("*.py"))
        for line in unexplained_lazy_imports(path.read_text(encoding="utf-8"))
    ]
    assert bad == [], "function-level imports without '# lazy: <reason>'"


def test_the_check_itself_can_fail() -> None:
    source = (
        "def f():\n"
        "    import json\n"
        "def g():\n"
        "    # lazy: the store costs 0.25 s at start-up\n"
        "    import sqlite3\n"
        "    import csv\n"
        "def h():\n"
        "    import zlib  # lazy: only the export compresses\n"
    )
    assert unexplained_lazy_imports(source) == [2]
