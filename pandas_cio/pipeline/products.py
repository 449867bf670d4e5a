"""The ``products`` array of an order, built from the columns of its line items.

An orders export usually has one row per line item: the order's columns
(customer, order id, revenue...) repeat on every line beside the line's own
(sku, price, quantity). :func:`build_products` makes, for each order, the
list of its lines as ``{key: value}`` objects, column by column, and checks
the members as columns so that validation need not visit every element (see
:mod:`pandas_cio.pipeline.lines`, the stage that sends one call per order).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from ..catalogue.operation import JsonType
from ..errors import ColumnError
from ..prepare.payload_checks import member_failures
from ..prepare.plan import PayloadSpec
from ..prepare.roles import resolve_column
from ..prepare.values import column_values

__all__ = ["PRODUCTS", "build_products", "item_columns", "with_products"]

#: The payload key that holds the line items.
PRODUCTS = "products"


def item_columns(frame: pd.DataFrame, products: Any) -> list[tuple[Hashable, str]]:
    """The (column, key) pairs ``products=`` names: a list of columns or a mapping."""
    if isinstance(products, Mapping):
        pairs = [(resolve_column(frame, "products", c), str(k)) for c, k in products.items()]
    elif isinstance(products, Sequence) and not isinstance(products, str | bytes):
        pairs = [(resolve_column(frame, "products", c), str(c)) for c in products]
    else:
        raise ColumnError("products= takes a list of columns or a {column: key} mapping")
    if not pairs:
        raise ColumnError("products= names no column")
    return pairs


def build_products(
    frame: pd.DataFrame,
    items: Sequence[tuple[Hashable, str]],
    codes: np.ndarray,
    n_groups: int,
    integers: frozenset[str] = frozenset(),
    documented: Mapping[str, JsonType] | None = None,
) -> tuple[list[list[dict[str, Any]]], np.ndarray | None]:
    """Return, for each group, the list of its lines as ``{key: value}`` objects.

    Parameters
    ----------
    frame : pandas.DataFrame
        The lines.
    items : sequence of (column, key)
        Which columns make an element, and under which key.
    codes : numpy.ndarray
        The group number of each line; negative for lines in no group.
    n_groups : int
        Number of groups.
    integers : frozenset of str
        Keys documented as integers: whole floats among them (an integer
        column that had a missing value) are sent as integers.
    documented : Mapping[str, JsonType], optional
        The element's documented keys and types: when given, each line
        column is checked as a column here, so validation need not visit
        every element of the built arrays.

    Returns
    -------
    list of list of dict
        Elements in the lines' order; missing values are left out of an element.
    numpy.ndarray or None
        With ``documented``, one validation code per group (-1: every element
        right, else the documented position of the first wrong member's key,
        as ``validation.vouched_arrays`` takes it); None without, or when two
        columns share a key (the later value wins in the element).
    """
    keys = [key for _, key in items]
    columns = [column_values(frame[column], "json") for column, _ in items]
    for i, (column, key) in enumerate(items):
        if key in integers:
            columns[i] = _wholes(frame[column], columns[i])
    checks = None
    if documented is not None and len(set(keys)) == len(keys):
        checks = _group_checks(frame, items, columns, codes, n_groups, documented)
    keyed = codes >= 0
    grouped = codes if keyed.all() else codes[keyed]
    if len(grouped) and not (np.diff(grouped) >= 0).all():
        # Lines of an order are apart: put them together, each order's in frame order.
        order = np.flatnonzero(keyed)[np.argsort(grouped, kind="stable")].tolist()
        columns = [[values[i] for i in order] for values in columns]
        grouped = grouped[np.argsort(grouped, kind="stable")]
    elif not keyed.all():
        where = np.flatnonzero(keyed).tolist()
        columns = [[values[i] for i in where] for values in columns]
    ends = np.cumsum(np.bincount(grouped, minlength=n_groups)).tolist()
    starts = [0, *ends][:-1]
    with _no_collection():
        if any(None in column for column in columns):
            elements = [
                {k: v for k, v in zip(keys, values, strict=True) if v is not None}
                for values in zip(*columns, strict=True)
            ]
        else:  # the common case: no line lacks a value
            elements = list(map(_element_maker(keys), *columns))
        arrays = [elements[a:b] for a, b in zip(starts, ends, strict=True)]
    return arrays, checks


@contextmanager
def _no_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small containers.

    Every few hundred new dicts and lists start a collection that walks the
    young objects, and the older generations' passes walk all of them again:
    with hundreds of thousands of elements that was a third of the build.
    The elements hold no cycles, so nothing is left for the collector.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _element_maker(keys: Sequence[str]) -> Callable[..., dict[str, Any]]:
    """A function of one value per key that returns the element as a dict display.

    A dict display is about twice as fast as ``dict(zip(keys, values))`` per
    line. The generated source holds only argument and global names of our own
    (``v0``, ``k0``...); the keys themselves are passed in as global values.
    """
    if len(set(keys)) != len(keys):  # a repeated key: the later value wins, as in dict()
        return lambda *values: dict(zip(keys, values, strict=True))
    names = [f"v{i}" for i in range(len(keys))]
    pairs = ", ".join(f"k{i}: v{i}" for i in range(len(keys)))
    source = f"lambda {', '.join(names)}: {{{pairs}}}"
    maker: Callable[..., dict[str, Any]] = eval(
        source, {f"k{i}": key for i, key in enumerate(keys)}
    )
    return maker


def _wholes(series: pd.Series, values: list[Any]) -> list[Any]:
    """``values`` with whole floats as integers (an integer column that had a gap)."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return values  # already Python integers (or booleans, which stay)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        array = series.to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(array) & (array == np.floor(array)) & (np.abs(array) < 2.0**62)
        out = np.array(values, dtype=object)
        out[whole] = array[whole].astype(np.int64).tolist()
        return (
            [_whole(v) for v in out.tolist()] if (np.abs(array) >= 2.0**62).any() else out.tolist()
        )
    return [_whole(v) for v in values]


def _group_checks(
    frame: pd.DataFrame,
    items: Sequence[tuple[Hashable, str]],
    columns: Sequence[list[Any]],
    codes: np.ndarray,
    n_groups: int,
    documented: Mapping[str, JsonType],
) -> np.ndarray:
    """The element check of each group's array, from its line columns checked as columns."""
    position = {key: i for i, key in enumerate(documented)}
    line_code = np.full(len(codes), -1, dtype=np.int64)
    # Later keys first, so that the first wrong key of an element is the one left.
    for (column, key), values in reversed(list(zip(items, columns, strict=True))):
        if key not in position:
            continue
        bad = member_failures(frame[column], values, documented[key])
        line_code[bad] = position[key]
    out = np.full(n_groups, -1, dtype=np.int64)
    wrong = np.flatnonzero((line_code >= 0) & (codes >= 0))
    if len(wrong):
        groups, first = np.unique(codes[wrong], return_index=True)
        out[groups] = line_code[wrong[first]]
    return out


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def with_products(payload: PayloadSpec) -> PayloadSpec:
    """Make sure an explicit payload spec still sends the built ``products``."""
    if payload is None:
        return None
    if isinstance(payload, Mapping):
        return {**payload, PRODUCTS: PRODUCTS}
    return [*payload, PRODUCTS]
