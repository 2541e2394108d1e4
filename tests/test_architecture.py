"""The shape of bot/, adapters/ and storage/: no import cycles between their modules, read from the source.

Imports under `if TYPE_CHECKING:` count too: a type-only back-reference is still a design cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "bot"


def import_graph(root: Path = ROOT, package_name: str = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (a name imported from a package counts as
    its submodule when there is one, else as the package)."""
    paths = {
        ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): p
        for p in (root / package_name).rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
                imported = [base, *(f"{base}.{a.name}" for a in node.names)]
            else:
                continue
            for target in imported:
                while target and target not in paths:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


@pytest.mark.parametrize("package", [PACKAGE, "adapters", "storage"])
def test_no_import_cycles(package: str) -> None:
    found = cycles(import_graph(ROOT, package))
    assert not found, f"import cycles in {package}/:\n" + "\n".join(" <-> ".join(group) for group in found)


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_type_only_and_relative_imports_count(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    for init in (pkg / "__init__.py", pkg / "sub" / "__init__.py"):
        init.write_text("")
    (pkg / "engine.py").write_text("from pkg.sub import daily\n")
    (pkg / "sub" / "daily.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..engine import Engine\n"
    )
    assert cycles(import_graph(tmp_path, "pkg")) == [["pkg.engine", "pkg.sub.daily"]]


def test_capabilities_do_not_import_the_engine() -> None:
    """The engine is where capabilities are registered; a capability reaching back to it is the
    coupling the registration table exists to avoid."""
    graph = import_graph()
    offenders = sorted(m for m, targets in graph.items() if "bot.engine" in targets and m != "bot.app")
    assert offenders == []
