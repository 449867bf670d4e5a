"""Send a frame of line items as one event per order, with a ``products`` array.

:func:`send_grouped` checks which of the two forms ``products=`` takes and
hands the send to the one pipeline (:func:`~.send.run`): with ``group_by=``,
the line-item stage (:mod:`.lines`) sends one call per order and gives every
line its order's outcome; without it, ``products=`` names the column that
already holds each row's array.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Unpack

import pandas as pd

from ..catalogue.operations import get_operation
from ..errors import ColumnError
from ..prepare.plan import PayloadSpec
from ..prepare.roles import resolve_column
from .lines import LineItems
from .options import SendOptions
from .products import PRODUCTS, build_products, with_products
from .send import run

__all__ = ["PRODUCTS", "build_products", "send_grouped"]


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
        The shared send options (:class:`~pandas_cio.pipeline.SendOptions`).

    Returns
    -------
    pandas.DataFrame
        The result frame with the input's index and one row per line; each
        line has its order's status, error and messageId.
        ``attrs["cio"]["orders"]`` counts the orders.
    """
    get_operation(operation)  # an unknown name is the first thing to say
    if group_by is None and products is not None:
        return _send_arrays(frame, operation, args, payload, products, **options)
    if group_by is None or products is None:
        raise TypeError("group_by= and products= go together: products= lists line-item columns")
    return run(frame, operation, args, payload, lines=LineItems(group_by, products), **options)


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
    return run(frame, operation, args, with_products(payload), **options)
