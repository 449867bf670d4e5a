"""The values encoded calls hold at given paths, read from the plan's columns.

A ledger keys each call by a few of its fields (the person, the object, the
device token, see :mod:`pandas_cio.ledger.keys`). Decoding every call again to
read them would cost about as much as encoding it, so the encoder hands them
on beside the bytes (:attr:`~pandas_cio.prepare.encoding.EncodedSlice.fields`),
read here from the same columns and in the same way as the call was built
(:func:`~pandas_cio.prepare.call_tree.build`): a field beneath a whole-object
column (``context=``) is found inside it unless a deeper argument sets it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .dates import DateOrder
from .plan import CallPlan, Source
from .values import column_values

__all__ = ["Path", "field_values"]

Path = tuple[str, ...]


def field_values(
    plan: CallPlan, part: pd.DataFrame, path: Path, orders: Mapping[Hashable, DateOrder]
) -> np.ndarray:
    """The value each row's call holds at ``path``, None where it holds none.

    Parameters
    ----------
    plan : CallPlan
        The send's plan.
    part : pandas.DataFrame
        The plan's columns at the rows whose calls were encoded, in order.
    path : tuple of str
        Where in the call, e.g. ``("context", "device", "token")``.
    orders : mapping
        The day/month order of each timestamp column (by label), as the
        encoder decided it from the whole frame.

    Returns
    -------
    numpy.ndarray
        An object array of JSON values, as decoding the calls would give.
    """
    rows = len(part)
    out = np.full(rows, None, dtype=object)
    keep_null = plan.missing == "null"
    for source in _sources_at(plan, path):
        depth = len(source.path)
        if source.is_constant:
            values = np.empty(rows, dtype=object)
            values.fill(source.value)
        elif depth == len(path) and source.kind == "id":
            values = _ids(part[source.column])
        else:
            order = orders.get(source.column)
            found = column_values(part[source.column], source.kind, order)
            values = np.fromiter(found, dtype=object, count=rows)
        if depth == len(path):
            if source.kind == "json":
                values = np.fromiter(map(_plain, values.tolist()), dtype=object, count=rows)
            # JSON values: None is the only missing one (column_values maps NaN to it).
            present = np.asarray(pd.notna(values), dtype=bool)
            if keep_null and source.kind == "json" and not source.is_constant:
                present[:] = True  # a null is written, and hides what was beneath
            out[present] = values[present]
            continue
        branch = any(len(s.path) > depth and s.path[:depth] == source.path for s in plan.sources)
        for i, value in enumerate(values.tolist()):
            if value is None or (branch and not isinstance(value, dict)):
                # No object here: the row keeps what was beneath. (A
                # non-object under other members is dropped, see call_tree.build.)
                continue
            for key in path[depth:]:
                if not isinstance(value, dict):
                    value = _HIDDEN
                    break
                value = value.get(key, _ABSENT)
            if value is _HIDDEN:
                out[i] = None
            elif value is not _ABSENT:
                out[i] = _plain(value)
    return out


def _sources_at(plan: CallPlan, path: Path) -> list[Source]:
    """The plan's sources at ``path`` or at a path above it, shallowest first."""
    found = [s for s in plan.sources if path[: len(s.path)] == s.path]
    return sorted(found, key=lambda s: len(s.path))


# What a whole object hands on for a path it lacks: nothing (_ABSENT keeps what
# was beneath), or a non-object on the way that replaces it (_HIDDEN).
_ABSENT, _HIDDEN = object(), object()


def _plain(value: Any) -> Any:
    """A value as the call's JSON gives it back: object keys sorted, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _ids(column: pd.Series) -> np.ndarray:
    """The id each row sends (:func:`~pandas_cio.prepare.values.column_values` of kind "id").

    Text without a blank or missing value, and integers, are the common id
    columns: they are read without a Python step per row.
    """
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return column.astype("str").to_numpy(dtype=object)
    texts = isinstance(dtype, pd.StringDtype) or (
        getattr(dtype, "kind", "") == "O"
        and pd.api.types.infer_dtype(column, skipna=False) == "string"
    )
    if texts and len(column) and not column.isna().any() and not (column.str.strip() == "").any():
        return column.to_numpy(dtype=object)
    return np.fromiter(column_values(column, "id"), dtype=object, count=len(column))
