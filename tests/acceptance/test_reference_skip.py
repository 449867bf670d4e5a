"""In a plain clone the reference-conformance tests skip with one line saying why and how to run.

The reference spec lives outside the repository (``../shared/reference`` in
CI). These tests copy the conformance tests and conftest.py into a fresh folder
with nothing beside it, as a clone on a laptop is, and run pytest there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from paths import REPO as ROOT
from paths import TESTS

# What a plain clone runs, copied to where the suite keeps it.
COPIED = (
    "conftest.py",
    "paths.py",
    "reference.py",
    "acceptance/test_reference_conformance.py",
    "unit/catalogue/test_events_catalogue.py",
)


def _plain_clone(tmp_path: Path) -> Path:
    tests = tmp_path / "clone" / "tests"
    tests.mkdir(parents=True)
    for name in COPIED:
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(TESTS / name, tests / name)
    return tests.parent


def _pytest(clone: Path, *extra: str, reference: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PANDAS_CIO_REFERENCE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    if reference is not None:
        env["PANDAS_CIO_REFERENCE"] = reference
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *extra],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout + done.stderr


def test_a_plain_clone_skips_the_reference_tests_in_one_line(tmp_path: Path) -> None:
    """One SKIPPED line for all of them, naming the file, the folder and the variable."""
    clone = _plain_clone(tmp_path)
    output = _pytest(
        clone,
        "tests/acceptance/test_reference_conformance.py",
        "tests/unit/catalogue/test_events_catalogue.py",
    )
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, output
    (line,) = skipped
    assert re.match(r"SKIPPED \[\d+\] tests/conftest\.py:\d+: needs ", line), line
    assert "../shared/reference/cio_pipelines_api.json" in line
    assert "the public Customer.io spec" in line
    assert "set PANDAS_CIO_REFERENCE=DIR" in line
    assert str(tmp_path) not in line  # no absolute path outside the repository
    assert re.search(r"\d+ passed", output), "the tests that need no reference still run"


def test_the_variable_runs_them(tmp_path: Path) -> None:
    """PANDAS_CIO_REFERENCE pointing at the files makes the same clone run the tests."""
    reference = ROOT.parent / "shared" / "reference"
    if not (reference / "cio_pipelines_api.json").is_file():
        reference = Path(os.environ.get("PANDAS_CIO_REFERENCE", ""))
    if not (reference / "cio_pipelines_api.json").is_file():
        # Without the files this test cannot show them used; the one above still runs.
        pytest.skip("the reference files are not on this machine")
    clone = _plain_clone(tmp_path)
    output = _pytest(
        clone,
        "tests/unit/catalogue/test_events_catalogue.py",
        "-k",
        "introduction_table",
        reference=str(reference),
    )
    assert "1 passed" in output and "SKIPPED" not in output, output


def test_a_wrong_variable_says_what_is_missing(tmp_path: Path) -> None:
    """A folder without the files is named in the reason, with what it lacks."""
    clone = _plain_clone(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    output = _pytest(
        clone,
        "tests/unit/catalogue/test_events_catalogue.py",
        "-k",
        "introduction_table",
        reference=str(empty),
    )
    (line,) = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    assert f"PANDAS_CIO_REFERENCE={empty} has no cio_pipelines_api.json" in line
