"""Ledger keys of a slice's calls, read from the frame's columns instead of the calls.

:func:`pandas_cio.ledger.store.call_key` reads a key from a decoded call. A send
with a ledger needs the key of every call it encodes; decoding each call
again to read one field would cost about as much as a send without a ledger.
So, when the plan's key columns say the key on their own, the keys are built
column-wise here; when they do not (an id column of mixed values, group
calls, a track call whose event comes from a column), the caller reads them
from the calls.

The keys built here are exactly those :func:`~pandas_cio.ledger.store.call_key`
reads from the encoded calls (``tests/unit/ledger/test_ledger_columns.py`` holds them to it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..prepare.plan import CallPlan
from .store import DEVICE_EVENT

__all__ = ["slice_keys"]


def slice_keys(
    plan: CallPlan, frame: pd.DataFrame, positions: np.ndarray
) -> list[str | None] | None:
    """Return the ledger key of the call of each row at ``positions``, or None.

    Parameters
    ----------
    plan : CallPlan
        The send's plan.
    frame : pandas.DataFrame
        The input frame.
    positions : numpy.ndarray
        Positions of rows whose calls were encoded, in order.

    Returns
    -------
    list of str or None, or None
        One key per row (None for event-like calls), or None when only the
        encoded calls tell the keys.
    """
    call_type = plan.operation.call_type
    rows = len(positions)
    if call_type == "identify":
        return _people(plan, frame, positions)
    if call_type == "track":
        event = next((s for s in plan.sources if s.path == ("event",)), None)
        if event is not None and event.is_constant and event.value != DEVICE_EVENT:
            return [None] * rows
        return None
    if call_type == "group":
        return None
    return [None] * rows  # page, screen, alias: events


def _people(plan: CallPlan, frame: pd.DataFrame, positions: np.ndarray) -> list[str | None] | None:
    user = next((s for s in plan.sources if s.path == ("userId",)), None)
    if user is None or user.is_constant:
        return None
    column = frame[user.column]
    if not isinstance(column, pd.Series):  # a duplicated label: let the calls tell
        return None
    values = column.iloc[positions]
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        # An integer id is sent as its digits whether as a number or a string.
        return list(("user:" + values.astype("str")).tolist())
    texts = isinstance(dtype, pd.StringDtype) or (
        getattr(dtype, "kind", "") == "O"
        and pd.api.types.infer_dtype(values, skipna=False) == "string"
    )
    if texts:
        if values.isna().any():
            return None  # such rows may be keyed by their anonymousId
        # A blank id is sent as no userId (see values._id_value): let the calls tell.
        if len(values) and (values.str.strip() == "").any():
            return None
        return list(("user:" + values.astype(object)).tolist())
    return None
