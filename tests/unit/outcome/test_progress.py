"""The progress display: one line updated in place in Jupyter, tqdm in a terminal, quiet in CI.

Issue 13, point 6: in Jupyter without ipywidgets a send showed a pink
``TqdmWarning`` box and stacked text bars; with ipywidgets a saved notebook
showed the bar frozen at 0%, and exports nothing. The kernel test below runs a
real send in a Jupyter kernel (without ipywidgets, as the plain install is) and
reads the saved outputs.
"""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbclient import NotebookClient

import pandas_cio  # noqa: F401  (registers df.cio)
from pandas_cio.outcome import progress
from pandas_cio.outcome.progress import NotebookLine, Progress, render

ROWS = 3_000
FINAL = re.compile(r"cio\.identify: 3,000 of 3,000 rows, \d+\.\d s")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_notebook_keeps_one_readable_final_state(kernel_name: str, tmp_path: Path) -> None:
    """One display output, no stderr box; its last state says rows and seconds in HTML and text."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import pandas as pd\nimport pandas_cio\n"
            f"frame = pd.DataFrame({{'id': [f'u{{i}}' for i in range({ROWS})]}})\n"
            "result = frame.cio.identify(user_id='id', dry_run=True, progress=True)"
        )
    ]
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=120,
        startup_timeout=60,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = notebook.cells[0].outputs
    assert [o for o in outputs if o.output_type == "stream"] == []  # no pink box
    (shown,) = [o for o in outputs if o.output_type == "display_data"]
    plain, page = shown.data["text/plain"], shown.data["text/html"]
    assert FINAL.search(plain), plain
    assert plain.startswith("[" + "#" * 20 + "]")
    assert FINAL.search(page), page
    assert "width: 100.0%" in page


def test_in_a_terminal_a_large_send_draws_a_tqdm_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    """Left to itself, a large send in a terminal shows a bar on stderr."""
    monkeypatch.delenv("CI", raising=False)
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with Progress(50_000, None, "cio.track") as bar:
        bar.update(50_000)
    assert "cio.track" in terminal.getvalue()
    assert "50.0k/50.0k" in terminal.getvalue()


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_ci_logs_stay_quiet_unless_asked(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """CI=true hides the automatic bar even where stderr claims to be a terminal."""
    monkeypatch.setenv("CI", value)
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with Progress(50_000, None, "cio.track") as bar:
        bar.update(50_000)
    assert terminal.getvalue() == ""
    with Progress(50_000, True, "cio.track") as bar:  # asked for: shown
        bar.update(50_000)
    assert "50.0k/50.0k" in terminal.getvalue()


def test_a_pipe_stays_quiet_and_small_sends_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a terminal, or under AUTO_MIN_ROWS rows: nothing unless progress=True."""
    monkeypatch.delenv("CI", raising=False)
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    with Progress(50_000, None, "cio.track") as bar:
        bar.update(50_000)
    monkeypatch.setattr("sys.stderr", terminal := _Terminal())
    with Progress(progress.AUTO_MIN_ROWS - 1, None, "cio.track") as bar:
        bar.update(progress.AUTO_MIN_ROWS - 1)
    assert pipe.getvalue() == terminal.getvalue() == ""


def test_a_send_with_progress_true_in_a_log_ends_with_the_total(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """progress=True outside a terminal writes a final bar with every row counted."""
    monkeypatch.setenv("CI", "true")
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    frame = pd.DataFrame({"id": [f"u{i}" for i in range(500)]})
    frame.cio.identify(user_id="id", dry_run=True, progress=True)
    assert "cio.identify" in log.getvalue() and "500/500" in log.getvalue()


def test_a_stopped_send_says_so() -> None:
    """The final state of a send that raised names where it stopped, in a stop colour."""
    bundle = render("cio.track", 4_000, 10_000, 2.04, final=True, stopped=True)
    assert bundle["text/plain"].endswith("cio.track: stopped at 4,000 of 10,000 rows, 2.0 s")
    assert "#c0392b" in bundle["text/html"] and "width: 40.0%" in bundle["text/html"]


def test_the_label_is_escaped_in_html() -> None:
    """The description is text, never markup."""
    page = render("<b>x</b>", 1, 2, 0.0, final=False)["text/html"]
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_the_notebook_line_closes_through_the_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a notebook, Progress uses the in-place line, and a raised send draws 'stopped at'."""
    shown: list[dict[str, str]] = []
    monkeypatch.setattr(progress, "_in_notebook", lambda: True)
    monkeypatch.setattr(progress, "_display_handle", lambda: shown.append)
    with pytest.raises(KeyboardInterrupt), Progress(10, True, "cio.track") as bar:
        bar.update(4)
        raise KeyboardInterrupt
    assert "stopped at 4 of 10 rows" in shown[-1]["text/plain"]


@given(
    total=st.integers(1, 10**6),
    steps=st.lists(st.tuples(st.integers(0, 5_000), st.floats(0.0, 1.0)), max_size=60),
)
def test_the_last_update_is_the_final_state_and_redraws_are_spaced(
    total: int, steps: list[tuple[int, float]]
) -> None:
    """Whatever the batch sizes and timing: redraws at least an interval apart, final last."""
    clock = _Clock()
    drawn: list[tuple[float, dict[str, str]]] = []
    line = NotebookLine(
        total, "cio.track", publish=lambda b: drawn.append((clock.now, b)), clock=clock
    )
    start = clock.now
    for rows, pause in steps:
        clock.now += pause
        line.update(rows)
    line.close(stopped=False)
    done = sum(rows for rows, _ in steps)
    *during, (_, final) = drawn
    assert final["text/plain"].endswith(
        f"cio.track: {done:,} of {total:,} rows, {clock.now - start:.1f} s"
    )
    times = [when for when, _ in during]
    assert all(b - a >= progress.NOTEBOOK_INTERVAL for a, b in itertools.pairwise(times))
    assert len(during) <= 1 + (clock.now - start) / progress.NOTEBOOK_INTERVAL
    assert all(re.search(r"\(\d+%\)", b["text/plain"]) for _, b in during)
