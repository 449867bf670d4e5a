"""Column-at-a-time conversion of pandas data to JSON-ready Python values.

Each function takes a whole column and returns a list of Python values with
``None`` where the row has no value, so that per-row work is only building a
dict. Conversions here never raise on a bad value: a value that cannot become
what its role needs becomes ``None`` and validation, which runs first, has
already marked that row invalid with the reason.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.types as pa_types

from ..catalogue.kinds import KINDS, Kind
from .dates import DateOrder, parse_timestamps

__all__ = ["JSON_OPTIONS", "column_values", "iso_utc", "json_default", "parse_timestamps"]

# OPT_PASSTHROUGH_DATETIME routes every datetime through json_default so that
# aware values are converted to UTC, as the docs promise, instead of keeping
# their offset. Naive values are read as UTC. numpy values go there too (no
# OPT_SERIALIZE_NUMPY): orjson's own numpy support drops datetime64's "Z" and
# refuses the object arrays that Parquet lists are read as.
JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_SORT_KEYS

_DURATIONS = "convert durations to numbers, e.g. .dt.total_seconds()"
_HINTS: dict[type, str] = {
    set: "convert sets to lists",
    frozenset: "convert sets to lists",
    bytes: "decode bytes to str",
    bytearray: "decode bytes to str",
    dt.timedelta: _DURATIONS,
    pd.Timedelta: _DURATIONS,
    complex: "split complex numbers into two columns",
}


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def json_default(obj: Any) -> Any:
    """Encode the values orjson does not know, or raise TypeError with a hint.

    numpy values come here too (:data:`JSON_OPTIONS` leaves out orjson's own
    numpy support, which writes datetime64 without its ``Z`` and refuses
    object arrays): an array becomes a list, so nested cells read from Parquet
    or Arrow (arrays of dicts whose values are arrays) are sent as JSON lists,
    and a datetime64 inside one is written exactly as a datetime column is.

    Parameters
    ----------
    obj : Any
        A value orjson could not serialise itself.

    Returns
    -------
    Any
        A JSON-ready replacement.

    Raises
    ------
    TypeError
        The value has no faithful JSON form; the message says how to convert it.
    """
    if obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, dt.datetime):
        return _iso(obj)
    if isinstance(obj, dt.date | dt.time):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        if obj.is_finite():
            # A Fragment keeps every digit; float() would round money amounts.
            return orjson.Fragment(str(obj).encode())
        raise TypeError(f"Decimal {obj} is not a finite number")
    if isinstance(obj, np.ndarray):
        return _array_values(obj)
    if isinstance(obj, np.datetime64):
        return None if np.isnat(obj) else str(_iso_numpy(obj))
    if isinstance(obj, np.timedelta64):
        raise TypeError(f"timedelta64 values have no JSON form ({_DURATIONS})")
    if isinstance(obj, np.generic):
        return obj.item()
    for kind, hint in _HINTS.items():
        if isinstance(obj, kind):
            raise TypeError(f"{type(obj).__name__} values have no JSON form ({hint})")
    raise TypeError(f"{type(obj).__name__} values have no JSON form")


def _iso_numpy(value: np.datetime64 | np.ndarray) -> Any:
    """ISO 8601 text of numpy date-times, as :func:`iso_utc` writes a column."""
    return np.char.add(np.datetime_as_string(value.astype("datetime64[ms]"), unit="ms"), "Z")


def _array_values(array: np.ndarray) -> list[Any]:
    """A numpy array as a (nested) list; orjson encodes its elements, recursing here."""
    kind = array.dtype.kind
    if kind == "M":
        text = _iso_numpy(array).astype(object)
        text[np.isnat(array)] = None
        return list(text.tolist())
    if kind == "m":
        raise TypeError(f"timedelta64 arrays have no JSON form ({_DURATIONS})")
    # Numbers become Python numbers (a float32 is written as the float64 it
    # widens to, as a float32 column is); objects stay as they are.
    return list(array.tolist())


def iso_utc(series: pd.Series) -> list[str | None]:
    """Format a datetime64 column as ISO 8601 UTC strings with milliseconds.

    Naive values are read as UTC.
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    array = series.to_numpy(dtype="datetime64[ms]")
    missing = np.isnat(array)
    text = np.char.add(np.datetime_as_string(array, unit="ms"), "Z").astype(object)
    text[missing] = None
    return list(text.tolist())


def _nested_arrow(dtype: Any) -> bool:
    """An Arrow list, struct or map column (pandas with dtype_backend="pyarrow")."""
    if not isinstance(dtype, pd.ArrowDtype):
        return False
    kind = dtype.pyarrow_dtype
    return bool(pa_types.is_nested(kind) or pa_types.is_list(kind) or pa_types.is_large_list(kind))


def _arrow_cell(cell: Any) -> Any:
    """The Python value of a one-row Arrow array; maps as dicts unless a key repeats."""
    try:
        return cell.to_pylist(maps_as_pydicts="strict")[0]
    except (KeyError, ValueError):
        return cell.to_pylist()[0]


def _object_values(series: pd.Series) -> list[Any]:
    if _nested_arrow(series.dtype):
        # Arrow's own Python values: lists and dicts (no numpy arrays to
        # unwrap), aware datetimes kept aware. pandas' conversion goes through
        # numpy and reads zoned timestamps as UTC wall time when
        # PYARROW_IGNORE_TIMEZONE is set (pyspark.pandas sets it on import).
        arrow = pa.array(series.array)
        try:  # a map is a JSON object
            return list(arrow.to_pylist(maps_as_pydicts="strict"))
        except (KeyError, ValueError):  # a repeated key: that row keeps its key-value pairs
            return [_arrow_cell(arrow.slice(i, 1)) for i in range(len(arrow))]
    values = series.to_numpy(dtype=object, copy=True)
    missing = pd.isna(series).to_numpy()
    values[missing] = None
    return list(values.tolist())


def _id_value(value: Any) -> str | None:
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and math.isfinite(value) and value == int(value):
        # Ids in a float column (an int column that had a NaN) must not gain ".0".
        return str(int(value))
    return None


def _json_values(series: pd.Series) -> list[Any]:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = _json_values(pd.Series(dtype.categories))
        codes = series.cat.codes.to_numpy()
        return [None if c < 0 else categories[c] for c in codes.tolist()]
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return iso_utc(series)
    if isinstance(dtype, np.dtype):
        if dtype.kind == "f":
            array = series.to_numpy()
            out = array.astype(object)
            out[~np.isfinite(array)] = None  # inf is refused by validation; NaN is missing
            return out.tolist()
        if dtype.kind in "iub":
            return series.tolist()
    return _object_values(series)


def column_values(series: pd.Series, kind: Kind, order: DateOrder | None = None) -> list[Any]:
    """Convert one column for a role of the given kind.

    Parameters
    ----------
    series : pandas.Series
        The column (any dtype).
    kind : Kind
        What the role needs; its row's ``wire`` form decides the conversion.
    order : {"day", "month", "neither"}, optional
        For a timestamp: the day/month order of the whole column when
        ``series`` is a slice of it (:func:`pandas_cio.prepare.dates.date_order`).

    Returns
    -------
    list
        One JSON-ready value per row, ``None`` where the row has none.
    """
    wire = KINDS[kind].wire
    if wire == "iso-utc":
        return iso_utc(parse_timestamps(series, order))
    if wire == "id-string":
        return [None if v is None else _id_value(v) for v in _json_values(series)]
    return _json_values(series)
