"""The package layout: one direction of imports between the project's packages (no
package imports another that imports it back, directly or through others), read from
the source with `ast`, so that a new import that closes a cycle fails here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "extract", "classify", "stories", "archive", "pipeline", "alerts",
            "crawler", "scheduler", "web", "backchannel")


def imported_packages(path: Path) -> set[str]:
    """The project packages a module imports, anywhere in it (function bodies too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names
                     if name.split(".")[0] in PACKAGES)
    return found


def package_graph() -> dict[str, dict[str, list[str]]]:
    """package → imported package → the modules that import it."""
    graph: dict[str, dict[str, list[str]]] = {name: {} for name in PACKAGES}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for other in imported_packages(path) - {package}:
                graph[package].setdefault(other, []).append(str(path.relative_to(ROOT)))
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Every strongly connected group of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_every_package_exists() -> None:
    assert [p for p in PACKAGES if not (ROOT / p / "__init__.py").is_file()] == []


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph()
    found = cycles(graph)
    detail = [
        f"{a} → {b} ({', '.join(graph[a][b][:3])})"
        for group in found for a in group for b in graph[a] if b in group
    ]
    assert found == [], "imports close a cycle between packages:\n" + "\n".join(detail)


def test_the_cycle_reader_sees_a_cycle(tmp_path: Path) -> None:
    graph = {"a": {"b": ["a/x.py"]}, "b": {"c": ["b/y.py"]}, "c": {"a": ["c/z.py"]},
             "d": {"a": ["d/w.py"]}}
    assert cycles(graph) == [["a", "b", "c"]]
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from archive.db import connect\nimport crawler.items\n")
    assert imported_packages(module) == {"archive", "crawler"}
