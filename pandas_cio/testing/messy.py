"""Messy real-world frames and unreliable networks, ready for your own tests.

Two kinds of helpers live here:

- hypothesis strategies that draw the frames production data really looks
  like: object columns holding sets, bytes, custom objects and nested NaN,
  numpy arrays, periods, intervals, durations, naive and tz-aware
  date-times, categoricals, nullable ``Int64``/``boolean``/``string``
  columns, integer ids above 2**53, duplicate index labels, MultiIndexes,
  non-string column names, empty frames and a million-character string;
- named presets of :class:`~pandas_cio.testing.Fault` lists for
  :meth:`FakeCio.inject <pandas_cio.testing.FakeCio.inject>`, such as
  :func:`flaky` (a share of requests answered 503/500/429 or reset).

The cells the frames are drawn from are in :mod:`pandas_cio.testing._messy_values`
and the presets in :mod:`pandas_cio.testing._fault_presets`; every name is
public here.

Examples
--------
>>> from hypothesis import given, settings
>>> from pandas_cio.testing import FakeCio, messy
>>> with FakeCio() as fake:
...     fake.inject(*messy.flaky(rate=0.3))
...     len(fake.requests)
0

Column labels can be anything a frame allows (None, NaN, numbers), and a
label that cannot be a JSON key is refused when it would be sent; naming the
columns to send keeps the example about the rows:

>>> @settings(max_examples=5)
... @given(messy.messy_frames(max_rows=5))
... def test_one_status_per_row(frame):
...     result = frame.cio.identify(user_id="id", traits=[], dry_run=True)
...     assert len(result) == len(frame)
>>> test_one_status_per_row()
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Sequence
from typing import Any

import pandas as pd
from hypothesis import strategies as st

from pandas_cio.testing._fault_presets import (
    flaky,
    hangs,
    outage,
    refused,
    resets,
    retry_after_date,
    throttled,
)
from pandas_cio.testing._messy_values import (
    HUGE_TEXT,
    ZONES,
    Opaque,
    big_ints,
    json_values,
    messy_values,
    naive_datetimes,
    unencodable_values,
)

__all__ = [
    "COLUMN_KINDS",
    "HUGE_TEXT",
    "Opaque",
    "column_names",
    "flaky",
    "hangs",
    "id_columns",
    "indexes",
    "json_values",
    "messy_columns",
    "messy_frames",
    "messy_values",
    "outage",
    "refused",
    "resets",
    "retry_after_date",
    "throttled",
    "unencodable_values",
]

# Columns

#: The kinds of column :func:`messy_columns` draws.
COLUMN_KINDS: tuple[str, ...] = (
    "object",
    "categorical",
    "Int64",
    "boolean",
    "string",
    "float",
    "bigint",
    "datetime",
    "datetime_tz",
    "timedelta",
    "period",
    "interval",
    "huge_text",
)


@st.composite
def messy_columns(draw: st.DrawFn, n: int, kind: str | None = None) -> pd.Series:
    """A column of ``n`` rows of one kind from :data:`COLUMN_KINDS`, with missing values.

    Parameters
    ----------
    n : int
        Number of rows.
    kind : str, optional
        One of :data:`COLUMN_KINDS`; drawn when None.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of pandas.Series
        With a RangeIndex; the caller sets the frame's index.
    """
    kind = kind or draw(st.sampled_from(COLUMN_KINDS))
    present = draw(st.lists(st.booleans(), min_size=n, max_size=n))

    def cells(values: st.SearchStrategy[Any], missing: Any = None) -> list[Any]:
        return [draw(values) if keep else missing for keep in present]

    if kind == "object":
        return pd.Series(draw(st.lists(messy_values(), min_size=n, max_size=n)), dtype=object)
    if kind == "categorical":
        options: list[list[Any]] = [["free", "pro", "team"], [1, 2, 3], [dt.date(2024, 1, 1)]]
        categories = draw(st.sampled_from(options))
        return pd.Series(pd.Categorical(cells(st.sampled_from(categories)), categories=categories))
    if kind == "Int64":
        return pd.Series(pd.array(cells(st.integers(-(2**62), 2**62)), dtype="Int64"))
    if kind == "boolean":
        return pd.Series(pd.array(cells(st.booleans()), dtype="boolean"))
    if kind == "string":
        return pd.Series(pd.array(cells(st.text(max_size=30)), dtype="string"))
    if kind == "float":
        finite = st.floats(allow_nan=False, allow_infinity=False)
        values = st.one_of(finite, finite, st.sampled_from([math.inf, -math.inf]))
        return pd.Series(cells(values, math.nan), dtype="float64")
    if kind == "bigint":
        return pd.Series([draw(big_ints()) for _ in range(n)], dtype="int64")
    if kind == "datetime":
        return pd.Series(cells(naive_datetimes(), pd.NaT), dtype="datetime64[ns]")
    if kind == "datetime_tz":
        zone = draw(st.sampled_from(ZONES))
        naive = pd.Series(cells(naive_datetimes(), pd.NaT), dtype="datetime64[ns]")
        return naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    if kind == "timedelta":
        return pd.Series(pd.to_timedelta(cells(st.integers(0, 10**6), None), unit="s"))
    if kind == "period":
        days = cells(st.integers(0, 20_000), None)
        periods = [None if d is None else pd.Period("1970-01-01", freq="D") + d for d in days]
        return pd.Series(periods, dtype=pd.PeriodDtype("D"))
    if kind == "interval":
        starts = cells(st.integers(-100, 100), None)
        intervals: list[Any] = [None if s is None else pd.Interval(s, s + 1) for s in starts]
        return pd.Series(pd.arrays.IntervalArray(intervals, closed="right"))
    if kind == "huge_text":
        where = draw(st.integers(0, max(n - 1, 0)))
        return pd.Series([HUGE_TEXT if i == where else f"t{i}" for i in range(n)], dtype=object)
    raise ValueError(f"unknown column kind {kind!r}; choose from {COLUMN_KINDS}")


@st.composite
def id_columns(draw: st.DrawFn, n: int) -> pd.Series:
    """An id column the way exports deliver them: strings, huge ints, floats, gaps, blanks.

    Parameters
    ----------
    n : int
        Number of rows.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of pandas.Series
    """
    text_ids = st.one_of(
        st.text(min_size=1, max_size=12),
        st.sampled_from(["", "   ", "u-1", "u-1"]),  # blanks and repeated ids
    )
    kind = draw(st.sampled_from(["str", "int64", "bigint", "Int64", "float", "object", "category"]))
    if kind == "str":
        values = draw(st.lists(st.one_of(text_ids, st.none()), min_size=n, max_size=n))
        return pd.Series(values, dtype="str")
    if kind == "int64":
        return pd.Series(draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)))
    if kind == "bigint":
        return pd.Series(draw(st.lists(big_ints(), min_size=n, max_size=n)), dtype="int64")
    if kind == "Int64":
        ints = st.one_of(st.none(), st.integers(0, 2**62))
        return pd.Series(pd.array(draw(st.lists(ints, min_size=n, max_size=n)), dtype="Int64"))
    if kind == "float":
        floats = st.one_of(st.integers(0, 2**40).map(float), st.just(math.nan), st.floats(0.1, 0.9))
        return pd.Series(draw(st.lists(floats, min_size=n, max_size=n)), dtype="float64")
    if kind == "category":
        values = draw(st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n))
        return pd.Series(pd.Categorical(values))
    mixed = st.one_of(
        text_ids,
        st.integers(-(2**70), 2**70),
        st.none(),
        st.booleans(),
        st.floats(),
        st.builds(Opaque),
    )
    return pd.Series(draw(st.lists(mixed, min_size=n, max_size=n)), dtype=object)


@st.composite
def indexes(draw: st.DrawFn, n: int) -> pd.Index:
    """An index of ``n`` labels: a RangeIndex, duplicate labels, strings, dates or a MultiIndex.

    Parameters
    ----------
    n : int
        Number of labels.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of pandas.Index
    """
    kind = draw(st.sampled_from(["range", "duplicates", "text", "dates", "multi"]))
    if kind == "range":
        start = draw(st.integers(-5, 5))
        return pd.RangeIndex(start, start + n)
    if kind == "duplicates":
        return pd.Index(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    if kind == "text":
        return pd.Index(draw(st.lists(st.text(max_size=3), min_size=n, max_size=n)), dtype=object)
    if kind == "dates":
        return pd.DatetimeIndex(
            draw(st.lists(naive_datetimes(), min_size=n, max_size=n)), dtype="datetime64[ns]"
        )
    first = draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n))
    second = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return pd.MultiIndex.from_arrays([first, second], names=["group", None])


def column_names(exclude: Sequence[Hashable] = ()) -> st.SearchStrategy[Hashable]:
    """Column labels as found in the wild: text, integers, floats, tuples, booleans, None.

    Parameters
    ----------
    exclude : sequence of hashable
        Labels never drawn (e.g. the id column's).

    Returns
    -------
    hypothesis.strategies.SearchStrategy
    """
    names = st.one_of(
        st.text(max_size=10),
        st.integers(-5, 10**6),
        st.sampled_from([0.5, True, None, ("a", "b"), ("x", 1)]),
    )
    excluded = list(exclude)
    # Compared by type and value: True == 1 and 0.0 == 0 are different labels.
    return names.filter(lambda name: not any(_same_label(name, e) for e in excluded))


def _same_label(a: Hashable, b: Hashable) -> bool:
    return type(a) is type(b) and a == b


@st.composite
def messy_frames(
    draw: st.DrawFn,
    *,
    min_rows: int = 0,
    max_rows: int = 12,
    max_columns: int = 4,
    id_column: Hashable = "id",
    kinds: Sequence[str] = COLUMN_KINDS,
    exclude_labels: Sequence[Hashable] = (),
) -> pd.DataFrame:
    """A messy frame: an id column, a few messy columns, an awkward index.

    Parameters
    ----------
    min_rows, max_rows : int
        Bounds on the number of rows (0 allowed: empty frames).
    max_columns : int
        Most columns besides the id column.
    id_column : hashable
        Label of the id column (always present, always the first column).
    kinds : sequence of str
        Kinds of column to draw from (see :data:`COLUMN_KINDS`).
    exclude_labels : sequence of hashable
        Column labels never drawn.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of pandas.DataFrame
        Column labels are unique; the id column is always named ``id_column``.
    """
    n = draw(st.integers(min_rows, max_rows))
    names = column_names(exclude=[id_column, *exclude_labels])
    labels = draw(st.lists(names, max_size=max_columns, unique=True))
    data: dict[Hashable, pd.Series] = {id_column: draw(id_columns(n))}
    for label in labels:
        data[label] = draw(messy_columns(n, draw(st.sampled_from(list(kinds)))))
    # Build by position, then label: tuple labels must stay plain labels, not
    # become a MultiIndex of columns.
    frame = pd.DataFrame(dict(enumerate(data.values())))
    frame.columns = pd.Index(list(data), dtype=object, tupleize_cols=False)
    frame.index = draw(indexes(n))
    return frame
