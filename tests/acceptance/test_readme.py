"""Every Python block of README.md runs as written, top to bottom, against the local fake.

The README reads top to bottom, so its blocks run in order in one namespace,
as a reader pasting them into one notebook would: a block may use the data
and the ``client`` an earlier block made. The run happens in a temporary
working directory holding the files the blocks read (``people.parquet``,
made by the ``readme_env`` fixture) and receiving the files they write
(``cio_ledger.sqlite``), with ``CIO_API_KEY`` and ``CIO_BASE_URL`` pointing
at a :class:`~pandas_cio.testing.FakeCio` the test starts, so the blocks
without ``client=`` reach it too.

A block that cannot run here (shell commands, the report's text sample,
Spark on Databricks) carries a visible marker on the line before it::

    <!-- readme-test: skip (why) -->

A fenced block that neither runs nor carries a marker fails the test, and so
does a marker with no block after it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from paths import REPO

import pandas_cio
from pandas_cio import Client, Status
from pandas_cio.accessor import base as accessor
from pandas_cio.pipeline import grouping
from pandas_cio.testing import FakeCio

README = REPO / "README.md"
MARKER = re.compile(r"^\s*<!-- readme-test: skip \((?P<reason>[^)]+)\) -->\s*$")
FENCE = re.compile(r"^(?P<indent> *)```(?P<language>[\w-]*)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block of the README."""

    line: int  # of its opening fence, counted from 1
    section: str  # the heading it sits under
    language: str
    code: str
    skip: str | None  # the marker's reason, None when the block is to run


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text`` in order, with its marker; a stray marker fails."""
    lines = text.splitlines()
    blocks: list[Block] = []
    section, pending, number = "(top)", None, 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        marker, fence = MARKER.match(line), FENCE.match(line)
        if marker:
            assert pending is None, f"README.md:{number}: two markers in a row"
            pending = (number, marker.group("reason"))
            continue
        if fence is None:
            assert pending is None or not line.strip(), (
                f"README.md:{pending[0] if pending else number}: a readme-test marker must be "
                "followed by a fenced block"
            )
            continue
        opened, indent = number, fence.group("indent")
        body: list[str] = []
        while number < len(lines) and lines[number].rstrip() != f"{indent}```":
            body.append(lines[number])
            number += 1
        assert number < len(lines), f"README.md:{opened}: a block that never closes"
        number += 1  # the closing fence
        code = textwrap.dedent("\n".join(body)) + "\n"
        skip = pending[1] if pending else None
        blocks.append(Block(opened, section, fence.group("language"), code, skip))
        pending = None
    assert pending is None, f"README.md:{pending[0]}: a marker at the end, with no block"
    return blocks


def test_every_block_is_python_that_runs_or_is_marked() -> None:
    """A block of another language, or with none, says why the README test does not run it."""
    unmarked = [
        f"README.md:{b.line} ({b.section}): a ```{b.language} block; put "
        "'<!-- readme-test: skip (why) -->' on the line before it"
        for b in readme_blocks(README.read_text(encoding="utf-8"))
        if b.language != "python" and b.skip is None
    ]
    assert not unmarked, "\n".join(unmarked)


@pytest.fixture
def readme_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cio_fake: FakeCio
) -> Iterator[FakeCio]:
    """A working directory with people.parquet, and the environment pointed at a fake."""
    monkeypatch.chdir(tmp_path)
    pd.DataFrame(
        {
            "id": ["u1", "u2", "u3"],
            "email": ["a@x.io", "b@x.io", "c@x.io"],
            "plan": ["pro", "free", None],
            "signed_up_at": pd.to_datetime(["2024-01-02", "2024-02-03", "2024-03-04"], utc=True),
        }
    ).to_parquet("people.parquet")
    monkeypatch.setenv("CIO_API_KEY", cio_fake.api_key)
    monkeypatch.setenv("CIO_BASE_URL", cio_fake.url)
    monkeypatch.delenv("CIO_REGION", raising=False)
    yield cio_fake


@pytest.fixture
def opened_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Client]]:
    """Every Client the blocks make, closed when the test ends (a block may leave one open)."""
    clients: list[Client] = []
    original = Client._open

    def recording(self: Client, settings: Any) -> None:
        original(self, settings)
        clients.append(self)

    monkeypatch.setattr(Client, "_open", recording)
    yield clients
    for client in clients:
        client.close()


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[pd.DataFrame]:
    """The result frame of every send the blocks make, in order."""
    results: list[pd.DataFrame] = []

    def recording(run: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
        def wrapper(*args: Any, **kwargs: Any) -> pd.DataFrame:
            result = run(*args, **kwargs)
            results.append(result)
            return result

        return wrapper

    monkeypatch.setattr(accessor, "run", recording(accessor.run))
    monkeypatch.setattr(grouping, "run", recording(grouping.run))
    return results


def test_every_python_block_runs_in_order(
    readme_env: FakeCio,
    opened_clients: list[Client],
    sends: list[pd.DataFrame],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Run each unmarked Python block in one namespace; every row of every send ends ok."""
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    python = [b for b in blocks if b.language == "python"]
    run = [b for b in python if b.skip is None]
    namespace: dict[str, Any] = {"__name__": "readme"}
    for block in run:
        try:
            # Padded to its place in the file: a traceback shows the README's own lines.
            source = "\n" * block.line + block.code
            exec(compile(source, str(README), "exec"), namespace)
        except BaseException as exc:  # SystemExit too: a block must not end the script
            pytest.fail(
                f"README.md:{block.line} ({block.section}) raised {type(exc).__name__}: {exc}",
                pytrace=True,
            )
    made = list(sends)  # the blocks' own sends, not the example tests' broken frames
    # Blocks that define tests (the hypothesis example) are run as pytest would.
    defined = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    for test in defined:
        test()

    # u3 is only in people.parquet, which the first block sends without client=.
    assert any(call.get("userId") == "u3" for call in readme_env.calls), (
        "the first block did not reach the fake through CIO_BASE_URL"
    )
    not_ok = [
        (len(result), result["error"].dropna().unique().tolist())
        for result in made
        if not all(Status(status).ok for status in result["status"])
    ]
    assert not not_ok, f"README sends with rows that are not ok: {not_ok}"
    skipped = [f"  README.md:{b.line}: {b.skip}" for b in python if b.skip is not None]
    with capsys.disabled():
        print(
            f"\nREADME: ran {len(run)} Python blocks ({len(made)} sends, "
            f"{len(defined)} example tests); skipped {len(skipped)} marked Python blocks "
            f"and {len(blocks) - len(python)} marked blocks of other languages"
        )
        print("\n".join(skipped))
    assert run and len(run) + len(skipped) == len(python)


def test_the_errors_block_ends_a_script_readably_without_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Errors section's try/except turns the missing-key error into a plain exit message."""
    (block,) = [
        b
        for b in readme_blocks(README.read_text(encoding="utf-8"))
        if b.section == "Errors" and b.language == "python"
    ]
    monkeypatch.delenv("CIO_API_KEY", raising=False)
    people = pd.DataFrame({"id": ["u1"], "plan": ["pro"]})
    with pytest.raises(SystemExit) as stopped:
        exec(block.code, {"pandas_cio": pandas_cio, "people": people})
    assert str(stopped.value).startswith("nothing was sent: ")
    assert "CIO_API_KEY" in str(stopped.value)


def test_the_block_reader_keeps_markers_with_their_blocks_and_refuses_stray_ones() -> None:
    """Markers bind to the next block; a list item's indented block is dedented; strays fail."""
    text = (
        "# Title\n\n<!-- readme-test: skip (shell) -->\n\n```bash\nls\n```\n\n"
        "- item:\n\n  ```python\n  x = 1\n  ```\n"
    )
    shell, item = readme_blocks(text)
    assert (shell.language, shell.skip, shell.line) == ("bash", "shell", 5)
    assert (item.language, item.skip, item.code, item.section) == (
        "python",
        None,
        "x = 1\n",
        "Title",
    )
    for stray in (
        "<!-- readme-test: skip (x) -->\ntext\n```python\n```\n",
        "<!-- readme-test: skip (x) -->\n",
    ):
        with pytest.raises(AssertionError, match="marker"):
            readme_blocks(stray)
