"""The house's layering, checked on the source (every import, including those inside functions).

- `workbench.layers` does not import `workbench.graph` (the graph is built from layers, not the
  other way round);
- only `workbench.gui` imports Qt or pyqtgraph (the core runs headless), and `workbench.bench`,
  whose pieces measure the app itself (only inside the functions that do);
- nothing in the package imports the repository's `benchmarks/` scripts or finds its files
  through `__file__`, so a wheel is as complete as a clone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import workbench

PACKAGE = Path(workbench.__file__).parent
QT_ROOTS = {"PySide6", "shiboken6", "pyqtgraph"}


def imported_modules(path: Path) -> set[str]:
    """Every module name `path` imports, absolute (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def sources(under: str = "") -> list[Path]:
    root = PACKAGE / under if under else PACKAGE
    return sorted(root.rglob("*.py"))


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = PACKAGE / "layers" / "registry.py"
    assert "workbench.errors" in imported_modules(module)
    assert "workbench.layers" in imported_modules(module)  # imported inside _ensure_loaded()


@pytest.mark.parametrize("path", sources("layers"), ids=lambda p: p.name)
def test_layers_do_not_import_the_graph(path: Path) -> None:
    bad = sorted(m for m in imported_modules(path) if m == "workbench.graph" or m.startswith("workbench.graph."))
    assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {bad}"


def test_only_the_gui_imports_qt() -> None:
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(m for m in imported_modules(path) if m.split(".")[0] in QT_ROOTS)
        for path in sources()
        if path.relative_to(PACKAGE).parts[0] not in ("gui", "bench")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_package_does_not_import_the_repository_benchmarks() -> None:
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(m for m in imported_modules(path) if m.split(".")[0] == "benchmarks")
        for path in sources()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_module_finds_files_through_its_own_path() -> None:
    """Package data is read with importlib.resources (workbench.resources), never relative to
    `__file__`, which points outside the package's data in a wheel."""
    offenders = [
        str(path.relative_to(PACKAGE.parent))
        for path in sources()
        if any(isinstance(node, ast.Name) and node.id == "__file__"
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
    ]
    assert offenders == []
