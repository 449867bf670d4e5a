"""Checks of documented payload keys: JSON types, enums, bounds and array elements.

A semantic event documents some of its payload keys
(:class:`~pandas_cio.catalogue.events.PropertySpec`); validation holds their
columns to the documented type with these checks. Arrays of objects are
checked member by member in one pass per column (:class:`_FirstBadMember`),
and the column-wise grouping (:mod:`pandas_cio.pipeline.grouping`) can vouch
for arrays it built from checked columns (:func:`vouched_arrays`,
:func:`member_failures`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..catalogue.events import JsonType, PropertySpec
from .kind_checks import SeriesCheck, elementwise, is_integral, is_text_dtype
from .pandera_setup import pa

__all__ = ["member_failures", "spec_checks", "vouched_arrays"]


_TYPE_OK: dict[JsonType, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: (
        isinstance(v, int | float | np.integer | np.floating | Decimal)
        and not isinstance(v, bool | np.bool_)
    ),
    "integer": is_integral,
    "boolean": lambda v: isinstance(v, bool | np.bool_),
    "array": lambda v: isinstance(v, list | tuple | np.ndarray),
    "object": lambda v: isinstance(v, dict),
}


def _json_type_check(json_type: JsonType) -> SeriesCheck:
    ok = _TYPE_OK[json_type]

    def check(series: pd.Series) -> pd.Series:
        dtype = series.dtype
        if json_type in ("number", "integer") and pd.api.types.is_integer_dtype(dtype):
            return pd.Series(True, index=series.index)
        if json_type == "number" and pd.api.types.is_float_dtype(dtype):
            return pd.Series(True, index=series.index)
        if json_type == "boolean" and pd.api.types.is_bool_dtype(dtype):
            return pd.Series(True, index=series.index)
        if json_type == "string" and is_text_dtype(dtype):
            return pd.Series(True, index=series.index)
        return elementwise(series, ok)

    return check


_ARTICLE = {"integer": "an integer", "object": "an object (dict)", "array": "an array (list)"}


def _finite_number(value: Any) -> bool:
    return not isinstance(value, float | np.floating) or math.isfinite(value)


def _item_ok(json_type: JsonType, value: Any) -> bool:
    """A JSON value nested in an array: no null, no infinity, the documented type."""
    return value is not None and _finite_number(value) and _TYPE_OK[json_type](value)


def _array_check(element_ok: Callable[[Any], bool]) -> SeriesCheck:
    """Check every element of the array cells; cells that are not arrays fail the type check."""

    def ok(value: Any) -> bool:
        return not _TYPE_OK["array"](value) or all(element_ok(e) for e in value)

    return lambda series: elementwise(series, ok)


_EXACT: dict[JsonType, frozenset[type]] = {
    "string": frozenset({str}),
    "number": frozenset({int}),  # floats go the long way, which refuses infinity
    "integer": frozenset({int}),
    "boolean": frozenset({bool}),
    "array": frozenset({list}),
    "object": frozenset({dict}),
}

# Codes of _FirstBadMember: the row is fine, or an element is not an object;
# codes 0, 1, ... name the documented key whose value is wrong.
_MEMBERS_OK, _NOT_AN_OBJECT = -1, -2


class _FirstBadMember:
    """Find, in one pass, the first problem in each cell of an array-of-objects column.

    One check per documented key keeps each reason precise ("every element's
    price must be a number"); this shared pass keeps the cost at one visit
    per element instead of one per key. The last result is kept for the
    next check of the same column (a schema is built per validation).
    """

    def __init__(self, items: Mapping[str, JsonType]) -> None:
        self.index = {key: i for i, key in enumerate(items)}
        self.types = list(items.values())
        # Exact Python types that are always right for a key: the common case
        # then costs one set lookup instead of the general check.
        self.exact = [_EXACT[t] for t in self.types]
        self._last: tuple[np.ndarray, pd.Index, pd.Series] | None = None

    def _code(self, value: Any) -> int:
        if not _TYPE_OK["array"](value):
            return _MEMBERS_OK  # missing, or not an array: the type check reports it
        index, types, exact = self.index, self.types, self.exact
        for element in value:
            if not isinstance(element, dict):
                return _NOT_AN_OBJECT
            for key, member in element.items():
                i = index.get(key)
                # A null member is no value: Arrow structs (a list<struct>
                # column read from Parquet) have every field, null where absent.
                if (
                    i is not None
                    and member is not None
                    and type(member) not in exact[i]
                    and not _item_ok(types[i], member)
                ):
                    return i
        return _MEMBERS_OK

    def __call__(self, series: pd.Series) -> pd.Series:
        # pandera hands each check a new Series over the same column: compare the
        # memory it views. The cached array stays referenced, so while it is
        # cached no other array can take its address.
        cells = series.to_numpy(dtype=object)
        last = self._last
        if (
            last is not None
            and last[0].ctypes.data == cells.ctypes.data
            and len(last[0]) == len(cells)
            and last[1].equals(series.index)
        ):
            return last[2]
        if _VOUCHED:
            known = _VOUCHED.get
            found = [known(id(v)) for v in cells]
            values = [
                self._code(v) if code is None else code
                for v, code in zip(cells, found, strict=True)
            ]
        else:
            values = [self._code(v) for v in cells]
        codes = pd.Series(values, index=series.index, dtype="int64")
        self._last = (cells, series.index, codes)
        return codes


# Arrays whose elements were checked column by column before they were built
# (pipeline/products.py): id of the list -> its _FirstBadMember code. An id is here only
# while vouched_arrays runs, which holds the lists, so no other object can
# have that id meanwhile. Plain ints: the collector never walks this dict.
_VOUCHED: dict[int, int] = {}


@contextmanager
def vouched_arrays(arrays: Sequence[list[Any]], codes: np.ndarray) -> Iterator[None]:
    """Let validation take each array's element check from ``codes`` while in the block.

    Parameters
    ----------
    arrays : sequence of list
        Arrays of objects, as built for an array-of-objects column.
    codes : numpy.ndarray
        For each array: -1 when every element is right, else the documented
        position of the key of the first wrong member (first element first,
        keys in element order), as :class:`_FirstBadMember` would find it.
    """
    ids = list(map(id, arrays))
    _VOUCHED.update(zip(ids, codes.tolist(), strict=True))
    try:
        yield
    finally:
        for key in ids:
            _VOUCHED.pop(key, None)
        del arrays  # held until here, so the ids stayed theirs


def member_failures(series: pd.Series, values: Sequence[Any], json_type: JsonType) -> np.ndarray:
    """Which of a column's values would be a wrong member of an array element.

    Parameters
    ----------
    series : pandas.Series
        The column the values come from (its dtype decides the fast paths).
    values : sequence
        The column's JSON-ready values (``None`` where missing: a missing
        member is left out of its element, so it is never wrong).
    json_type : JsonType
        The member's documented type.

    Returns
    -------
    numpy.ndarray of bool
        True where :class:`_FirstBadMember` would find the member wrong.
    """
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and json_type in ("number", "integer"):
        return np.zeros(len(values), dtype=bool)
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and json_type == "number":
        return np.zeros(len(values), dtype=bool)  # infinity was made missing
    if is_text_dtype(dtype) and json_type == "string":
        return np.zeros(len(values), dtype=bool)
    exact = _EXACT[json_type]
    return np.fromiter(
        (v is not None and type(v) not in exact and not _item_ok(json_type, v) for v in values),
        dtype=bool,
        count=len(values),
    )


def _not_code(first_bad: _FirstBadMember, code: int) -> SeriesCheck:
    return lambda series: first_bad(series) != code


def spec_checks(spec: PropertySpec) -> list[pa.Check]:
    """Checks of a documented payload key: type, enum, bounds and array elements."""
    article = _ARTICLE.get(spec.type, f"a {spec.type}")
    checks = [pa.Check(_json_type_check(spec.type), error=f"must be {article}")]
    if spec.enum:
        allowed = frozenset(spec.enum)
        checks.append(
            pa.Check(
                lambda s: elementwise(s, lambda v: isinstance(v, str) and v in allowed),
                error=f"must be one of {', '.join(spec.enum)}",
            )
        )
    if spec.minimum is not None or spec.maximum is not None:
        low = -math.inf if spec.minimum is None else spec.minimum
        high = math.inf if spec.maximum is None else spec.maximum
        checks.append(
            pa.Check(
                lambda s: elementwise(s, lambda v: not _TYPE_OK["number"](v) or low <= v <= high),
                error=f"must be between {spec.minimum} and {spec.maximum}",
            )
        )
    if spec.items is not None:
        first_bad = _FirstBadMember(spec.items)
        checks.append(
            pa.Check(_not_code(first_bad, _NOT_AN_OBJECT), error="must be an array of objects")
        )
        for code, (key, item_type) in enumerate(spec.items.items()):
            article = _ARTICLE.get(item_type, f"a {item_type}")
            checks.append(
                pa.Check(
                    _not_code(first_bad, code), error=f"every element's {key} must be {article}"
                )
            )
    elif spec.item_type is not None:
        item_type = spec.item_type
        article = _ARTICLE.get(item_type, f"a {item_type}")
        checks.append(
            pa.Check(
                _array_check(lambda e: _item_ok(item_type, e)),
                error=f"every element must be {article}",
            )
        )
    return checks
