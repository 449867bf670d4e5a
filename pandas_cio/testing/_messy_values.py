"""Messy scalar and nested values: the cells of :mod:`pandas_cio.testing.messy`'s frames.

Hypothesis strategies for what real object columns hold (sets, bytes, custom
objects, nested NaN, ids above 2**53, date-times with and without zones), and
the constants they are built from. Public through :mod:`pandas_cio.testing.messy`.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

__all__ = [
    "HUGE_TEXT",
    "ZONES",
    "Opaque",
    "big_ints",
    "json_values",
    "messy_values",
    "naive_datetimes",
    "unencodable_values",
]

#: A string of a million characters: far over the service's 32 KB call limit.
HUGE_TEXT = "x" * 1_000_000

# Ids of this size lose digits as float64 (and in JavaScript); they must
# arrive as exact strings.
_BIG_ID = 2**53 + 1
_INT64_MAX = 2**63 - 1

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")


class Opaque:
    """A user-defined object with no JSON form, as found in real object columns."""

    __slots__ = ("tag",)

    def __init__(self, tag: int = 0) -> None:
        self.tag = tag

    def __repr__(self) -> str:
        return f"Opaque({self.tag})"


def _missing() -> st.SearchStrategy[Any]:
    return st.sampled_from([None, math.nan, np.nan, pd.NA, pd.NaT])


def naive_datetimes() -> st.SearchStrategy[dt.datetime]:
    return st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 1, 1))


def _aware_datetimes() -> st.SearchStrategy[pd.Timestamp]:
    return st.builds(
        lambda value, zone: pd.Timestamp(value).tz_localize(zone),
        naive_datetimes(),
        st.sampled_from(ZONES),
    )


def big_ints() -> st.SearchStrategy[int]:
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
        big_ints(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.decimals(allow_nan=False, allow_infinity=False, places=4),
        naive_datetimes(),
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
