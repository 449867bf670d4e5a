"""The README's "Testing your own code" section: its examples run as written."""

from __future__ import annotations

import re

import pytest
from paths import REPO

README = REPO / "README.md"


def blocks() -> list[str]:
    """The python blocks of the section, up to the next top-level heading."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Testing your own code\n(.*?)^## ", text, re.S | re.M)
    assert match, "README.md has no '## Testing your own code' section"
    return re.findall(r"```python\n(.*?)```", match.group(1), re.S)


def test_section_has_examples() -> None:
    """The section shows the fake, its Journeys model and strict mode."""
    code = "\n".join(blocks())
    assert "fake.journeys" in code and "X-Strict-Mode" in code


@pytest.mark.parametrize("index", range(len(blocks())))
def test_example_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    """Each example runs without error against the local fake."""
    exec(compile(blocks()[index], "README.md", "exec"), {})
