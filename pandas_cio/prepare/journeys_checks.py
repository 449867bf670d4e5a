"""Checks only Customer.io Journeys needs: its limits and the names it routes elsewhere.

Journeys, the destination behind the Data Pipelines API, drops calls the API
accepts (see :mod:`pandas_cio.catalogue.operation` for the limits). The plan
marks the sources these checks apply to when a send has ``journeys=True``;
:mod:`pandas_cio.prepare.validation` runs them with the type checks.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa_arrow
import pyarrow.compute as pc

from ..catalogue.operation import (
    MAX_ATTRIBUTE_NAME_BYTES,
    MAX_ATTRIBUTE_VALUE_BYTES,
    MAX_ATTRIBUTES,
)
from ..catalogue.reserved import JOURNEYS_OFF, RESERVED_EVENTS
from .call_plan import CallPlan, Source
from .kind_checks import elementwise, is_text_dtype
from .pandera_setup import pa
from .values import JSON_OPTIONS, json_default

__all__ = [
    "attribute_columns",
    "attribute_counts",
    "attribute_reasons",
    "byte_sizes",
    "journeys_checks",
    "reserved_names",
    "reserved_reasons",
    "too_many_attributes",
]


def _json_bytes(value: Any) -> int:
    """Bytes of a value on the wire: a string's UTF-8, anything nested its JSON."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, dict | list | tuple | np.ndarray):
        try:
            return len(orjson.dumps(value, default=json_default, option=JSON_OPTIONS))
        except TypeError:
            return 0  # no JSON form: the type checks report the row
    return 0  # numbers, booleans and date-times are far below any limit


def byte_sizes(series: pd.Series, limit: int) -> np.ndarray:
    """Wire bytes of each value of a column, exact where they may exceed ``limit``.

    Strings are measured with Arrow's kernels; other objects one by one, but
    only when they can be long (a string of at most ``limit // 4`` characters
    cannot exceed ``limit`` UTF-8 bytes). Missing values and numbers count 0.
    """
    dtype = series.dtype
    if not (pd.api.types.is_object_dtype(dtype) or is_text_dtype(dtype)):
        return np.zeros(len(series), dtype=np.int64)
    kind = "string" if is_text_dtype(dtype) else pd.api.types.infer_dtype(series, skipna=True)
    if kind == "empty":
        return np.zeros(len(series), dtype=np.int64)
    if kind == "string":
        try:
            values = pa_arrow.array(series, type=pa_arrow.large_string(), from_pandas=True)
        except (pa_arrow.ArrowException, UnicodeError):
            pass  # lone surrogates: measured one by one below
        else:
            lengths = pc.fill_null(pc.binary_length(values), 0)
            return np.asarray(lengths.to_numpy(zero_copy_only=False), dtype=np.int64)
    quick = limit // 4

    def size(value: Any) -> int:
        if isinstance(value, str) and len(value) <= quick:
            return 0
        return _json_bytes(value)

    cells = series.to_numpy(dtype=object)
    return np.fromiter((size(v) for v in cells), dtype=np.int64, count=len(cells))


def reserved_names(series: pd.Series) -> pd.Series:
    """The reserved event name of each cell (missing where a cell holds none).

    One hash lookup over the column finds the few cells that hold one; only
    those are looked at again.
    """
    names = list(RESERVED_EVENTS)
    try:
        hits = series.isin(names).to_numpy(dtype=bool)
    except TypeError:  # unhashable cells are no names; the text check reports them
        hits = elementwise(series, lambda v: isinstance(v, str) and v in RESERVED_EVENTS).to_numpy(
            dtype=bool
        )
    out = pd.Series(None, index=series.index, dtype=object)
    if hits.any():
        out[hits] = series[hits].astype(object)
    return out


def journeys_checks(source: Source, by_hand: bool) -> list[pa.Check]:
    """Checks only Customer.io Journeys needs (the plan sets them with journeys=True).

    ``by_hand``: leave out the checks :func:`validate` makes itself, with a
    reason per row that pandera cannot give.
    """
    checks: list[pa.Check] = []
    if source.needed:
        checks.append(
            pa.Check(
                lambda s: s.notna(),
                error=f"is missing; {source.needed} ({JOURNEYS_OFF})",
                ignore_na=False,
            )
        )
    if source.max_bytes is not None:
        limit = source.max_bytes
        checks.append(
            _at_most(
                limit, f"over {limit} bytes, which Customer.io Journeys refuses in an event name"
            )
        )
    if source.reserved and not by_hand:
        checks.append(
            pa.Check(
                lambda s: reserved_names(s).isna(),
                error=(
                    "is an event name Customer.io Journeys routes to another action; send "
                    "it with the method that sends it on purpose, not track(event=...) "
                    f"({JOURNEYS_OFF})"
                ),
            )
        )
    if source.attribute:
        name_bytes = len(str(source.label).encode("utf-8", "surrogatepass"))
        if name_bytes > MAX_ATTRIBUTE_NAME_BYTES:
            checks.append(
                pa.Check(
                    lambda s: s.isna(),
                    error=(
                        f"the attribute name is {name_bytes} bytes; Customer.io Journeys "
                        f"refuses names over {MAX_ATTRIBUTE_NAME_BYTES} bytes; rename the "
                        f"column ({JOURNEYS_OFF})"
                    ),
                    ignore_na=False,
                )
            )
        value_limit = MAX_ATTRIBUTE_VALUE_BYTES
        checks.append(
            _at_most(
                value_limit,
                f"over {value_limit:,} bytes, which Customer.io Journeys refuses in an "
                "attribute value",
            )
        )
    return checks


def _at_most(limit: int, refusal: str) -> Any:
    """A check that each value's UTF-8 (a nested value's JSON) is at most ``limit`` bytes."""
    return pa.Check(
        lambda s: pd.Series(byte_sizes(s, limit) <= limit, index=s.index),
        error=f"{refusal} ({JOURNEYS_OFF})",
    )


def attribute_columns(plan: CallPlan) -> list[Hashable]:
    """Columns whose values become attributes of the call (Journeys counts them)."""
    return [s.column for s in plan.sources if s.attribute and not s.is_constant]


def attribute_counts(plan: CallPlan, view: pd.DataFrame, columns: list[Hashable]) -> pd.Series:
    if plan.missing == "null":  # missing values are sent as null and count too
        return pd.Series(len(columns), index=view.index)
    return view[columns].notna().sum(axis=1)


def too_many_attributes(plan: CallPlan) -> str:
    arg = plan.operation.payload_arg or "payload"
    return (
        f"{arg}: more than {MAX_ATTRIBUTES} attributes; Customer.io Journeys refuses "
        f"calls that set more; send the columns in several calls ({JOURNEYS_OFF})"
    )


def attribute_reasons(plan: CallPlan, view: pd.DataFrame) -> dict[int, str]:
    """Rows that set more attributes than Journeys takes in one call."""
    columns = attribute_columns(plan)
    if len(columns) <= MAX_ATTRIBUTES:
        return {}
    over = (attribute_counts(plan, view, columns) > MAX_ATTRIBUTES).to_numpy()
    return dict.fromkeys(np.flatnonzero(over).tolist(), too_many_attributes(plan))


def reserved_reasons(plan: CallPlan, view: pd.DataFrame) -> dict[int, str]:
    """Rows whose event name Journeys routes to another action, each with its method."""
    reasons: dict[int, str] = {}
    for source in plan.sources:
        if not source.reserved or source.is_constant:
            continue
        names = reserved_names(view[source.column]).to_numpy(dtype=object)
        for position in np.flatnonzero(pd.notna(names)).tolist():
            reason = RESERVED_EVENTS[names[position]]
            reasons.setdefault(position, source.reason(f"{reason} ({JOURNEYS_OFF})"))
    return reasons
