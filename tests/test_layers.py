"""The layers hold: every import of the package points down (docs/INTERNALS.md, "Layers").

Imports are read from the source with ``ast`` (every ``import`` and ``from … import`` statement,
at any depth, including those inside functions), relative ones resolved against the module's
package; nothing is imported or executed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "etamil_server"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute (``from x import y`` counts ``x`` and ``x.y``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def modules_in(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def offending(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    problems = []
    for path in modules_in(folder):
        for imported in sorted(imports_of(path)):
            if any(imported == f or imported.startswith(f + ".") for f in forbidden):
                problems.append(f"{path.relative_to(ROOT)} imports {imported}")
    return problems


ABOVE_BASE = ("etamil_server.lang", "etamil_server.runtime", "etamil_server.host", "etamil_server.web",
              "etamil_server.cli", "etamil_server.families", "etamil_server.repl", "etamil_server.config",
              "workers")


@pytest.mark.parametrize(
    "folder, forbidden",
    [
        ("base", ABOVE_BASE),
        ("lang", ("etamil_server.runtime", "etamil_server.host", "etamil_server.web", "etamil_server.cli",
                  "etamil_server.families", "workers")),
        ("runtime", ("etamil_server.host", "etamil_server.web", "etamil_server.cli", "etamil_server.families",
                     "workers")),
        ("host", ("etamil_server.web", "etamil_server.cli", "etamil_server.families", "workers")),
        ("web", ("etamil_server.lang.syntax", "etamil_server.cli", "workers")),
    ],
)
def test_imports_point_down(folder, forbidden):
    assert offending(folder, forbidden) == []


def test_the_reader_sees_relative_and_nested_imports(tmp_path):
    """The check above can fail: it finds a relative import written inside a function."""
    sample = PACKAGE / "web" / "app.py"
    imported = imports_of(sample)
    assert "etamil_server.lang.shape" in imported  # from ..lang.shape import … at the top
    assert "etamil_server.runtime.compiler.compile_program" in imported
    nested = imports_of(PACKAGE / "cli.py")
    assert "workers.application" in nested  # imported inside _serve
