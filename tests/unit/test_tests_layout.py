"""The tests' own layout: unit tests mirror the package, behaviours sit in acceptance.

A unit test of ``pandas_cio/<folder>/...`` lives in ``tests/unit/<folder>/``,
so the tests of a module are found where the module is; tests of the package
as a whole (its layout, its imports) sit in ``tests/unit/`` itself, as the
package root's own modules sit in ``pandas_cio/``. Tests of behaviours that
cross stages live in ``tests/acceptance/``. Basenames are unique across the
tree, so that a failure's file name says which test it is, and so that pytest's
default import mode never meets two modules of one name.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from paths import REPO, TESTS

PACKAGE = REPO / "pandas_cio"
UNIT = TESTS / "unit"
ACCEPTANCE = TESTS / "acceptance"

TEST_FILES = sorted(TESTS.rglob("test_*.py"))


def _misplaced(path: Path) -> str | None:
    """Why ``path`` is in the wrong place, or None when it is where it belongs."""
    if path.is_relative_to(ACCEPTANCE):
        return None if path.parent == ACCEPTANCE else "acceptance tests sit in one flat folder"
    if not path.is_relative_to(UNIT):
        return "a test file belongs under tests/unit/<package folder>/ or tests/acceptance/"
    folder = path.parent.relative_to(UNIT)
    if not (PACKAGE / folder / "__init__.py").is_file():
        name = folder.as_posix()
        return f"tests/unit/{name}/ mirrors no package folder pandas_cio/{name}/"
    return None


def test_the_walk_sees_the_tests() -> None:
    # Every check below would pass on an empty list.
    assert Path(__file__).resolve() in [path.resolve() for path in TEST_FILES]
    assert any(path.is_relative_to(ACCEPTANCE) for path in TEST_FILES)
    assert any(path.parent != UNIT and path.is_relative_to(UNIT) for path in TEST_FILES)


def test_every_test_file_mirrors_a_package_folder_or_is_an_acceptance_test() -> None:
    wrong = {
        path.relative_to(REPO).as_posix(): reason
        for path in TEST_FILES
        if (reason := _misplaced(path)) is not None
    }
    assert not wrong, wrong


def test_test_basenames_are_unique() -> None:
    counts = Counter(path.name for path in TEST_FILES)
    repeated = {
        name: sorted(p.relative_to(REPO).as_posix() for p in TEST_FILES if p.name == name)
        for name, count in counts.items()
        if count > 1
    }
    assert not repeated, repeated


def test_the_check_refuses_a_folder_the_package_lacks() -> None:
    assert _misplaced(UNIT / "nowhere" / "test_x.py") is not None
    assert _misplaced(TESTS / "test_x.py") is not None
    assert _misplaced(ACCEPTANCE / "deeper" / "test_x.py") is not None
    assert _misplaced(UNIT / "ledger" / "test_x.py") is None
