"""Every example in the package's docstrings runs and prints what it shows.

The docstrings are where ``help()`` and IDEs send users first; an example
that no longer works teaches the wrong thing. Spark's examples are marked
``+SKIP`` (they need a cluster's tables); the rest run here, against dry runs
or the fake.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pandas_cio

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(pandas_cio.__path__, "pandas_cio.")
    if not info.name.startswith("pandas_cio.spark") and not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures: list[str] = []
    for test in finder.find(module, name):
        runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)


def test_the_doctests_are_found() -> None:
    # A finder that found nothing would make every case above pass vacuously.
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = sum(
        len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name))
    )
    assert found >= 100
