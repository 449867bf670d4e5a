"""A row without a person is explained like every other row: column (argument=): check."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pandas_cio
from pandas_cio.cli import main as cli
from pandas_cio.cli.main import cli_spelling


def test_one_identity_column_names_the_column_and_the_argument() -> None:
    """Before: "needs a value in id", with no argument, unlike the other reasons."""
    people = pd.DataFrame({"id": ["u1", None], "plan": ["pro", "free"]})
    result = people.cio.identify(user_id="id", dry_run=True)
    assert result["error"].tolist()[1] == "id (user_id=): is missing"


def test_a_column_called_like_its_argument_is_named_once() -> None:
    """``user_id (user_id=)`` would say the same word twice."""
    people = pd.DataFrame({"user_id": ["u1", None]})
    result = people.cio.identify(user_id="user_id", dry_run=True)
    assert result["error"].tolist()[1] == "user_id: is missing"


def test_two_identity_columns_say_one_of_them_is_needed() -> None:
    """Before: "needs a value in uid or anon"."""
    events = pd.DataFrame({"uid": ["u1", None], "anon": [None, None], "event": ["a", "b"]})
    result = events.cio.track(user_id="uid", anonymous_id="anon", event="event", dry_run=True)
    assert result["error"].tolist()[1] == (
        "uid (user_id=) or anon (anonymous_id=): one of them needs a value"
    )


def test_errors_raise_gives_the_same_reason() -> None:
    """The SchemaError's failures carry the reason the result would."""
    people = pd.DataFrame({"id": ["u1", None]})
    with pytest.raises(pandas_cio.SchemaError) as raised:
        people.cio.identify(user_id="id", dry_run=True, errors="raise")
    assert raised.value.failures["error"].tolist() == ["id (user_id=): is missing"]


def test_the_command_line_says_the_option() -> None:
    """The CLI's report names ``--user-id``, not ``user_id=``."""
    assert cli_spelling("id (user_id=): is missing") == "id (--user-id): is missing"
    assert cli_spelling("uid (user_id=) or anon (anonymous_id=): one of them needs a value") == (
        "uid (--user-id) or anon (--anonymous-id): one of them needs a value"
    )


def test_the_command_lines_report_shows_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dry run from the command line prints the reason in its words."""
    path = tmp_path / "p.csv"
    pd.DataFrame({"id": ["u1", None], "plan": ["pro", "free"]}).to_csv(path, index=False)
    assert cli.main(["identify", str(path), "--user-id", "id", "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "id (--user-id): is missing" in out
    assert "user_id=" not in out
