"""The result frame's column names are spelled once, in ``pandas_cio.outcome.columns``.

Every other module imports them. The walk looks for the spellings a copy of
them takes: a result column read or written on a frame (``result["status"]``,
``result.loc[rows, "error"]``), asked of a frame (``"batch" in
result.columns``), or listed beside another result column (a tuple of names,
a dict of dtypes). The same words with other meanings (the ``message_id=``
role, an HTTP fault's ``kind="status"``, a JSON ``"error"`` key) are none of
those, so they need no exception.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pandas_cio.outcome.columns import MIRROR_COLUMNS, RESULT_COLUMNS
from pandas_cio.outcome.results import RESULT_DTYPES, ResultBuilder
from tests.paths import REPO

PACKAGE = REPO / "pandas_cio"
OWNER = "outcome/columns.py"
NAMES = frozenset(RESULT_COLUMNS) | frozenset(MIRROR_COLUMNS)

# Modules that spell one of these names for something that is not a result
# column, with why.
ALLOWED = {
    # The ledger's own table has message_id and key columns (ledger/schema.py),
    # which keys() returns as a frame; they are the store's, not the result's.
    "ledger/store.py",
}


def _names(node: ast.AST) -> list[str]:
    """The result column names a node spells: itself, or the items of a display."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [
        item.value
        for item in items
        if isinstance(item, ast.Constant) and isinstance(item.value, str) and item.value in NAMES
    ]


def _spellings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            typing = isinstance(node.value, ast.Name) and node.value.id == "Literal"
            index = node.slice
            parts = index.elts if isinstance(index, ast.Tuple) else [index]
            if not typing:
                for part in parts:
                    yield from ((node.lineno, name) for name in _names(part))
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, ast.In | ast.NotIn) for op in node.ops
        ):
            right = node.comparators[-1]
            if isinstance(right, ast.Attribute) and right.attr == "columns":
                yield from ((node.lineno, name) for name in _names(node.left))
        elif isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
            items = node.keys if isinstance(node, ast.Dict) else node.elts
            found = {
                item.value
                for item in items
                if isinstance(item, ast.Constant) and item.value in RESULT_COLUMNS
            }
            if len(found) >= 2:
                yield from ((node.lineno, name) for name in sorted(found))


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), path


def test_no_module_but_the_owner_spells_a_result_column() -> None:
    found = [
        f"pandas_cio/{relative}:{line}: {name!r}"
        for relative, path in _modules()
        if relative != OWNER and relative not in ALLOWED
        for line, name in _spellings(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, "import the name from pandas_cio.outcome.columns instead:\n" + "\n".join(
        found
    )


def test_the_walk_sees_the_spellings_it_looks_for() -> None:
    # Each form once, so that the check above cannot pass vacuously.
    source = (
        'result["status"]\n'
        'result.loc[rows, ["batch", "x"]]\n'
        '"error" in result.columns\n'
        'DTYPES = {"message_id": "string", "attempts": "int64"}\n'
        'kind: Literal["status", "reset"]\n'
        'Role("message_id")\n'
    )
    lines = sorted({line for line, _ in _spellings(ast.parse(source))})
    assert lines == [1, 2, 3, 4]
    assert sorted(ALLOWED) == sorted(r for r, _ in _modules() if r in ALLOWED)


def test_the_result_has_the_named_columns_and_dtypes() -> None:
    result = ResultBuilder(pd.RangeIndex(2), "identify").build()
    assert tuple(result.columns) == RESULT_COLUMNS
    assert {c: str(result[c].dtype) for c in RESULT_COLUMNS} == {
        c: str(pd.api.types.pandas_dtype(d)) for c, d in RESULT_DTYPES.items()
    }
