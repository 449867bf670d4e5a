"""Send a frame of line items as one event per order, with a ``products`` array.

An orders export usually has one row per line item: the order's columns
(customer, order id, revenue...) repeat on every line beside the line's own
(sku, price, quantity). :func:`send_grouped` folds the lines of each order
into one row whose ``products`` cell is a list with one object per line, runs
the ordinary pipeline over those order rows, and spreads each order's outcome
back over its lines. So the result frame still has the input's index, one row
per line, and every line carries its order's status and messageId.

A line is ``invalid`` when its order key is missing, and every line of an
order is ``invalid`` when a column the call reads differs between the lines
(two customers for one order id): sending the first line's value would be a
silent guess.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, Unpack

import numpy as np
import pandas as pd

from ..catalogue.operations import JsonType, get_operation
from ..errors import ColumnError, SchemaError, SendError
from ..outcome.results import STATUS_DTYPE, Status
from ..prepare.payload_checks import member_failures, vouched_arrays
from ..prepare.plan import PayloadSpec, make_plan
from ..prepare.roles import resolve_column
from ..prepare.values import column_values
from .send import SendOptions, run

__all__ = ["PRODUCTS", "build_products", "send_grouped"]

#: The payload key that holds the line items.
PRODUCTS = "products"


def _item_columns(frame: pd.DataFrame, products: Any) -> list[tuple[Hashable, str]]:
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


def _with_products(payload: PayloadSpec) -> PayloadSpec:
    """Make sure an explicit payload spec still sends the built ``products``."""
    if payload is None:
        return None
    if isinstance(payload, Mapping):
        return {**payload, PRODUCTS: PRODUCTS}
    return [*payload, PRODUCTS]


def send_grouped(
    frame: pd.DataFrame,
    operation: str,
    args: Mapping[str, Any],
    payload: PayloadSpec = None,
    *,
    group_by: Hashable | None,
    products: Any,
    **options: Unpack[SendOptions],
) -> pd.DataFrame:
    """Send the lines of ``frame`` as one ``operation`` call per ``group_by`` value.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per line item.
    operation : str
        An operation whose payload documents ``products`` (an ecommerce event).
    args : Mapping[str, Any]
        The operation's role arguments; the columns they name are read from
        each order's lines and must agree between them.
    payload : list, mapping or None
        Order-level payload columns (``products`` is added to a list or mapping).
    group_by : hashable
        The column whose value names a line's order.
    products : list of columns or {column: key} mapping
        The line-item columns that make each element of ``products``.
    **options
        The shared send options (:class:`~pandas_cio.pipeline.send.SendOptions`).

    Returns
    -------
    pandas.DataFrame
        The result frame with the input's index and one row per line; each
        line has its order's status, error and messageId.
        ``attrs["cio"]["orders"]`` counts the orders.
    """
    op = get_operation(operation)
    if group_by is None and products is not None:
        return _send_arrays(frame, operation, args, payload, products, **options)
    if group_by is None or products is None:
        raise TypeError("group_by= and products= go together: products= lists line-item columns")
    if PRODUCTS not in op.payload_fields:
        raise ColumnError(f"{op.event or op.name} has no {PRODUCTS!r} array to group lines into")
    if PRODUCTS in frame.columns:
        raise ColumnError(f"the frame already has a {PRODUCTS!r} column; rename it to group lines")
    key = resolve_column(frame, "group_by", group_by)
    items = _item_columns(frame, products)
    codes, _ = pd.factorize(frame[key], use_na_sentinel=True)
    _, first = np.unique(codes, return_index=True)
    first = first[codes[first] >= 0]  # drop the missing-key "group"
    n_orders = len(first)

    item_columns = {column for column, _ in items}
    orders = frame.iloc[first].drop(columns=[c for c in frame.columns if c in item_columns])
    orders = orders.reset_index(drop=True)
    documented = op.payload_fields[PRODUCTS].items or {}
    integers = frozenset(k for k, kind in documented.items() if kind == "integer")
    built, checked = build_products(frame, items, codes, n_orders, integers, documented)
    orders[PRODUCTS] = pd.Series(built, dtype=object)
    payload = _with_products(payload)
    plan = make_plan(op, orders, args, payload, missing=options.get("missing", "omit"))

    keyed = codes >= 0
    reasons = np.full(n_orders, None, dtype=object)
    # Lines in no order compare with line 0 (there may be no order at all); they are dropped.
    reference = first[np.where(keyed, codes, 0)] if n_orders else np.zeros(len(codes), np.intp)
    for column in plan.columns:
        if column in (PRODUCTS, key):
            continue
        bad = np.unique(codes[keyed & _differs(frame[column], reference)])
        fresh = bad[pd.isna(reasons[bad])]
        reasons[fresh] = f"{column}: differs between the lines of this order"
    consistent = pd.isna(reasons)

    lines_invalid = ~keyed
    lines_invalid[keyed] = ~consistent[codes[keyed]]
    if options.get("errors", "mark") == "raise" and lines_invalid.any():
        raise SchemaError(
            f"{int(lines_invalid.sum())} of {len(frame)} lines cannot be grouped into orders",
            pd.DataFrame(
                {"error": _line_errors(reasons, codes, key)[lines_invalid]},
                index=frame.index[lines_invalid],
            ),
        )
    vouched = vouched_arrays(built, checked) if checked is not None else nullcontext()
    try:
        with vouched:
            result = run(orders[consistent], operation, args, payload, **options)
    except SchemaError as exc:
        failures = exc.failures
        lines = np.isin(codes, failures.index.to_numpy()) & keyed
        raise SchemaError(
            str(exc),
            pd.DataFrame(
                {"error": failures["error"].to_numpy()[_rank(failures.index, codes[lines])]},
                index=frame.index[lines],
            ),
        ) from None
    except SendError as exc:
        spread = _spread(exc.result, frame.index, codes, reasons, key)
        raise type(exc)(str(exc), spread) from None
    return _spread(result, frame.index, codes, reasons, key)


def _send_arrays(
    frame: pd.DataFrame,
    operation: str,
    args: Mapping[str, Any],
    payload: PayloadSpec,
    products: Any,
    **options: Unpack[SendOptions],
) -> pd.DataFrame:
    """Send one event per row whose ``products`` column already holds the arrays.

    A frame read from Parquet or Arrow (a ``list<struct>`` column), or built
    with lists of dicts, needs no grouping: ``products=`` names the column
    (one label, or a list of one), which is sent as the ``products`` array.
    """
    op = get_operation(operation)
    label = products
    if isinstance(products, Sequence) and not isinstance(products, str | bytes):
        if len(products) != 1:
            raise TypeError(
                "products= without group_by= names the one column that already holds each "
                "row's products array; to build the arrays from line-item columns, "
                "give group_by= (the order column) too"
            )
        (label,) = products
    elif isinstance(products, Mapping):
        raise TypeError("products= without group_by= takes one column, not a mapping")
    if PRODUCTS not in op.payload_fields:
        raise ColumnError(f"{op.event or op.name} has no {PRODUCTS!r} array")
    column = resolve_column(frame, "products", label)
    if column != PRODUCTS:
        if PRODUCTS in frame.columns:
            raise ColumnError(
                f"products={column!r}: the frame also has a {PRODUCTS!r} column; drop or rename it"
            )
        frame = frame.rename(columns={column: PRODUCTS})
    return run(frame, operation, args, _with_products(payload), **options)


def _rank(index: pd.Index, values: np.ndarray) -> np.ndarray:
    """Position of each value in ``index`` (values are known to be present)."""
    return np.asarray(index.get_indexer(pd.Index(values)))


def _line_errors(reasons: np.ndarray, codes: np.ndarray, key: Hashable) -> np.ndarray:
    keyed = codes >= 0
    errors = np.empty(len(codes), dtype=object)
    errors[keyed] = reasons[codes[keyed]]
    errors[~keyed] = _no_order(key)
    return errors


def _no_order(key: Hashable) -> str:
    return f"{key}: is missing (the line belongs to no order)"


def _spread(
    result: pd.DataFrame,
    index: pd.Index,
    codes: np.ndarray,
    reasons: np.ndarray,
    key: Hashable,
) -> pd.DataFrame:
    """Give every line its order's row of ``result``; lines of ungrouped orders are invalid."""
    n_orders = len(reasons)
    if n_orders == 0:  # no line has an order: one stand-in row, which every line overwrites
        reasons = np.full(1, None, dtype=object)
    per_order = result.reindex(pd.RangeIndex(len(reasons)))
    invalid = ~pd.isna(reasons)
    status = np.array(per_order["status"].astype(object))
    status[invalid] = Status.INVALID.value
    per_order["status"] = pd.Categorical(status, dtype=STATUS_DTYPE)
    per_order["error"] = per_order["error"].mask(invalid, pd.Series(reasons, dtype="string"))
    per_order["attempts"] = per_order["attempts"].fillna(0).astype(np.int64)
    lines = per_order.take(np.where(codes >= 0, codes, 0)).set_axis(index, axis=0)
    missing = codes < 0
    if missing.any():
        lines.loc[missing, "status"] = Status.INVALID.value
        lines.loc[missing, "error"] = _no_order(key)
        lines.loc[missing, ["message_id", "batch", "http_status"]] = pd.NA
        lines.loc[missing, "attempts"] = 0
    stats = dict(result.attrs.get("cio", {}))
    seconds = stats.get("seconds") or 0
    stats.update(
        rows=len(index),
        orders=n_orders,
        rows_per_second=round(len(index) / seconds, 1) if seconds else None,
    )
    lines.attrs["cio"] = stats
    return lines
