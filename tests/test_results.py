"""Tests of the result frame's shape and of folding a re-send into a result."""

from __future__ import annotations

import pandas as pd
import pytest

import pandas_cio  # noqa: F401  (registers the accessor)
from pandas_cio.results import STATUS_DTYPE, ResultBuilder, Status


def test_result_frame_columns_and_dtypes() -> None:
    """The result has the documented columns, dtypes and the input's index."""
    index = pd.MultiIndex.from_tuples([("a", 1), ("a", 1), ("b", 2)])
    builder = ResultBuilder(index, "identify")
    builder.mark([0], Status.SENT, batch=0, http_status=200, attempts=2)
    builder.mark([1], Status.INVALID, "user_id: is missing")
    result = builder.build("not sent")
    assert list(result.columns) == [
        "status",
        "error",
        "message_id",
        "batch",
        "http_status",
        "attempts",
    ]
    assert result.index.equals(index)
    assert result["status"].dtype == STATUS_DTYPE
    assert result["status"].tolist() == ["sent", "invalid", "failed"]
    assert result["error"].tolist()[1:] == ["user_id: is missing", "not sent"]
    assert result["attempts"].tolist() == [2, 0, 0]
    assert result["batch"].tolist()[0] == 0 and pd.isna(result["batch"].iloc[1])
    assert result.attrs["cio"]["operation"] == "identify"


def test_merge_retry_replaces_only_resent_rows() -> None:
    """Re-sent rows take the retry's outcome; the others keep theirs."""
    people = pd.DataFrame({"id": ["u1", None, "u3"]}, index=[10, 20, 30])
    first = people.cio.identify(user_id="id", dry_run=True)
    assert first["status"].tolist() == ["dry_run", "invalid", "dry_run"]
    fixed = people.fillna({"id": "u2"})
    retry = fixed[first["status"] == "invalid"].cio.identify(user_id="id", dry_run=True)
    merged = first.cio.merge_retry(retry)
    assert merged.index.equals(first.index)
    assert merged["status"].tolist() == ["dry_run"] * 3
    assert merged["status"].dtype == STATUS_DTYPE
    assert merged.loc[20, "message_id"] == retry.loc[20, "message_id"]
    assert merged.loc[10, "message_id"] == first.loc[10, "message_id"]
    assert "cio" not in merged.attrs


def test_merge_retry_refuses_foreign_rows() -> None:
    """A retry with labels the first result lacks is a mistake, not a merge."""
    first = pd.DataFrame({"id": ["u1"]}).cio.identify(user_id="id", dry_run=True)
    other = pd.DataFrame({"id": ["u9"]}, index=[5]).cio.identify(user_id="id", dry_run=True)
    with pytest.raises(ValueError, match="lacks"):
        first.cio.merge_retry(other)
