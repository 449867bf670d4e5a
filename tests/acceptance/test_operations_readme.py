"""The README's Operations section: every operation has an example, and the examples run."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
from paths import REPO

import pandas_cio
from pandas_cio.accessor import base as accessor
from pandas_cio.catalogue.events import events_in
from pandas_cio.catalogue.operations import OPERATIONS
from pandas_cio.pipeline import grouping
from pandas_cio.testing import FakeCio

README = REPO / "README.md"


def operations_section() -> str:
    """The text of the README's "## Operations" section."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Operations\n(.*?)(?=^## )", text, re.M | re.S)
    assert match, "README.md has no '## Operations' section"
    return match.group(1)


def code_blocks(section: str) -> list[str]:
    """The python code blocks of a section, in order."""
    return re.findall(r"^```python\n(.*?)^```", section, re.M | re.S)


def test_every_operation_has_an_example() -> None:
    """Each accessor call of the operations table appears in an example."""
    code = "\n".join(code_blocks(operations_section()))
    methods = {op.method for op in OPERATIONS.values()}
    missing = sorted(m for m in methods if f".{m}(" not in code)
    assert not missing, f"no README example calls {missing}"


def test_the_examples_run_against_the_fake(
    cio_fake: FakeCio, cio_client: pandas_cio.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run every example with a client bound to the fake: no row is invalid, all calls arrive."""
    results: list[pd.DataFrame] = []

    def recording(run: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> pd.DataFrame:
            result: pd.DataFrame = run(*args, **kwargs)
            results.append(result)
            return result

        return wrapper

    monkeypatch.setattr(accessor, "run", recording(accessor.run))
    monkeypatch.setattr(grouping, "run", recording(grouping.run))
    namespace: dict[str, Any] = {"pd": pd, "pandas_cio": pandas_cio, "client": cio_client}
    for block in code_blocks(operations_section()):
        # Not the real path: tracebacks and hypothesis would read lines of the whole file.
        exec(compile(block, "<README.md block>", "exec"), namespace)
    namespace["test_unknown_platforms_are_refused"]()  # the hypothesis example
    sent = [r for r in results if not r.attrs["cio"]["dry_run"]]
    assert all((r["status"] == "sent").all() for r in sent), [
        r["error"].dropna().tolist() for r in sent
    ]
    recorded = {(call["type"], call.get("event")) for call in cio_fake.calls}
    for op in OPERATIONS.values():
        if op.method.startswith("semantic."):
            category = op.method.split(".", 1)[1]
            assert any(("track", name) in recorded for name in events_in(category)), category
        elif op.event is not None:
            assert ("track", op.event) in recorded
        else:
            assert any(kind == op.call_type for kind, _ in recorded), op.name
