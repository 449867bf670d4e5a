"""The package's layout: imports point one way, no cycles, short modules.

The folders name the stages of a send (see ARCHITECTURE.md). Each layer may
import the layers below it and its own modules, never one above it; modules
within a layer must not import each other in a cycle. Imports under
``if TYPE_CHECKING:`` are annotations only and do not count; imports inside
functions do, because they run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pandas_cio"

# Bottom to top. A module's layer is the first entry its dotted name starts with.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version", "closing", "errors", "suggest"),
    ("catalogue",),
    # The result vocabulary (statuses, the result frame, the report) sits
    # below preparation because the pure stages already decide statuses.
    ("outcome",),
    ("prepare",),
    ("delivery",),
    ("ledger",),
    ("pipeline",),
    ("testing",),
    ("accessor",),
    ("spark",),
    ("cli",),
    # The package itself assembles the public names; the pytest plugin is
    # pytest's front door and imports the package to register the accessor.
    ("", "__main__", "testing._plugin"),
)

# Declarative tables may run long: they are read as data, not as logic.
TABLES = {"catalogue/_event_table.py"}
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for inner in ast.walk(child):
                    if hasattr(inner, "lineno"):
                        lines.add(inner.lineno)
    return lines


def _imports(path: Path) -> set[str]:
    """Package-relative names of the package modules ``path`` imports at run time."""
    module = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if module == "":
        here = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and (node.module + ".").startswith("pandas_cio."):
                target = node.module.removeprefix("pandas_cio").lstrip(".")
            else:
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}".lstrip(".")
                is_module = (PACKAGE / (candidate.replace(".", "/") + ".py")).exists() or (
                    PACKAGE / candidate.replace(".", "/") / "__init__.py"
                ).exists()
                found.add(candidate if is_module else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.name + ".").startswith("pandas_cio."):
                    found.add(alias.name.removeprefix("pandas_cio").lstrip("."))
    found.discard(module)
    return found


def _layer(module: str) -> int:
    """The layer of the longest entry of LAYERS that names the module or its package."""
    if module == "":
        return len(LAYERS) - 1
    matches = [
        (len(name), index)
        for index, names in enumerate(LAYERS)
        for name in names
        if name and (module == name or module.startswith(name + "."))
    ]
    if not matches:
        raise AssertionError(f"{module!r} is in no layer: add it to LAYERS in {__file__}")
    return max(matches)[1]


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    upward = sorted(
        target for target in GRAPH[module] if target in MODULES and _layer(target) > _layer(module)
    )
    assert not upward, f"pandas_cio.{module} imports a layer above it: {upward}"


def test_no_import_cycles() -> None:
    # Depth-first search for a back edge; reports the first cycle found, in order.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(GRAPH.get(module, ())):
            if target not in MODULES:
                continue
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(MODULES):
        if module not in state and (cycle := visit(module)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_short(module: str) -> None:
    path = MODULES[module]
    relative = path.relative_to(PACKAGE).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if relative in TABLES:
        return
    assert lines <= MAX_LINES, (
        f"pandas_cio/{relative} has {lines} lines (limit {MAX_LINES}): split it by concern, "
        "or, if it is a declarative table, list it in TABLES"
    )


def test_the_layout_test_sees_imports() -> None:
    # The walk must find known edges, or every check above would pass vacuously.
    assert "prepare.plan" in GRAPH["prepare.encoding"]
    assert "delivery.client" in GRAPH["pipeline.send"]
    assert "catalogue.semantic" in GRAPH["catalogue.operations"]
    assert _layer("pipeline.send") > _layer("delivery.client")
    assert _layer("testing._plugin") == len(LAYERS) - 1
