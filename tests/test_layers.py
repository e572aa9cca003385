"""The layering rules, enforced by walking every import in ``src/asc_access``.

- The sandbox imports nothing from the product; the product imports the sandbox
  only inside the CLI functions that start it (``sandbox``, ``demo``).
- Layers import downward only; ``api`` and ``store`` never import each other;
  ``sync`` and ``actions`` declare protocols instead of importing ``api``.
- httpx is touched only by the transport (and the sandbox, which plays Apple).
- SQLAlchemy is touched only by the store: everyone else holds its handle
  (``store.handle.Database``) and calls named store functions.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "asc_access"

#: Which top-level parts of the package each part may import (besides itself).
LOWER = {"errors", "ids", "catalogue", "redaction", "metrics", "version"}
LAYER1 = LOWER | {"config", "credentials", "models", "diagnosis", "vault"}
ALLOWED: dict[str, set[str]] = {
    # The error classes read their default code and cause from the catalogue's table.
    "errors": {"catalogue"},
    "ids": set(),
    "catalogue": set(),
    "redaction": set(),
    "metrics": set(),
    "version": set(),
    "config": LOWER,
    "urlpolicy": LOWER | {"config"},
    "models": LOWER,
    "vault": LOWER | {"config"},
    "credentials": LOWER | {"models"},
    "diagnosis": LAYER1,
    "api": LAYER1 - {"diagnosis"},
    "store": LAYER1 - {"diagnosis"},
    "sync": LAYER1 | {"store"},
    "actions": LAYER1 | {"store"},
    # The doctor's online probes drive the API client.
    "doctor": LAYER1 | {"api"},
    # Campaigns remediate through the actions engine; policies read the store.
    "governance": LAYER1 | {"store", "actions"},
    # What the shells share about scale-out (settings, dispatch by task name, locks, health).
    "queue": LAYER1 | {"store"},
}
TOP_LEVEL = {
    "cli",
    "service",
    "workers",
    "runtime",
    "connection_rules",
    "syncs",
    "clients",
    "__init__",
}
SANDBOX_STARTERS = {"asc_access.cli.sandbox_cmd", "asc_access.cli.sync_cmd"}
HTTPX_ALLOWED = {"asc_access.api.transport"}
SQL_PART = "store"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports
    in_function: bool


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports() -> list[Import]:
    found: list[Import] = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.update(id(child) for child in ast.walk(node) if child is not node)
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path.name == "__init__.py", node)
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            found.extend(Import(module, t, id(node) in functions) for t in targets)
    return found


IMPORTS = _imports()


def _part(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_walk_sees_the_package() -> None:
    modules = {i.module for i in IMPORTS}
    assert {"asc_access.errors", "asc_access.models", "asc_access.cli.main"} <= modules
    assert len(IMPORTS) > 20


def test_sandbox_imports_nothing_from_the_product() -> None:
    bad = [
        i
        for i in IMPORTS
        if _part(i.module) == "sandbox"
        and i.target.startswith("asc_access")
        and _part(i.target) != "sandbox"
    ]
    assert bad == []


def test_product_imports_sandbox_only_where_it_starts_it() -> None:
    bad = [
        i
        for i in IMPORTS
        if _part(i.module) != "sandbox"
        and i.target.startswith("asc_access.sandbox")
        and not (i.module in SANDBOX_STARTERS and i.in_function)
    ]
    assert bad == []


def test_layers_import_downward_only() -> None:
    bad = []
    for i in IMPORTS:
        if not i.target.startswith("asc_access.") or i.target == "asc_access":
            continue
        src, dst = _part(i.module), _part(i.target)
        if src == dst or src in TOP_LEVEL or src == "sandbox":
            continue
        allowed = ALLOWED.get(src)
        if allowed is None:
            bad.append((i.module, i.target, "unknown part: add it to the layer table"))
            continue
        if dst not in allowed:
            bad.append((i.module, i.target))
    assert bad == []


def test_httpx_only_in_transport() -> None:
    bad = [
        i
        for i in IMPORTS
        if i.target.split(".")[0] == "httpx"
        and _part(i.module) != "sandbox"
        and i.module not in HTTPX_ALLOWED
    ]
    assert bad == []


def test_sqlalchemy_only_in_store() -> None:
    bad = sorted(
        {
            i.module
            for i in IMPORTS
            if i.target.split(".")[0] == "sqlalchemy" and _part(i.module) != SQL_PART
        }
    )
    assert bad == [], "SQLAlchemy imported outside asc_access.store by: " + ", ".join(bad)


@pytest.mark.parametrize(
    ("module", "target", "expected"),
    [("asc_access.sync.engine", "asc_access.api.client", False)],
)
def test_the_layer_table_itself_can_fail(module: str, target: str, expected: bool) -> None:
    src, dst = _part(module), _part(target)
    assert (dst in ALLOWED[src]) is expected


# -- shells and cycles ---------------------------------------------------------------------

#: The shells: each is started on its own and reaches the others only by name
#: (Celery's task names and app import string, uvicorn's factory import string).
SHELLS = {"cli", "service", "workers"}


def test_no_shell_imports_another_shell() -> None:
    bad = [
        (i.module, i.target)
        for i in IMPORTS
        if i.target.startswith("asc_access.")
        and _part(i.module) in SHELLS
        and _part(i.target) in SHELLS
        and _part(i.target) != _part(i.module)
    ]
    assert bad == []


def _module_graph() -> dict[str, set[str]]:
    """Module → the modules it imports, at module level or inside functions alike.

    ``from package import name`` points at ``package.name`` when that is a module,
    else at the package (whose ``__init__`` runs).
    """
    files = {_module_name(path): path for path in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {module: set() for module in files}
    for module, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path.name == "__init__.py", node)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names
                ]
            else:
                continue
            for name in targets:
                target = name
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    cycles = _cycles(_module_graph())
    assert cycles == [], "import cycles (in-function imports count too)"


def test_the_cycle_finder_itself_can_fail() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [("a", "b", "c")]
    assert _cycles({"a": {"b"}, "b": set()}) == []
