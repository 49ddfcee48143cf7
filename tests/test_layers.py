"""The package's imports point one way: no module imports, at load time or inside a function,
one that imports it back (imports only for type checking do not count)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / "ssoform").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name | ast.Attribute) and "TYPE_CHECKING" in ast.unparse(test)


def _imports(tree: ast.AST, known: dict[str, Path]) -> set[str]:
    names: set[str] = set()
    pending = [tree]
    while pending:
        node = pending.pop()
        if _is_type_checking(node):
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return {name for name in names if name in known}


def _graph() -> dict[str, set[str]]:
    known = _modules()
    graph = {}
    for name, path in known.items():
        graph[name] = _imports(ast.parse(path.read_text(encoding="utf-8")), known) - {name}
    return graph


def _cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path of imports from `start` back to itself, if there is one."""
    trail: dict[str, str] = {}
    pending = [start]
    while pending:
        name = pending.pop()
        for imported in sorted(graph[name]):
            if imported == start:
                path = [name]
                while path[-1] != start:
                    path.append(trail[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if imported not in trail:
                trail[imported] = name
                pending.append(imported)
    return None


def test_no_module_imports_itself_back() -> None:
    graph = _graph()
    cycles = [cycle for name in graph if (cycle := _cycle_through(graph, name)) is not None]
    assert cycles == [], " ; ".join(" -> ".join(cycle) for cycle in cycles)


def test_the_check_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle_through(graph, "a") == ["a", "b", "c", "a"]
    assert _cycle_through(graph, "d") is None
