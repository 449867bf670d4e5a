"""The send report: counts, grouped reasons, counters, and how it renders."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.outcome.report import MAX_REASON_CHARS, SendReport
from pandas_cio.outcome.results import ResultBuilder, Status
from pandas_cio.testing import FakeCio, Fault

SECRET_EMAIL = "jane.secret@example.com"


def people(rows: int = 50) -> pd.DataFrame:
    """A people frame with one missing id and two calls over 32 KB.

    Sends of it pass journeys=False: the notes are far over Customer.io
    Journeys' 1,000-byte attribute limit, which would make them invalid
    before the service's 32 KB call limit makes them too_large.
    """
    frame = pd.DataFrame(
        {
            "id": [f"u{i}" for i in range(rows)],
            "email": [SECRET_EMAIL] + [f"p{i}@example.com" for i in range(1, rows)],
            "notes": [None] * rows,
        }
    )
    frame.loc[3, "id"] = None
    frame.loc[4, "notes"] = "x" * 40_000
    frame.loc[5, "notes"] = "y" * 50_000
    return frame


def built(statuses: list[Status], errors: list[str | None]) -> pd.DataFrame:
    """A result frame made directly, as the pipeline makes it."""
    builder = ResultBuilder(pd.RangeIndex(len(statuses)), "track")
    for position, (status, error) in enumerate(zip(statuses, errors, strict=True)):
        builder.mark(position, status, error)
    return builder.build()


def test_counts_and_counters_of_a_real_send(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """A send's report counts every status and copies the counters of result.attrs."""
    cio_fake.inject(Fault(status=503, count=1))
    result = people().cio.identify(user_id="id", journeys=False, client=cio_client)
    report = result.cio.report()
    # Every status is counted, those no row has included (as 0).
    expected = {"sent": 47, "invalid": 1, "too_large": 2}
    assert report.counts == {s.value: 0 for s in Status} | expected
    stats = result.attrs["cio"]
    assert (report.calls, report.batches) == (stats["calls"], stats["batches"]) == (47, 1)
    assert (report.requests, report.retries) == (2, 1)
    assert report.call_bytes == stats["call_bytes"]
    assert report.body_bytes == stats["body_bytes"]
    assert report.operation == "identify"
    assert not report.derived
    assert not report.ok


def test_reasons_differing_only_in_sizes_are_grouped() -> None:
    """Two too_large rows of different sizes make one reason, the size shown as N."""
    report = people().cio.identify(user_id="id", journeys=False, dry_run=True).cio.report()
    texts = {r.text: (r.status, r.rows) for r in report.reasons}
    assert texts == {
        "call is N bytes; the service drops calls over 32,000": ("too_large", 2),
        "id (user_id=): is missing": ("invalid", 1),
    }


def test_short_numbers_such_as_http_statuses_stay_apart() -> None:
    """Reasons that differ in an HTTP status are different reasons."""
    errors = ["HTTP 500 after 7 attempts", "HTTP 503 after 7 attempts", "HTTP 503 after 7 attempts"]
    report = built([Status.FAILED] * 3, list(errors)).cio.report()
    assert [(r.text, r.rows) for r in report.reasons] == [
        ("HTTP 503 after 7 attempts", 2),
        ("HTTP 500 after 7 attempts", 1),
    ]


def test_only_the_top_reasons_are_listed_and_the_rest_summed() -> None:
    """Reasons beyond `top` are counted in other_reasons."""
    errors = [f"column c{i}: must be a number" for i in range(8) for _ in range(i + 1)]
    result = built([Status.INVALID] * len(errors), list(errors))
    report = SendReport.from_result(result, top=3)
    assert [r.rows for r in report.reasons] == [8, 7, 6]
    assert report.other_reasons == sum(range(1, 6))
    assert "other reasons" in str(report)


def test_long_reasons_are_cut() -> None:
    """A long HTTP error body does not stretch the report."""
    report = built([Status.FAILED], ["HTTP 400: " + "z" * 500]).cio.report()
    assert len(report.reasons[0].text) == MAX_REASON_CHARS
    assert report.reasons[0].text.endswith("...")


def test_filtered_result_derives_its_counters(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """After filtering, counts describe the subset and unknowable counters are None."""
    result = people(2_000).cio.identify(user_id="id", journeys=False, client=cio_client)
    subset = result[result["batch"] == 0]
    report = subset.cio.report()
    assert report.derived
    assert report.rows == len(subset)
    assert report.counts["sent"] == len(subset)
    assert report.batches == 1
    assert report.calls == len(subset)
    assert report.requests == 1
    assert report.retries == 0
    assert (report.call_bytes, report.body_bytes, report.seconds) == (None, None, None)
    assert report.operation == "identify"
    assert "derived" in str(report)


def test_lost_attrs_degrade_gracefully() -> None:
    """A result frame whose attrs were dropped still reports counts and reasons."""
    result = people().cio.identify(user_id="id", journeys=False, dry_run=True)
    result.attrs.clear()
    report = result.cio.report()
    assert report.derived
    assert report.dry_run
    assert report.counts["dry_run"] == 47
    assert report.rows_per_second is None
    assert "unknown" in str(report)


def test_minimal_frame_with_only_a_status_column() -> None:
    """A frame reduced to its status column still gives a report."""
    frame = pd.DataFrame({"status": ["sent", "failed", None]})
    report = SendReport.from_result(frame)
    assert report.counts["sent"] == 1
    assert report.counts["missing"] == 1
    assert report.calls is None
    assert not report.ok


def test_input_frame_is_refused_with_advice() -> None:
    """Calling report() on an input frame says to call it on the result."""
    with pytest.raises(ValueError, match="result frame"):
        people().cio.report()


def test_dry_run_headline_and_ok() -> None:
    """A clean dry run is ok and says nothing was sent."""
    result = people().drop(index=[3, 4, 5]).cio.identify(user_id="id", journeys=False, dry_run=True)
    report = result.cio.report()
    assert report.ok
    assert report.headline() == "cio.identify (dry run): 47 of 47 rows ready to send, none sent"
    assert "sent " not in str(report).splitlines()[2]


def test_no_value_of_the_frame_reaches_any_rendering() -> None:
    """Text, HTML and dict renderings hold counts and reasons, never a frame value."""
    report = people().cio.identify(user_id="id", journeys=False, dry_run=True).cio.report()
    for rendering in (str(report), repr(report), report._repr_html_(), str(report.to_dict())):
        assert SECRET_EMAIL not in rendering
        assert "xxxx" not in rendering
        assert "u1" not in re.findall(r"\bu\d+\b", rendering)


def test_text_columns_are_aligned() -> None:
    """Every line of the status table has the same width; numbers are right-aligned."""
    report = people().cio.identify(user_id="id", journeys=False, dry_run=True).cio.report()
    lines = str(report).splitlines()
    table = lines[2 : lines.index("", 2)]
    assert len({len(line) for line in table}) == 1
    assert table[0].split() == ["status", "rows", "share"]


def test_html_is_a_table_and_escapes_reasons() -> None:
    """The Jupyter rendering is one table and escapes markup in reasons."""
    report = built([Status.FAILED], ["HTTP 400: <script>alert(1)</script>"]).cio.report()
    page = report._repr_html_()
    assert page.startswith("<table") and page.endswith("</table>")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_to_dict_matches_the_report() -> None:
    """to_dict carries the counts, the reasons and the counters."""
    result = people().cio.identify(user_id="id", journeys=False, dry_run=True)
    data = result.cio.report().to_dict()
    assert data["status"]["dry_run"] == 47
    assert data["reasons"][0] == {
        "reason": "call is N bytes; the service drops calls over 32,000",
        "status": "too_large",
        "rows": 2,
    }
    assert data["calls"] == result.attrs["cio"]["calls"]
    assert data["ok"] is False


STATUS = st.sampled_from(list(Status))
ERROR = st.sampled_from(["bad a", "bad b", "HTTP 503 after 7 attempts", "call is 40,001 bytes"])


@given(st.lists(st.tuples(STATUS, ERROR), max_size=60), st.integers(1, 4), st.booleans())
def test_report_invariants(rows: list[tuple[Status, str]], top: int, keep_attrs: bool) -> None:
    """Counts add up to the rows, and listed plus other reasons cover every row with a reason."""
    statuses = [status for status, _ in rows]
    errors = [None if s in (Status.SENT, Status.DRY_RUN) else e for s, e in rows]
    result = built(statuses, errors)
    if not keep_attrs:
        result = result.iloc[: len(result) // 2]
    report = SendReport.from_result(result, top=top)
    assert sum(report.counts.values()) == report.rows == len(result)
    with_reason = int(result["error"].notna().sum())
    assert sum(r.rows for r in report.reasons) + report.other_reasons == with_reason
    assert len(report.reasons) <= top
    assert report.ok == bool(
        np.isin(result["status"], ["sent", "dry_run", "unchanged", "superseded"]).all()
    )
    text = str(report)
    for status, count in report.counts.items():
        if count:
            assert status in text
