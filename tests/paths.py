"""Where the tests find the repository's own files, wherever a test file sits."""

from __future__ import annotations

from pathlib import Path

#: The repository's root: README.md, notebooks/, pyproject.toml.
REPO = Path(__file__).resolve().parents[1]
#: The tests' root, where conftest.py and the shared helpers live.
TESTS = REPO / "tests"
