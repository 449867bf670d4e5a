"""The README's errors table lists every exception the library exports, with its true bases.

Before: the table left out ``QualityGateError`` and ``MirrorGuardError``, and
nothing noticed.
"""

from __future__ import annotations

import builtins
import re

from paths import REPO

import pandas_cio

README = REPO / "README.md"
NAME = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


def errors_table() -> dict[str, list[str]]:
    """The table of README section "Errors": each error with its base classes."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n### Errors\n", 1)[1].split("\n#", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) < 2:
            continue
        (error,) = NAME.findall(cells[0])
        rows[error] = NAME.findall(cells[1])
    return rows


def exported_errors() -> dict[str, type[BaseException]]:
    """Every exception class in ``pandas_cio.__all__``."""
    found = {}
    for name in pandas_cio.__all__:
        value = getattr(pandas_cio, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            found[name] = value
    return found


def test_the_table_is_found() -> None:
    """The parser reads the table (a guard against the checks below passing on nothing)."""
    table = errors_table()
    assert len(table) >= 15
    assert table["ColumnError"] == ["CioError", "ValueError"]


def test_every_exported_error_is_in_the_table() -> None:
    """Each CioError subclass the package exports has its row, or is a listed base of one."""
    table = errors_table()
    bases = {base for listed in table.values() for base in listed}
    errors = exported_errors()
    assert issubclass(errors["UnknownArgumentError"], pandas_cio.CioError)
    assert all(issubclass(kind, pandas_cio.CioError) for kind in errors.values())
    missing = [name for name in errors if name not in table and name not in bases]
    assert not missing, f"README's errors table leaves out {missing}"
    # Only the two bases may go without a row of their own: neither is raised itself.
    assert [name for name in errors if name not in table] == ["CioError", "SendError"]


def test_every_row_gives_the_classes_true_bases() -> None:
    """A library error's row names exactly its direct base classes, in order."""
    errors = exported_errors()
    for name, listed in errors_table().items():
        kind = errors.get(name)
        if kind is None:
            assert isinstance(getattr(builtins, name, None), type), name
            continue
        assert listed == [base.__name__ for base in kind.__bases__], name


def test_every_library_error_in_the_table_is_exported() -> None:
    """No row names an error the package does not export (a renamed or removed class)."""
    builtin = set(dir(builtins))
    stale = [
        name for name in errors_table() if name not in builtin and name not in exported_errors()
    ]
    assert not stale
