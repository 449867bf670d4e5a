"""The JSON text of whole columns, as Arrow string arrays, for column-wise encoding.

orjson writes a value inside an object exactly as it writes it alone: compact,
with keys sorted at every level. So a call's bytes are the concatenation of
its members (``"key":value``) in sorted key order, and the JSON text of a
column's values can be made for the whole column at once: one ``orjson.dumps``
of a numeric array, a vectorised quote of a text column that needs no escapes,
one formatting pass over a time column. The texts live in Arrow arrays, so
concatenating a row's members runs in Arrow's C++ kernels rather than in a
Python loop. ``tests/unit/prepare/test_encoding_equivalence.py`` proves the bytes equal one
``orjson.dumps`` per row of the row's dict.

A value orjson refuses makes its row *suspect*; the encoder re-encodes such
rows the reference way, which names the culprit column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..catalogue.kinds import KINDS, Kind
from .dates import DateOrder
from .values import JSON_OPTIONS, column_values, json_default, parse_timestamps

__all__ = [
    "TEXT",
    "Piece",
    "Values",
    "buffer",
    "column_json",
    "join",
    "list_texts",
    "strings",
    "value_text",
]

TEXT = pa.large_string()
_EMPTY = pa.scalar("", TEXT)
_COMMA = 44
# Bytes orjson escapes in a string: the controls, the quote and the backslash.
_QUOTE, _BACKSLASH, _FIRST_PRINTABLE = 34, 92, 32
# What str.strip() removes: characters for which str.isspace() is true. A
# non-blank id is kept as it is; only rows starting with one of these can be blank.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_WHITESPACE = pa.array(list(WHITESPACE), TEXT)
# Where Arrow's and numpy's date-time text agree (the datetime64[ns] range).
_ARROW_FIRST = int(np.datetime64("1678-01-01", "ms").astype(np.int64))
_ARROW_LAST = int(np.datetime64("2261-12-31", "ms").astype(np.int64))
_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


# A piece of a row-wise concatenation: a str (the same text in every row) or
# a pyarrow string array (one text per row). pyarrow has no type stubs.
Piece: TypeAlias = Any


def join(pieces: Sequence[Piece], rows: int) -> pa.Array:
    """Concatenate the pieces row by row into ``rows`` strings; a null piece gives null."""
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece  # fewer arguments for the kernel
        elif not (isinstance(piece, str) and not piece):
            merged.append(piece)
    if not any(isinstance(p, pa.Array) for p in merged):
        return pa.array(["".join(p for p in merged if isinstance(p, str))] * rows, TEXT)
    parts = [pa.scalar(p, TEXT) if isinstance(p, str) else p for p in merged]
    return pc.binary_join_element_wise(*parts, _EMPTY)


def strings(values: Sequence[str | None]) -> pa.Array:
    """An Arrow string array of Python strings (None is null)."""
    return pa.array(values, TEXT)


def buffer(array: pa.Array) -> tuple[memoryview, np.ndarray]:
    """The bytes behind a large_string array and its ``len + 1`` offsets into them.

    Row ``i`` is ``data[bounds[i] : bounds[i + 1]]``; no copy is made.
    """
    _, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    return memoryview(data if data is not None else b""), bounds


@dataclass(frozen=True)
class Values:
    """The JSON text of each value of a column.

    Row ``i``'s text is ``head + array[i] + tail``; a null in ``array`` means
    the row has no value (the reference's ``None``). Keeping the constant
    head and tail apart lets the encoder hand them to one concatenation with
    everything else, instead of making a new array per column.
    """

    array: pa.Array
    head: str = ""
    tail: str = ""


def value_text(value: Any, depth: int) -> str:
    """Return the JSON text orjson writes for ``value`` nested ``depth`` containers deep.

    The depth matters only for orjson's recursion limit: wrapping the value in
    as many lists as it will have containers above it in the call makes a too
    deeply nested cell fail here exactly when it would fail in the call.

    Raises
    ------
    TypeError
        orjson cannot encode the value.
    """
    wrapped = value
    for _ in range(depth):
        wrapped = [wrapped]
    encoded = orjson.dumps(wrapped, default=json_default, option=JSON_OPTIONS)
    return encoded[depth : len(encoded) - depth].decode()


def _plain_strings(values: Sequence[Any]) -> bool:
    """Whether every non-None value is a str that orjson writes as ``"value"`` verbatim."""
    try:
        joined = "".join(values)
    except TypeError:  # a None (missing) or a value that is not a str
        try:
            joined = "".join([v for v in values if v is not None])
        except TypeError:
            return False
    if _ESCAPE.search(joined) is not None:
        return False
    if not joined.isascii():
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, which orjson refuses
            return False
    return True


def list_texts(values: Sequence[Any], depth: int, bad: set[int]) -> Values:
    """JSON text of each value of a list (null for None); failures go to ``bad``."""
    if _plain_strings(values):
        return Values(pa.array(values, TEXT), '"', '"')
    texts: list[str | None] = []
    append = texts.append
    for position, value in enumerate(values):
        if value is None:
            append(None)
            continue
        try:
            append(value_text(value, depth))
        except TypeError:
            bad.add(position)
            append(None)
    return Values(pa.array(texts, TEXT))


def _string_array(series: pd.Series) -> pa.Array | None:
    """The Arrow array behind an Arrow-backed string column, else None."""
    dtype = series.dtype
    arrow = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype)
        and (
            pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
        )
    )
    if not arrow:
        return None
    array = pa.array(series.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(TEXT)


def _escaped_rows(array: pa.Array) -> np.ndarray:
    """Rows of a large_string array with a byte orjson escapes."""
    _, offsets_buffer, data_buffer = array.buffers()
    if data_buffer is None:
        return np.empty(0, dtype=np.int64)
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
    hits = np.flatnonzero((data < _FIRST_PRINTABLE) | (data == _QUOTE) | (data == _BACKSLASH))
    if len(hits) == 0:
        return hits
    return np.unique(np.searchsorted(offsets, hits + offsets[0], side="right") - 1)


def _quoted(array: pa.Array) -> Values:
    """JSON text of each string of a large_string array (null stays null)."""
    rows = _escaped_rows(array)
    if len(rows):
        # A null slot may still span bytes in the buffer; it stays null.
        values = array.take(pa.array(rows)).to_pylist()
        rows = rows[[v is not None for v in values]]
    if len(rows) == 0:
        return Values(array, '"', '"')
    values = array.take(pa.array(rows)).to_pylist()
    fixed = pa.array([orjson.dumps(v).decode() for v in values], TEXT)
    mask = np.zeros(len(array), dtype=bool)
    mask[rows] = True
    quoted = join(['"', array, '"'], len(array))
    return Values(pc.replace_with_mask(quoted, pa.array(mask), fixed))


def _blank_ids(array: pa.Array) -> pa.Array:
    """Null out the ids that str.strip() would leave empty (they are not ids)."""
    first = pc.utf8_slice_codeunits(array, 0, 1)
    maybe = pc.or_(pc.equal(first, _EMPTY), pc.is_in(first, value_set=_WHITESPACE))
    rows = np.flatnonzero(maybe.fill_null(False).to_numpy(zero_copy_only=False))
    if len(rows) == 0:
        return array
    values = array.take(pa.array(rows)).to_pylist()
    blank = [v is not None and not v.strip() for v in values]
    if not any(blank):
        return array
    mask = np.zeros(len(array), dtype=bool)
    mask[rows[np.array(blank)]] = True
    return pc.if_else(pa.array(mask), pa.scalar(None, TEXT), array)


def _numeric_texts(array: np.ndarray) -> pa.Array:
    """JSON text of each number of a numpy bool, integer or float array.

    NaN and infinity (which the reference sends as no value) are null.
    """
    missing = None
    if array.dtype.kind == "f":
        # Python floats (what the reference sees) are float64: a float32 array
        # written as float32 would print fewer digits.
        array = array.astype(np.float64, copy=False)
        missing = ~np.isfinite(array)
    # Numbers never contain a comma, so the commas of one JSON array mark the
    # values: one dumps call and no Python object per value.
    body = np.frombuffer(orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY), np.uint8)[1:-1]
    commas = body == _COMMA
    ends = np.empty(len(array), dtype=np.int64)
    ends[:-1] = np.flatnonzero(commas)
    ends[-1] = len(body)
    offsets = np.zeros(len(array) + 1, dtype=np.int64)
    offsets[1:] = ends - np.arange(len(array))  # positions once the commas are gone
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(body[~commas])]
    if missing is not None and missing.any():
        buffers[0] = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(TEXT, len(array), buffers)


def _datetime_texts(series: pd.Series) -> Values:
    """Quoted ISO 8601 UTC text of a datetime column, exactly as values.iso_utc writes it."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    array = series.to_numpy(dtype="datetime64[ms]")
    missing = np.isnat(array)
    ints = array.view(np.int64)
    present = ints[~missing]
    if len(present) == 0 or (present.min() >= _ARROW_FIRST and present.max() <= _ARROW_LAST):
        # Arrow formats "YYYY-MM-DD HH:MM:SS.mmm" several times faster than
        # numpy; within four-digit years the two agree once the space is a T.
        stamps = pa.array(ints, pa.timestamp("ms"), mask=missing).cast(TEXT)
        iso = pc.utf8_replace_slice(stamps, 10, 11, "T")
    else:
        iso = pa.array(np.datetime_as_string(array, unit="ms"), TEXT, mask=missing)
    return Values(iso, '"', 'Z"')


def _is_datetime(dtype: Any) -> bool:
    return isinstance(dtype, pd.DatetimeTZDtype) or (
        isinstance(dtype, np.dtype) and dtype.kind == "M"
    )


def column_json(
    series: pd.Series, kind: Kind, depth: int, bad: set[int], order: DateOrder | None = None
) -> Values:
    """Return the JSON text of each value of a column, as the reference would write it.

    Parameters
    ----------
    series : pandas.Series
        The column (any dtype), positionally aligned with the slice.
    kind : Kind
        What the role needs; its row's ``wire`` form decides the text
        (see :func:`pandas_cio.prepare.values.column_values`).
    depth : int
        Containers above the value in the call.
    bad : set of int
        Receives the positions whose value orjson refuses.
    order : {"day", "month", "neither"}, optional
        For a timestamp of strings: the whole column's day/month order.

    Returns
    -------
    Values
        Null where the row has no value (or its value was refused).
    """
    dtype = series.dtype
    if len(series) == 0:
        return Values(pa.array([], TEXT))
    wire = KINDS[kind].wire
    is_id = wire == "id-string"
    if wire == "iso-utc" or (not is_id and _is_datetime(dtype)):
        if wire == "iso-utc" and not _is_datetime(dtype):
            series = parse_timestamps(series, order)
        return _datetime_texts(series)
    strings = _string_array(series)
    if strings is not None:
        return _quoted(_blank_ids(strings) if is_id else strings)
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        if is_id and dtype.kind in "iu":
            return Values(pa.array(series.to_numpy()).cast(TEXT), '"', '"')
        if not is_id:
            return Values(_numeric_texts(np.ascontiguousarray(series.to_numpy())))
    if isinstance(dtype, pd.CategoricalDtype) and not is_id:
        own: set[int] = set()
        categories = column_json(pd.Series(dtype.categories), kind, depth, own)
        codes = series.cat.codes.to_numpy()
        if own:
            bad.update(np.flatnonzero(np.isin(codes, list(own))).tolist())
        taken = categories.array.take(pa.array(codes, mask=codes < 0))
        return Values(taken, categories.head, categories.tail)
    return list_texts(column_values(series, kind), depth, bad)
