"""Date strings are read one format per column: day/month order from the column, never guessed."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pandas_cio  # noqa: F401 - the accessor
from pandas_cio.catalogue.operations import get_operation
from pandas_cio.prepare.dates import DATE_AMBIGUOUS, DATE_CONTRADICTS, DATE_OK, read_timestamps
from pandas_cio.prepare.encoding import Encoder
from pandas_cio.prepare.plan import make_plan


def sent_timestamps(values: list[str | None], dtype: str = "object") -> pd.DataFrame:
    """Dry-run track rows with ``values`` as the timestamp column; status, error and timestamp."""
    frame = pd.DataFrame(
        {"uid": [f"u{i}" for i in range(len(values))], "when": pd.Series(values, dtype=dtype)}
    )
    result = frame.cio.track(user_id="uid", event="Signed Up", timestamp="when", dry_run=True)
    stamps = read_timestamps(frame["when"]).stamps.dt.strftime("%Y-%m-%d %H:%M")
    return result[["status", "error"]].assign(read=stamps.to_numpy())


@pytest.mark.parametrize("dtype", ["object", "str"])
def test_the_column_decides_day_first(dtype: str) -> None:
    """03/05/2024 beside 13/05/2024 is 3 May, not 5 March: the column is day-first."""
    out = sent_timestamps(["03/05/2024", "13/05/2024", "2024-01-02T10:00:00Z"], dtype)
    assert out["status"].tolist() == ["dry_run"] * 3
    assert out["read"].tolist() == ["2024-05-03 00:00", "2024-05-13 00:00", "2024-01-02 10:00"]


def test_a_row_against_the_columns_order_is_invalid() -> None:
    """Month-first values outnumber a day-first one: that one is invalid, naming the column."""
    out = sent_timestamps(["05/13/2024 10:30", "05/14/2024", "03/05/2024", "13/05/2024"])
    assert out["status"].tolist() == ["dry_run", "dry_run", "dry_run", "invalid"]
    assert out["read"].tolist()[:3] == ["2024-05-13 10:30", "2024-05-14 00:00", "2024-03-05 00:00"]
    error = out["error"].iloc[3]
    assert error.startswith("when (timestamp=): mixes day-first")
    assert "ISO 8601" in error and "pd.to_datetime(df['when'], format=" in error


def test_nothing_tells_so_ambiguous_rows_are_invalid() -> None:
    """No part over 12 anywhere: 03/05/2024 is refused; 05/05/2024 reads the same either way."""
    out = sent_timestamps(["03/05/2024", "05/05/2024", None, "2024-05-03"])
    assert out["status"].tolist() == ["invalid", "dry_run", "dry_run", "dry_run"]
    assert out["error"].iloc[0].startswith("when (timestamp=): the day and the month")


def test_other_forms_read_as_before() -> None:
    """ISO 8601 with offsets, month names, AM/PM and two-digit years still read; numbers do not."""
    reading = read_timestamps(
        pd.Series(
            ["2024-05-03T10:00:00+02:00", "May 3, 2024", "13/5/24 10:00 PM", "31/02/2024", 5],
            dtype=object,
        )
    )
    assert reading.stamps.dt.strftime("%Y-%m-%d %H:%M").tolist()[:3] == [
        "2024-05-03 08:00",
        "2024-05-03 00:00",
        "2024-05-13 22:00",
    ]
    assert reading.stamps.isna().tolist() == [False, False, False, True, True]
    assert reading.issues.tolist() == [DATE_OK] * 5


days = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2070, 12, 31))


@given(st.lists(days, min_size=1, max_size=20), st.sampled_from(["/", ".", "-"]), st.booleans())
def test_a_consistent_column_reads_right_or_is_refused(
    dates: list[dt.date], separator: str, day_first: bool
) -> None:
    """In a one-order column each value reads as its date or is refused as ambiguous."""
    pattern = f"%d{separator}%m{separator}%Y" if day_first else f"%m{separator}%d{separator}%Y"
    reading = read_timestamps(pd.Series([d.strftime(pattern) for d in dates]))
    tells = any((d.day > 12) and d.day != d.month for d in dates)
    for date, stamp, issue in zip(
        dates, reading.stamps.tolist(), reading.issues.tolist(), strict=True
    ):
        if issue == DATE_OK:
            assert stamp.date() == date
        else:
            assert issue == DATE_AMBIGUOUS and not tells
            assert date.day <= 12 and date.day != date.month
    assert DATE_CONTRADICTS not in reading.issues.tolist()


def test_a_large_column_reads_without_a_python_loop_per_row() -> None:
    """100,000 day/month strings read in one pass each; the ambiguous ones come out refused."""
    values = np.array(["13/05/2024", "03/05/2024 10:00", "2024-05-03"] * 33_334)[:100_000]
    reading = read_timestamps(pd.Series(values, dtype="str"))
    assert not reading.stamps.isna().any()
    assert (reading.issues == DATE_OK).all()


def test_arrow_timestamps_are_kept_as_date_times() -> None:
    """Arrow-backed timestamp columns (zoned or naive) are read column-wise, in UTC."""
    pa = pytest.importorskip("pyarrow")
    naive = pd.Series(pd.to_datetime(["2024-05-03 10:00", None]))
    zoned = naive.dt.tz_localize("Europe/Berlin")
    for column, instant in ((naive, "2024-05-03 10:00Z"), (zoned, "2024-05-03 08:00Z")):
        reading = read_timestamps(pd.Series(pd.arrays.ArrowExtensionArray(pa.array(column))))
        assert str(reading.stamps.dtype) == "datetime64[us, UTC]"
        assert reading.stamps.iloc[0] == pd.Timestamp(instant)
        assert pd.isna(reading.stamps.iloc[1])


def test_the_order_is_the_whole_columns_in_every_slice() -> None:
    """A slice with only ambiguous dates still reads them in the column's order when sent."""
    # Slices start at 2,000 rows: the one value that tells comes far after the first.
    values = ["03/05/2024"] * 4_999 + ["13/05/2024"]
    frame = pd.DataFrame({"uid": [f"u{i}" for i in range(5_000)], "when": values})
    plan = make_plan(
        get_operation("track"), frame, {"user_id": "uid", "event": "E", "timestamp": "when"}
    )
    for columnwise in (True, False):
        out = Encoder(plan, columnwise=columnwise).encode(frame, np.arange(0, 5_000, 7))
        assert out.invalid == {}
        stamps = {json.loads(call)["timestamp"] for call in out.calls}
        assert stamps == {"2024-05-03T00:00:00.000Z"}
    result = frame.cio.track(user_id="uid", event="E", timestamp="when", dry_run=True)
    assert (result["status"] == "dry_run").all()
