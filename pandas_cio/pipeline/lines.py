"""The line-item stage: one call per order, and every line with its order's outcome.

A send with ``group_by=`` and ``products=`` (see :mod:`.grouping`) folds the
lines of each order into one row whose ``products`` cell is a list with one
object per line (:func:`~.products.build_products`). The pipeline then plans,
validates, gates, sends and records those order rows like any others, and the
result builder gives each line its order's row
(:class:`~pandas_cio.outcome.results.Members`): the result frame still has the
input's index, one row per line, and every line carries its order's status
and messageId.

A line is ``invalid`` when its order key is missing, and every line of an
order is ``invalid`` when a column the call reads differs between the lines
(two customers for one order id): sending the first line's value would be a
silent guess.
"""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..catalogue.operation import Operation
from ..errors import ColumnError
from ..outcome.results import Members
from ..prepare.payload_checks import vouched_arrays
from ..prepare.plan import CallPlan, PayloadSpec
from ..prepare.roles import resolve_column
from .products import PRODUCTS, build_products, item_columns, with_products

__all__ = ["Grouped", "LineItems", "group_lines"]


@dataclass(frozen=True)
class LineItems:
    """What a line-item send groups by: the order column and the line-item columns.

    Attributes
    ----------
    group_by : hashable
        The column whose value names a line's order.
    products : list of columns or {column: key} mapping
        The line-item columns that make each element of ``products``.
    """

    group_by: Hashable
    products: Any


@dataclass(frozen=True)
class Grouped:
    """The lines of a frame as one row per order, and what maps the outcomes back.

    Attributes
    ----------
    orders : pandas.DataFrame
        One row per order (in order of first line), with a ``products`` column.
    payload : list, mapping or None
        The payload spec, which still sends ``products``.
    members : Members
        Each line's order (the result builder spreads outcomes with it).
    lines : pandas.DataFrame
        The input.
    key : hashable
        The order column.
    """

    orders: pd.DataFrame
    payload: PayloadSpec
    members: Members
    lines: pd.DataFrame
    key: Hashable
    _first: np.ndarray
    _built: list[list[dict[str, Any]]]
    _checked: np.ndarray | None

    def vouched(self) -> AbstractContextManager[None]:
        """While validating: take each built array's element check from the build."""
        if self._checked is None:
            return nullcontext()
        return vouched_arrays(self._built, self._checked)

    def conflicts(self, plan: CallPlan) -> dict[int, str]:
        """Orders whose lines differ in a column the plan reads, with the first such column."""
        codes = self.members.codes
        keyed = codes >= 0
        reasons = np.full(len(self.orders), None, dtype=object)
        # Lines in no order compare with line 0 (there may be no order at all).
        reference = (
            self._first[np.where(keyed, codes, 0)]
            if len(self.orders)
            else np.zeros(len(codes), np.intp)
        )
        for column in plan.columns:
            if column in (PRODUCTS, self.key) or column not in self.lines.columns:
                continue
            bad = np.unique(codes[keyed & _differs(self.lines[column], reference)])
            fresh = bad[pd.isna(reasons[bad])]
            reasons[fresh] = f"{column}: differs between the lines of this order"
        return {int(i): str(reasons[i]) for i in np.flatnonzero(~pd.isna(reasons))}


def group_lines(
    frame: pd.DataFrame, op: Operation, payload: PayloadSpec, items: LineItems
) -> Grouped:
    """Fold the lines of ``frame`` into one row per order of ``op``.

    Raises
    ------
    ColumnError
        ``op`` has no ``products`` array, the frame already has a ``products``
        column, or ``group_by=`` or ``products=`` names no column.
    """
    if PRODUCTS not in op.payload_fields:
        raise ColumnError(f"{op.event or op.name} has no {PRODUCTS!r} array to group lines into")
    if PRODUCTS in frame.columns:
        raise ColumnError(f"the frame already has a {PRODUCTS!r} column; rename it to group lines")
    key = resolve_column(frame, "group_by", items.group_by)
    pairs = item_columns(frame, items.products)
    codes, _ = pd.factorize(frame[key], use_na_sentinel=True)
    _, first = np.unique(codes, return_index=True)
    first = first[codes[first] >= 0]  # drop the missing-key "group"

    line_columns = {column for column, _ in pairs}
    orders = frame.iloc[first].drop(columns=[c for c in frame.columns if c in line_columns])
    orders = orders.reset_index(drop=True)
    documented = op.payload_fields[PRODUCTS].items or {}
    integers = frozenset(k for k, kind in documented.items() if kind == "integer")
    built, checked = build_products(frame, pairs, codes, len(first), integers, documented)
    orders[PRODUCTS] = pd.Series(built, dtype=object)
    members = Members(codes, frame.index, f"{key}: is missing (the line belongs to no order)")
    return Grouped(orders, with_products(payload), members, frame, key, first, built, checked)


def _same(a: Any, b: Any) -> bool:
    """Equality of two cells where missing equals missing and arrays compare by content."""
    if a is b:
        return True
    a_missing, b_missing = _missing(a), _missing(b)
    if a_missing or b_missing:
        return a_missing and b_missing
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # numpy arrays and other cells without a scalar ==
        return repr(a) == repr(b)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like cells are values, never missing
        return False


def _differs(series: pd.Series, reference: np.ndarray) -> np.ndarray:
    """Lines whose value differs from the value on their order's first line."""
    if series.dtype != object:
        # Typed columns (numbers, strings, datetimes) compare vectorised.
        values = series.reset_index(drop=True)
        first = series.iloc[reference].reset_index(drop=True)
        same = values.eq(first).fillna(False) | (values.isna() & first.isna())
        return ~same.to_numpy(dtype=bool)
    cells = series.to_numpy()
    return np.fromiter(
        (not _same(a, b) for a, b in zip(cells, cells[reference], strict=True)),
        dtype=bool,
        count=len(cells),
    )
