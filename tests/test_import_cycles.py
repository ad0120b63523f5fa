"""No two modules of one package of cofail import each other, directly or round a circle.

Every ``import`` and ``from`` counts, function-local and ``TYPE_CHECKING`` ones too: a circle
hidden inside a function still means neither module can be changed or read without the other.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def _name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in (SRC / "cofail").rglob("*.py")}


def _package(module: str) -> str:
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _targets(module: str) -> set[str]:
    """The modules of cofail that ``module`` imports (``from a import b`` is ``a.b`` when that
    is a module, else ``a``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, or level - 1 packages above it
                package = _package(module).rsplit(".", node.level - 1)[0]
                base = f"{package}.{base}" if base else package
            found.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            )
    return {t for t in found if t in MODULES and t != module}


def test_no_package_has_an_import_cycle() -> None:
    cycles = []
    for package in sorted({_package(m) for m in MODULES}):
        inside = [m for m in MODULES if _package(m) == package]
        graph = {m: {t for t in _targets(m) if _package(t) == package} for m in inside}
        try:
            TopologicalSorter(graph).prepare()
        except CycleError as error:
            cycles.append(" -> ".join(error.args[1]))
    assert cycles == []


def test_the_walk_sees_function_local_imports() -> None:
    """The check would pass on anything if it missed the imports inside functions."""
    assert "cofail.probability._inclusion" in _targets("cofail.probability._exact")
    assert "cofail.report.rater_section" in _targets("cofail.report.matrix_report")
