"""The engine's import graph has no cycle — function-level imports included (issue 10).

A cycle hidden inside a function works until someone moves the import to the top of the
module; this test reads every module of ``engine/`` with ``ast`` and follows every import,
wherever it is written.
"""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _engine_target(name: str, modules: set) -> str | None:
    """The engine module that importing ``name`` loads (the longest known prefix)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph() -> nx.DiGraph:
    files = sorted(ENGINE.rglob("*.py"))
    modules = {_module_name(path) for path in files}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for path in files:
        importer = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):  # every import, at module level or inside a function
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(importer, path.name == "__init__.py", node)
                # ``from . import x`` / ``from .pkg import mod`` may name a submodule
                names = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for name in names:
                target = _engine_target(name, modules)
                if target and target != importer and not importer.startswith(target + "."):
                    graph.add_edge(importer, target)
    return graph


def test_the_graph_sees_function_level_imports():
    # batch imports the model loader only inside its worker initialiser
    assert import_graph().has_edge("engine.batch", "engine.model")


def test_every_relative_import_names_a_module_that_exists():
    # a function-level import runs only when called: a module moved without its imports fails late
    missing = []
    for path in sorted(ENGINE.rglob("*.py")):
        importer = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = _resolve(importer, path.name == "__init__.py", node)
                if base not in _MODULES:
                    missing.append(f"{importer}:{node.lineno} imports from {base}")
    assert missing == []


def test_engine_has_no_import_cycle():
    cycles = [" → ".join(cycle + cycle[:1]) for cycle in nx.simple_cycles(import_graph())]
    assert cycles == [], "import cycles: " + "; ".join(sorted(cycles)[:10])


def test_the_inputs_package_module_imports_nothing():
    # importing engine.inputs.coerce runs engine/inputs/__init__.py first: were it to import the readers,
    # engine.assessment (below the readers, above coerce) would import itself through them
    tree = ast.parse((ENGINE / "inputs" / "__init__.py").read_text(encoding="utf-8"))
    assert [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))] == []


def test_no_module_reaches_into_another_modules_private_names():
    reaches = []
    for path in sorted(ENGINE.rglob("*.py")):
        importer = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules_named = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                         and (node.level or (node.module or "").startswith("engine")) for alias in node.names
                         if _engine_target(f"{_resolve(importer, path.name == '__init__.py', node)}.{alias.name}",
                                           _MODULES) not in (None, "engine")}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("engine")):
                reaches += [f"{importer}:{node.lineno} imports {alias.name}" for alias in node.names
                            if alias.name.startswith("_") and not alias.name.startswith("__")]
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in modules_named):
                reaches.append(f"{importer}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert reaches == []


_MODULES = {_module_name(path) for path in ENGINE.rglob("*.py")}


def test_the_supported_python_range_is_pyprojects_requires_python():
    # one source (issue 10): the runtime check reads pyproject's requires-python, and so does the Makefile
    import re

    from engine import inference
    from engine.python_range import describe, supported_range
    spec = re.search(r'^requires-python\s*=\s*"([^"]*)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"),
                     re.M).group(1)
    lower = tuple(int(part) for part in re.search(r">=\s*(\d+)\.(\d+)", spec).groups())
    below = tuple(int(part) for part in re.search(r"<\s*(\d+)\.(\d+)", spec).groups())
    assert inference.SUPPORTED_PYTHON == supported_range() == (lower, (below[0], below[1] - 1))
    assert describe(">=3.11,<3.13") == "3.11 or 3.12" and describe(">=3.9,<3.13") == "3.9 to 3.12"
    assert "engine/python_range.py --check" in (ROOT / "Makefile").read_text(encoding="utf-8")
