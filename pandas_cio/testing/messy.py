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

Examples
--------
>>> from hypothesis import given, settings
>>> from pandas_cio.testing import FakeCio, messy
>>> with FakeCio() as fake:
...     fake.inject(*messy.flaky(rate=0.3))
...     len(fake.requests)
0

>>> @settings(max_examples=5)
... @given(messy.messy_frames(max_rows=5))
... def test_one_status_per_row(frame):
...     result = frame.cio.identify(user_id="id", dry_run=True)
...     assert len(result) == len(frame)
>>> test_one_status_per_row()
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import time
from collections.abc import Hashable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from pandas_cio.testing._types import Fault

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

#: A string of a million characters: far over the service's 32 KB call limit.
HUGE_TEXT = "x" * 1_000_000

# Ids of this size lose digits as float64 (and in JavaScript); they must
# arrive as exact strings.
_BIG_ID = 2**53 + 1
_INT64_MAX = 2**63 - 1

_ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")


class Opaque:
    """A user-defined object with no JSON form, as found in real object columns."""

    __slots__ = ("tag",)

    def __init__(self, tag: int = 0) -> None:
        self.tag = tag

    def __repr__(self) -> str:
        return f"Opaque({self.tag})"


# Scalars and nested values


def _missing() -> st.SearchStrategy[Any]:
    return st.sampled_from([None, math.nan, np.nan, pd.NA, pd.NaT])


def _naive_datetimes() -> st.SearchStrategy[dt.datetime]:
    return st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 1, 1))


def _aware_datetimes() -> st.SearchStrategy[pd.Timestamp]:
    return st.builds(
        lambda value, zone: pd.Timestamp(value).tz_localize(zone),
        _naive_datetimes(),
        st.sampled_from(_ZONES),
    )


def _big_ints() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(min_value=_BIG_ID, max_value=_INT64_MAX),
        st.integers(min_value=-_INT64_MAX, max_value=-_BIG_ID),
    )


def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Values that have a faithful JSON form, nested NaN and numpy scalars included.

    Parameters
    ----------
    max_leaves : int
        Largest number of scalars in one nested value.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
    """
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**31), max_value=2**31),
        _big_ints(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.decimals(allow_nan=False, allow_infinity=False, places=4),
        _naive_datetimes(),
        _aware_datetimes(),
        st.dates(),
        st.builds(np.int64, st.integers(min_value=-(2**40), max_value=2**40)),
        st.builds(np.float32, st.floats(width=32, allow_nan=False, allow_infinity=False)),
        st.builds(np.bool_, st.booleans()),
    )
    nested_leaves = st.one_of(scalars, st.just(math.nan))  # NaN inside lists and dicts
    nested = st.recursive(
        nested_leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.text(max_size=5), inner, max_size=3),
        ),
        max_leaves=max_leaves,
    )
    arrays = st.one_of(
        st.builds(np.array, st.lists(st.integers(-1000, 1000), max_size=4)),
        st.builds(lambda xs: np.array(xs, dtype=float), st.lists(st.floats(-1e6, 1e6), max_size=4)),
        st.builds(lambda n: np.arange(n * 2).reshape(n, 2), st.integers(0, 3)),
    )
    return st.one_of(scalars, nested, arrays)


def unencodable_values() -> st.SearchStrategy[Any]:
    """Values with no faithful JSON form; a row holding one must come back ``invalid``.

    Sets, bytes, custom objects, durations, periods, intervals, complex numbers,
    infinity, non-finite Decimals, integers beyond 64 bits, strings with lone
    surrogates, and any of those nested inside a list or a dict.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
    """
    flat = st.one_of(
        st.frozensets(st.integers(0, 9), max_size=3).map(set),
        st.frozensets(st.text(max_size=3), max_size=3),
        st.binary(max_size=8),
        st.builds(bytearray, st.binary(max_size=4)),
        st.builds(Opaque, st.integers(0, 99)),
        st.timedeltas(min_value=dt.timedelta(days=-9), max_value=dt.timedelta(days=9)),
        st.builds(pd.Timedelta, st.integers(-(10**12), 10**12)),
        st.builds(lambda d: pd.Period(d, freq="D"), st.dates()),
        st.builds(lambda a: pd.Interval(a, a + 1), st.integers(-99, 99)),
        st.complex_numbers(allow_nan=False, allow_infinity=False, min_magnitude=1),
        st.sampled_from([math.inf, -math.inf, np.inf]),
        # Decimal("NaN") is missing to pandas, like float NaN; infinity is not.
        st.sampled_from([Decimal("Infinity"), Decimal("-Infinity")]),
        st.integers(min_value=2**64, max_value=2**80),
        st.sampled_from(["lone \ud800 surrogate", "\udcff"]),
        st.builds(lambda xs: np.array(xs, dtype=object), st.lists(st.builds(Opaque), min_size=1)),
    )
    # Infinity nested in a list would be written as null by orjson, so only the
    # kinds that raise are nested here; a top-level infinity is refused by validation.
    nestable = st.one_of(
        st.frozensets(st.integers(0, 9), min_size=1, max_size=3).map(set),
        st.binary(min_size=1, max_size=8),
        st.builds(Opaque),
        st.timedeltas(max_value=dt.timedelta(days=9), min_value=dt.timedelta(days=-9)),
    )
    nested = st.one_of(
        nestable.map(lambda v: [1, v]),
        nestable.map(lambda v: {"inner": v}),
        nestable.map(lambda v: {"a": [None, {"b": v}]}),
    )
    return st.one_of(flat, nested)


def messy_values(bad: float = 0.25) -> st.SearchStrategy[Any]:
    """Cells of a real object column: mostly good values, some missing, some unencodable.

    Parameters
    ----------
    bad : float
        Rough share of unencodable values, between 0 and 1.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
    """
    if bad <= 0:
        return st.one_of(_missing(), json_values())
    if bad >= 1:
        return unencodable_values()
    # one_of draws its branches about evenly; repeat the good ones to skew the mix.
    good = max(1, round((1 - bad) / bad))
    return st.one_of(_missing(), *([json_values()] * good), unencodable_values())


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
        return pd.Series([draw(_big_ints()) for _ in range(n)], dtype="int64")
    if kind == "datetime":
        return pd.Series(cells(_naive_datetimes(), pd.NaT), dtype="datetime64[ns]")
    if kind == "datetime_tz":
        zone = draw(st.sampled_from(_ZONES))
        naive = pd.Series(cells(_naive_datetimes(), pd.NaT), dtype="datetime64[ns]")
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
        return pd.Series(draw(st.lists(_big_ints(), min_size=n, max_size=n)), dtype="int64")
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
            draw(st.lists(_naive_datetimes(), min_size=n, max_size=n)), dtype="datetime64[ns]"
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


# Fault presets


def _split(rate: float, kinds: Sequence[dict[str, Any]], **common: Any) -> list[Fault]:
    """Faults that together fire on ``rate`` of requests, each kind an equal share.

    Faults are tried in order and the first that fires answers, so the i-th of
    k faults gets probability ``(rate/k) / (1 - i*rate/k)``: what is left of
    the share after the earlier ones had their chance.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be between 0 and 1, not {rate!r}")
    share = rate / len(kinds)
    faults = []
    for i, options in enumerate(kinds):
        remaining = 1.0 - i * share
        probability = min(1.0, share / remaining) if remaining > 0 else 1.0
        faults.append(Fault(probability=probability, **common, **options))
    return faults


def retry_after_date(seconds: float) -> str:
    """Return a ``Retry-After`` HTTP date at least ``seconds`` from now.

    HTTP dates have whole seconds, so the time is rounded up: a client that
    honours the header waits at least ``seconds`` (and less than one more).

    Parameters
    ----------
    seconds : float
        How far ahead.

    Returns
    -------
    str
        For example ``"Wed, 21 Oct 2026 07:28:00 GMT"``.
    """
    when = math.ceil(time.time() + seconds)
    return email.utils.formatdate(when, usegmt=True)


def flaky(
    rate: float = 0.3,
    *,
    statuses: Sequence[int] = (503, 500, 429),
    resets: bool = True,
    paths: tuple[str, ...] | None = None,
) -> list[Fault]:
    """A service that fails ``rate`` of requests: error statuses and connection resets.

    The 429 answers come in three forms: ``Retry-After: 0`` in seconds, as an
    HTTP date already past, and without the header. Every fault answers
    without accepting anything, so a client that retries loses nothing.

    Parameters
    ----------
    rate : float
        Share of requests that fail, between 0 and 1.
    statuses : sequence of int
        Error statuses to answer with.
    resets : bool
        Also reset connections mid-body.
    paths : tuple of str, optional
        Only requests to these endpoints.

    Returns
    -------
    list of Fault
        For ``FakeCio.inject(*faults)``.
    """
    kinds: list[dict[str, Any]] = []
    for status in statuses:
        if status == 429:
            past = email.utils.formatdate(0, usegmt=True)
            kinds += [
                {"status": 429, "retry_after": "0"},
                {"status": 429, "retry_after": past},
                {"status": 429},
            ]
        else:
            kinds.append({"status": status})
    if resets:
        kinds.append({"kind": "reset"})
    return _split(rate, kinds, paths=paths)


def throttled(
    rate: float = 0.2, *, retry_after: str = "1", paths: tuple[str, ...] | None = None
) -> list[Fault]:
    """A service that answers ``rate`` of requests 429 with a ``Retry-After``.

    Parameters
    ----------
    rate : float
        Share of requests refused.
    retry_after : str
        The header: seconds (``"1"``) or an HTTP date (see :func:`retry_after_date`).
    paths : tuple of str, optional
        Only requests to these endpoints.

    Returns
    -------
    list of Fault
    """
    return _split(rate, [{"status": 429, "retry_after": retry_after}], paths=paths)


def resets(rate: float = 0.3, *, paths: tuple[str, ...] | None = None) -> list[Fault]:
    """Connections reset mid-body on ``rate`` of requests.

    Returns
    -------
    list of Fault
    """
    return _split(rate, [{"kind": "reset"}], paths=paths)


def hangs(
    rate: float = 0.1, *, seconds: float = 1.0, paths: tuple[str, ...] | None = None
) -> list[Fault]:
    """Requests held ``seconds`` without an answer, then closed (past a client's timeout).

    Parameters
    ----------
    rate : float
        Share of requests that hang.
    seconds : float
        How long each hangs; make it longer than the client's read timeout.
    paths : tuple of str, optional
        Only requests to these endpoints.

    Returns
    -------
    list of Fault
    """
    return _split(rate, [{"kind": "hang", "seconds": seconds}], paths=paths)


def outage(status: int = 503, *, count: int | None = None) -> list[Fault]:
    """Every request (or the next ``count``) answered with ``status``: the service is down.

    Returns
    -------
    list of Fault
    """
    return [Fault(status=status, count=count)]


def refused(status: int = 401, *, count: int | None = None) -> list[Fault]:
    """Every request (or the next ``count``) refused as unauthorised (401) or forbidden (403).

    Returns
    -------
    list of Fault
    """
    if status not in (401, 403):
        raise ValueError(f"status must be 401 or 403, not {status!r}")
    return [Fault(status=status, count=count)]
