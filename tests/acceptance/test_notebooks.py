"""Every notebook runs top to bottom against the fake, and follows ZEN_NOTEBOOKS.md.

Each notebook is one test, executed by nbclient in a kernel that runs this very
interpreter, with ``CIO_API_KEY`` removed from the kernel's environment so that
the notebook uses :class:`pandas_cio.testing.FakeCio`. Notebooks are committed
without outputs; this test regenerates them in memory and discards them. A
cell that writes to stderr fails too (Jupyter shows it as a pink box), and some
notebooks have checks of what they show (``OUTPUT_CHECKS``).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from paths import REPO

NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
# Seconds one cell may run; the slowest cell (100,000 rows) takes a few seconds.
CELL_TIMEOUT = 240  # a cold Spark session start on a loaded 2-core machine takes minutes
KERNEL_STARTUP_TIMEOUT = 60
MAX_CELL_LINES = 15
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")
_KEY_LITERAL = re.compile(r"\b[ps]k_(?:us|eu)_\w+")


def _needs_spark(path: Path) -> bool:
    """A Spark notebook needs both pyspark and a Java runtime to start a session."""
    has_java = bool(os.environ.get("JAVA_HOME")) or shutil.which("java") is not None
    has_spark = importlib.util.find_spec("pyspark") is not None
    return "spark" in path.stem.lower() and not (has_spark and has_java)


def test_the_notebooks_are_there() -> None:
    """Every notebook ZEN_NOTEBOOKS.md lists exists."""
    names = {path.stem for path in NOTEBOOKS}
    expected = {
        "00_quickstart",
        "01_people",
        "02_events",
        "03_objects_and_relationships",
        "04_devices",
        "05_semantic_events",
        "06_large_backfill",
        "07_spark_databricks",
        "08_nightly_sync",
    }
    assert expected <= names


# Each notebook starts a kernel: 2 to 33 s a notebook.
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, kernel_name: str, tmp_path: Path) -> None:
    """The notebook executes without an error, against the fake service."""
    if _needs_spark(path):
        pytest.skip("pyspark or Java is not installed")
    notebook = nbformat.read(path, as_version=4)
    env = {k: v for k, v in os.environ.items() if k not in ("CIO_API_KEY", "CIO_REGION")}
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=CELL_TIMEOUT,
        startup_timeout=KERNEL_STARTUP_TIMEOUT,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=env)  # raises CellExecutionError at the first failing cell
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    # Jupyter shows stderr as a pink box: warnings, JVM logs, a text progress bar.
    boxes = [
        o.text
        for cell in code
        for o in cell.outputs
        if o.output_type == "stream" and o.name == "stderr"
    ]
    assert boxes == [], "a cell wrote to stderr (a pink box in Jupyter)"
    check = OUTPUT_CHECKS.get(path.stem)
    if check is not None:
        check(code)


def _text(output: nbformat.NotebookNode) -> str:
    if output.output_type == "stream":
        return str(output.text)
    return str(output.get("data", {}).get("text/plain", ""))


def _check_large_backfill(code: list[nbformat.NotebookNode]) -> None:
    """06 shows the final bar, rows that really end failed, and a re-send that fixes them."""
    (send,) = [cell for cell in code if "progress=True" in cell.source]
    shown = [o for o in send.outputs if o.output_type == "display_data"]
    assert len(shown) == 1, "one progress display, updated in place"
    final = re.compile(r"cio\.track: 100,000 of 100,000 rows, \d+\.\d s$")
    assert final.search(shown[0].data["text/plain"]), shown[0].data["text/plain"]
    assert final.search(shown[0].data["text/html"].removesuffix("</span></div>"))
    (report,) = [_text(o) for o in send.outputs if o.output_type == "execute_result"]
    failed = re.search(r"^\s*failed\s+([\d,]+)", report, re.M)
    assert failed and int(failed.group(1).replace(",", "")) > 0, report
    assert "HTTP 503 after 7 attempts" in report
    counts = _text(code[-2].outputs[-1])
    assert re.search(r"^sent\s+100000$", counts, re.M) and re.search(r"^failed\s+0$", counts, re.M)


# Checks of what a notebook shows, beyond running without an error.
OUTPUT_CHECKS: dict[str, Callable[[list[nbformat.NotebookNode]], None]] = {
    "06_large_backfill": _check_large_backfill,
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_follows_the_zen(path: Path) -> None:
    """One H1 and a purpose first, imports only in the first code cell, short cells, no outputs."""
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    first = cells[0]
    assert first.cell_type == "markdown"
    title, _, purpose = first.source.partition("\n")
    assert title.startswith("# "), "the first cell starts with the H1 title"
    assert len(purpose.strip()) >= 100, "a purpose statement follows the title"
    headings = [
        line
        for cell in cells
        if cell.cell_type == "markdown"
        for line in re.sub(r"```.*?```", "", cell.source, flags=re.S).splitlines()
        if line.startswith("# ")
    ]
    assert headings == [title], "exactly one H1"
    code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
    assert code, "a notebook has code"
    for number, i in enumerate(code):
        cell = cells[i]
        assert cells[i - 1].cell_type == "markdown", f"cell {i}: markdown before each step"
        lines = cell.source.splitlines()
        assert len(lines) <= MAX_CELL_LINES, f"cell {i} has {len(lines)} lines"
        assert cell.outputs == [] and cell.execution_count is None, f"cell {i} has outputs"
        imports = [
            n
            for n in ast.walk(ast.parse(cell.source))
            if isinstance(n, ast.Import | ast.ImportFrom)
        ]
        if number == 0:
            assert imports, "the first code cell holds the imports"
        else:
            assert imports == [], f"cell {i}: imports belong in the first code cell"
    for cell in cells:
        assert not _EMOJI.search(cell.source), "no emojis"
        assert not _KEY_LITERAL.search(cell.source), "credentials come from the environment"
