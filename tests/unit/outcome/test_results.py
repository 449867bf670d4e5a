"""Tests of the result frame's shape and of folding a re-send into a result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pandas_cio  # noqa: F401  (registers the accessor)
from pandas_cio.outcome.results import STATUS_DTYPE, Members, ResultBuilder, Status


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


def test_every_status_handler_derives_from_the_one_definition() -> None:
    """The dtype, the report, report.ok and the CLI's --rejects all read results.Status."""
    from pandas_cio.cli import files as cli
    from pandas_cio.outcome.report import SendReport

    assert list(STATUS_DTYPE.categories) == [s.value for s in Status]
    assert set(cli._KEEP) == {s.value for s in Status if s.ok}
    builder = ResultBuilder(pd.RangeIndex(len(Status)), "identify")
    for position, status in enumerate(Status):
        builder.mark([position], status, None if status.ok else "why")
    result = builder.build()
    report = SendReport.from_result(result)
    assert report.counts == dict.fromkeys((s.value for s in Status), 1)
    assert not report.ok
    for status in Status:
        alone = SendReport.from_result(result[result["status"] == status.value])
        assert alone.ok is status.ok


def test_rejected_is_a_status_that_is_not_ok_and_survives_merge_retry() -> None:
    """A rejected row needs fixing: not ok, and merge_retry keeps and replaces it like any."""
    assert Status("rejected") is Status.REJECTED and not Status.REJECTED.ok
    builder = ResultBuilder(pd.RangeIndex(3), "identify")
    builder.mark([0, 2], Status.SENT, batch=0, http_status=200)
    builder.mark([1], Status.REJECTED, "the service refused this call: HTTP 400", http_status=400)
    first = builder.build()
    retry_builder = ResultBuilder(pd.Index([1]), "identify")
    retry_builder.mark([0], Status.SENT, batch=0, http_status=200)
    merged = first.cio.merge_retry(retry_builder.build())
    assert first["status"].tolist() == ["sent", "rejected", "sent"]
    assert merged["status"].tolist() == ["sent"] * 3


def test_attempts_add_up_over_every_request_that_carried_a_row() -> None:
    """carried() adds: a row sent in a refused batch, then in a half, counts both requests."""
    builder = ResultBuilder(pd.RangeIndex(4), "identify")
    builder.carried([0, 1, 2, 3], 1)  # the whole batch, refused
    builder.carried([0, 1], 2)  # a half, retried once
    builder.carried([2, 3], 1)
    builder.mark([0, 1, 2, 3], Status.SENT)
    assert builder.build()["attempts"].tolist() == [3, 3, 2, 2]


def test_members_take_their_rows_outcome_and_orphans_are_invalid() -> None:
    """Lines take their order's row; a line in no order is invalid; counts are of lines."""
    lines = pd.Index(["a", "b", "c", "d"])
    members = Members(np.array([1, -1, 0, 1]), lines, "order: is missing")
    builder = ResultBuilder(pd.RangeIndex(2), "track", members)
    builder.mark([0], Status.INVALID, "user_id: is missing")
    builder.mark([1], Status.SENT, batch=0, http_status=200, attempts=1)
    result = builder.build()
    assert result.index.equals(lines)
    assert result["status"].tolist() == ["sent", "invalid", "invalid", "sent"]
    assert result["error"].tolist()[1:3] == ["order: is missing", "user_id: is missing"]
    assert result["batch"].tolist()[0] == 0 and pd.isna(result["batch"].iloc[1])
    assert result["attempts"].tolist() == [1, 0, 0, 1]
    assert builder.count(Status.SENT) == 2 and builder.count(Status.INVALID) == 2
    assert result.attrs["cio"]["rows"] == 4 and result.attrs["cio"]["orders"] == 2
    failures = builder.failures({0: "user_id: is missing"})
    assert failures.index.tolist() == ["b", "c"]
    assert failures["error"].tolist() == ["order: is missing", "user_id: is missing"]
