"""Read a column of date-times as UTC, one date format per column.

``pd.Timestamp("03/05/2024")`` is March 5 and ``pd.Timestamp("13/05/2024")``
is May 13: pandas (through dateutil) guesses the order of the day and the
month one value at a time, so one column can mix both orders and every row
still looks fine. Here the order is a property of the column: the values
that can only be read one way decide it, a value that contradicts it is not
read, and when nothing decides it a value whose day and month could be
swapped is not read either. Validation turns those rows into ``invalid``
with :func:`date_issue_reasons`; nothing is guessed.

The work is column-wise: one regular expression pass (pyarrow's RE2) finds
the day/month strings, and the ISO 8601 text made of them, like every other
string, is read by one vectorised ``pd.to_datetime``. Only values that are
neither (month names, AM/PM, datetime objects in an object column) are read
one at a time, as pandas reads them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "DATE_AMBIGUOUS",
    "DATE_CONTRADICTS",
    "DATE_OK",
    "DateOrder",
    "TimestampReading",
    "date_order",
    "date_issue_reasons",
    "parse_timestamps",
    "read_timestamps",
]

#: A column's day/month order: day first, month first, or not known.
DateOrder = Literal["day", "month", "neither"]

#: Codes of :attr:`TimestampReading.issues`.
DATE_OK, DATE_AMBIGUOUS, DATE_CONTRADICTS = 0, 1, 2

# Day and month as numbers, then the year: 03/05/2024, 3.5.24, 13-05-2024 10:00.
# Written for both RE2 (pyarrow) and Python's re: ASCII digits and blanks only.
_DAY_MONTH = (
    r"[ \t]*(?P<first>[0-9]{1,2})[./ -](?P<second>[0-9]{1,2})[./ -]"
    r"(?P<year>[0-9]{4}|[0-9]{2})(?P<rest>(?:[ T].*)?)"
)
_DAY_MONTH_RE = re.compile(_DAY_MONTH)
_MONTHS = 12
# dateutil's rule for two-digit years, kept: the year within 50 of this one.
_CENTURY_WINDOW = 50
_NAT = np.datetime64("NaT", "us")


def date_issue_reasons(column: Any) -> dict[int, str]:
    """The reason to give a row of ``column`` for each issue code but :data:`DATE_OK`.

    The reasons name the column and say how to fix it; they never quote a value.
    """
    fix = (
        f"write ISO 8601 dates (2024-05-03) or parse the column first with "
        f"pd.to_datetime(df[{column!r}], format='%d/%m/%Y') (or '%m/%d/%Y')"
    )
    return {
        DATE_AMBIGUOUS: (
            f"column {column!r}: the day and the month could be either way round "
            f"(03/05/2024) and no date in the column has a day over 12 to tell; {fix}"
        ),
        DATE_CONTRADICTS: (
            f"column {column!r} mixes day-first (13/05/2024) and month-first "
            f"(05/13/2024) dates; use one format per column: {fix}"
        ),
    }


@dataclass(frozen=True)
class TimestampReading:
    """A column read as date-times.

    Attributes
    ----------
    stamps : pandas.Series
        The date-times in UTC; NaT where the row has none or it cannot be read.
    issues : numpy.ndarray
        One code per row: :data:`DATE_OK`, or why the row's day/month string
        was not read (:data:`DATE_AMBIGUOUS`, :data:`DATE_CONTRADICTS`).
    """

    stamps: pd.Series
    issues: np.ndarray


def parse_timestamps(series: pd.Series, order: DateOrder | None = None) -> pd.Series:
    """Parse a column of date-times as UTC; NaT where unreadable (see :func:`read_timestamps`)."""
    return read_timestamps(series, order).stamps


def date_order(series: pd.Series) -> DateOrder:
    """The day/month order of a whole column's day/month strings (see :func:`read_timestamps`).

    The encoder reads a frame a slice at a time; the order a slice would
    show alone can differ from its column's, which validation went by.
    """
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or getattr(dtype, "kind", "") == "M":
        return "neither"  # date-times already: no strings to read
    texts = _texts(series)
    if texts is None:
        return "neither"
    parts = _day_month_parts(texts[0])
    if parts is None:
        return "neither"
    _, first, second, _, _ = parts
    return _decide(first, second)


def read_timestamps(series: pd.Series, order: DateOrder | None = None) -> TimestampReading:
    """Read a column of date-times as UTC, one date format per column.

    Datetime columns are kept. ISO 8601 strings are read as they are (naive
    ones as UTC). Strings with the day and the month as numbers and the year
    last (``03/05/2024``) are read in the order the column shows: a first
    number over 12 says the day comes first, a second one over 12 that the
    month does, and the order more values show is the column's. A value in
    the other order is not read (:data:`DATE_CONTRADICTS`); when nothing in
    the column tells, a value whose day and month could be swapped is not
    read (:data:`DATE_AMBIGUOUS`). Other strings and objects are read as
    pandas reads them; bare numbers (seconds? milliseconds?) never are.

    Parameters
    ----------
    series : pandas.Series
        The column.
    order : {"day", "month", "neither"}, optional
        The order decided from the whole column (:func:`date_order`) when
        ``series`` is a part of it; by default decided from ``series``.

    Returns
    -------
    TimestampReading

    Examples
    --------
    >>> import pandas as pd
    >>> from pandas_cio.prepare.dates import read_timestamps
    >>> reading = read_timestamps(pd.Series(["03/05/2024", "13/05/2024"]))
    >>> reading.stamps.dt.strftime("%Y-%m-%d").tolist()
    ['2024-05-03', '2024-05-13']
    >>> read_timestamps(pd.Series(["03/05/2024", "04/05/2024"])).issues.tolist()
    [1, 1]
    """
    issues = np.zeros(len(series), dtype=np.int8)
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return TimestampReading(series, issues)
    if isinstance(dtype, pd.ArrowDtype) and dtype.kind == "M":  # Arrow timestamps
        zoned = getattr(dtype.pyarrow_dtype, "tz", None) is not None
        kept = series.astype("datetime64[us, UTC]" if zoned else "datetime64[us]")
        return TimestampReading(kept if zoned else kept.dt.tz_localize("UTC"), issues)
    stamps = np.full(len(series), _NAT)
    found = _texts(series)
    if found is not None:
        texts, positions, others = found
        _read_strings(texts, positions, stamps, issues, order)
        for position, value in others:
            stamps[position] = _one_stamp(value)
    out = pd.Series(stamps, index=series.index).dt.tz_localize("UTC")
    return TimestampReading(out, issues)


def _texts(series: pd.Series) -> tuple[list[str], np.ndarray, list[tuple[int, Any]]] | None:
    """The strings of a column with their positions, and its other values; None for numbers.

    Bare numbers are ambiguous (seconds? milliseconds?): refused rather than guessed.
    """
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return None
    values = series.astype(object).where(series.notna(), None).to_numpy()
    present = series.notna().to_numpy()
    text_dtype = pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype)
    if text_dtype or pd.api.types.infer_dtype(values, skipna=True) == "string":
        is_text = present
    else:
        is_text = np.fromiter((isinstance(v, str) for v in values), bool, len(values))
    positions = np.flatnonzero(is_text)
    others = [(i, values[i]) for i in np.flatnonzero(~is_text & present).tolist()]
    return values[positions].tolist(), positions, others


def _one_stamp(value: Any) -> np.datetime64:
    """The naive UTC date-time of one value pandas can read (a datetime, a string), else NaT."""
    if isinstance(value, bool | int | float | Decimal | np.number | np.bool_):
        return _NAT
    try:
        stamp: Any = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return _NAT
    if stamp is pd.NaT:
        return _NAT
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return np.datetime64(stamp.to_datetime64(), "us")


def _read_strings(
    texts: list[str],
    positions: np.ndarray,
    stamps: np.ndarray,
    issues: np.ndarray,
    order: DateOrder | None,
) -> None:
    """Read the strings found at ``positions`` into ``stamps``, their problems into ``issues``."""
    if not texts:
        return
    day_month = np.zeros(len(texts), dtype=bool)
    parts = _day_month_parts(texts)
    if parts is not None:
        rows, first, second, year, rest = parts
        day_month[rows] = True
        code, day, month = _column_order(first, second, order or _decide(first, second))
        issues[positions[rows]] = code
        read = code == DATE_OK
        iso = _iso_texts(_full_years(year[read]), month[read], day[read], rest, read)
        stamps[positions[rows[read]]] = _iso_stamps(iso)
    plain = np.flatnonzero(~day_month)
    if len(plain) == len(texts):
        stamps[positions] = _iso_stamps(texts)
    elif len(plain):
        stamps[positions[plain]] = _iso_stamps([texts[i] for i in plain.tolist()])


def _day_month_parts(
    texts: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Any] | None:
    """Which texts are day/month/year strings, with their three numbers and the rest."""
    import pyarrow as pa  # here, not at import: most sends never read day/month text
    import pyarrow.compute as pc

    array = pa.array(texts, pa.large_string())
    pattern = f"^{_DAY_MONTH}$"
    hit = pc.match_substring_regex(array, pattern).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(hit)
    if len(rows) == 0:
        return None
    found = pc.extract_regex(array.take(pa.array(rows)), pattern).flatten()
    first, second, year = (pc.cast(field, pa.int64()).to_numpy() for field in found[:3])
    return rows, first, second, year, found[3]


def _evidence(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values that can only be day-first (13/05), and those that can only be month-first."""
    return (first > _MONTHS) & (second <= _MONTHS), (second > _MONTHS) & (first <= _MONTHS)


def _decide(first: np.ndarray, second: np.ndarray) -> DateOrder:
    """The order more values can only be read in; "neither" when none can, or on a tie."""
    day_first, month_first = _evidence(first, second)
    days, months = int(day_first.sum()), int(month_first.sum())
    if days > months:
        return "day"
    return "month" if months > days else "neither"


def _column_order(
    first: np.ndarray, second: np.ndarray, order: DateOrder
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's issue code, day and month under the column's order."""
    day_first, month_first = _evidence(first, second)
    code = np.zeros(len(first), dtype=np.int8)
    if order == "day":
        code[month_first] = DATE_CONTRADICTS
        return code, first, second
    if order == "month":
        code[day_first] = DATE_CONTRADICTS
        return code, second, first
    # Nothing tells, or as many values say one order as the other. A day
    # equal to its month reads the same either way; zeros are no date at all.
    swappable = (first >= 1) & (first <= _MONTHS) & (second >= 1) & (second <= _MONTHS)
    code[swappable & (first != second)] = DATE_AMBIGUOUS
    code[day_first | month_first] = DATE_CONTRADICTS
    return code, first, second


def _full_years(year: np.ndarray) -> np.ndarray:
    """Four-digit years; a two-digit one within 50 years of this year, as dateutil reads it."""
    this_year = dt.datetime.now(dt.UTC).year
    short = year < 100  # a two-digit year
    full = np.where(short, year + this_year // 100 * 100, year)
    full = np.where(short & (full >= this_year + _CENTURY_WINDOW), full - 100, full)
    return np.where(short & (full < this_year - _CENTURY_WINDOW), full + 100, full)


def _iso_texts(
    year: np.ndarray, month: np.ndarray, day: np.ndarray, rest: Any, keep: np.ndarray
) -> Any:
    """ISO 8601 text (``YYYY-MM-DD`` and the time that followed) of the kept day/month rows."""
    if isinstance(rest, list):  # pragma: no cover - without pyarrow
        tails = [r for r, k in zip(rest, keep.tolist(), strict=True) if k]
        return [
            f"{y:04d}-{m:02d}-{d:02d}{r}"
            for y, m, d, r in zip(year.tolist(), month.tolist(), day.tolist(), tails, strict=True)
        ]
    import pyarrow as pa
    import pyarrow.compute as pc

    def padded(numbers: np.ndarray, width: int) -> Any:
        return pc.utf8_lpad(pa.array(numbers).cast(pa.large_string()), width, "0")

    dash = pa.scalar("-", pa.large_string())
    return pc.binary_join_element_wise(
        padded(year, 4),
        dash,
        padded(month, 2),
        dash,
        padded(day, 2),
        rest.filter(pa.array(keep)),
        pa.scalar("", pa.large_string()),
    )


def _iso_stamps(texts: Any) -> np.ndarray:
    """Read date-time strings as naive UTC datetime64[us]; NaT where unreadable.

    ISO 8601 in one vectorised pass; what it cannot read (month names,
    AM/PM), one value at a time as pandas reads it.
    """
    if len(texts) == 0:
        return np.array([], dtype="datetime64[us]")
    if isinstance(texts, list):
        series = pd.Series(texts, dtype=object)
    else:  # a pyarrow array: pandas reads it without Python strings
        series = pd.Series(pd.arrays.ArrowStringArray(texts.cast("large_string")))
    parsed = pd.to_datetime(series, format="ISO8601", utc=True, errors="coerce")
    out = np.array(parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[us]"))
    failed = np.flatnonzero(np.isnat(out))
    if len(failed):
        values = series.iloc[failed].tolist()
        for i, value in zip(failed.tolist(), values, strict=True):
            out[i] = _one_stamp(value)
    return out
