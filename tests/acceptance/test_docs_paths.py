"""Every file and module the prose names exists.

The README, ARCHITECTURE.md and ZEN_NOTEBOOKS.md point readers at files
(``pandas_cio/prepare/fragments.py``, ``tests/acceptance/test_polars.py``) and
dotted names (``pandas_cio.ledger.MirrorLedger``); a move or a rename that
leaves them behind sends a reader nowhere.
"""

from __future__ import annotations

import enum
import importlib
import re

import pytest
from paths import REPO

DOCS = ("README.md", "ARCHITECTURE.md", "ZEN_NOTEBOOKS.md")
FILE = re.compile(r"\b((?:pandas_cio|tests|benchmarks|notebooks)/[\w/.*-]+\.(?:py|ipynb|md|json))")
DOTTED = re.compile(r"\bpandas_cio(?:\.[A-Za-z_]\w*)+")


def _mentions(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        path = REPO / doc
        if path.exists():
            found += [
                (doc, m.group(1) if m.groups() else m.group(0))
                for m in pattern.finditer(path.read_text(encoding="utf-8"))
            ]
    return sorted(set(found))


@pytest.mark.parametrize(("doc", "name"), _mentions(FILE))
def test_named_files_exist(doc: str, name: str) -> None:
    assert list(REPO.glob(name)), f"{doc} names {name}, which does not exist"


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    # The longest importable module prefix, then attributes the rest names.
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                # A dataclass field with a default factory, or an attribute
                # every enum member has, is named on the class in docs.
                fields = getattr(target, "__dataclass_fields__", {})
                members = list(target) if isinstance(target, enum.EnumMeta) else []
                return attribute in fields or any(hasattr(m, attribute) for m in members)
            target = getattr(target, attribute)
        return True
    return False


@pytest.mark.parametrize(("doc", "name"), _mentions(DOTTED))
def test_named_modules_exist(doc: str, name: str) -> None:
    # pandas_cio.spark imports pyspark, which the README names without needing.
    if name.startswith("pandas_cio.spark"):
        pytest.importorskip("pyspark")
    assert _resolves(name.rstrip(".")), f"{doc} names {name}, which does not resolve"


def _package_mentions() -> list[tuple[str, str]]:
    found = set()
    for path in sorted((REPO / "pandas_cio").rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        found |= {(relative, m.group(0)) for m in DOTTED.finditer(path.read_text("utf-8"))}
    return sorted(found)


@pytest.mark.parametrize(("source", "name"), _package_mentions())
def test_names_in_the_package_resolve(source: str, name: str) -> None:
    """Docstrings and comments name modules and functions that exist (moves leave none behind)."""
    if name.startswith("pandas_cio.spark"):
        pytest.importorskip("pyspark")
    assert _resolves(name.rstrip(".")), f"{source} names {name}, which does not resolve"
