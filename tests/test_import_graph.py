"""The import graph of `pipeline/`: no cycles, and inference (`pipeline.slm`) never imports
training. Read from the source with `ast`, so an import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "pipeline").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

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
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return components


def test_pipeline_has_no_import_cycles() -> None:
    graph = _graph()
    assert "pipeline.slm.runtime" in graph and graph["pipeline.slm.factory"]
    assert _cycles(graph) == []


def test_inference_never_imports_training() -> None:
    graph = _graph()
    reached = {(a, b) for a, targets in graph.items() for b in targets
               if a.startswith("pipeline.slm") and b.startswith("pipeline.training")}
    assert reached == set()


def test_the_serving_path_never_reaches_training() -> None:
    """What a worker or the API process loads (processing, the REST API, storage) reaches no
    training module, by any chain of imports."""
    graph = _graph()
    roots = ["pipeline.process", "pipeline.api", "pipeline.storage"]
    seen: set[str] = set()
    todo = [r for r in roots if r in graph]
    assert len(todo) == len(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += graph[name]
    assert "pipeline.extract" in seen and "pipeline.slm.runtime" in seen
    assert sorted(m for m in seen if m.startswith("pipeline.training")) == []
