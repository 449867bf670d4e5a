"""Repeats of a key in one frame: the last row wins, the earlier ones say so.

``identify`` and ``group`` calls set the state of one person, object or
relationship. Two rows of the same key in one send (an old and a new row of
a person) would race: batches go out concurrently and are retried, so the
older row can arrive last and win. Instead, the pipeline sends only the last
valid row of each key, in input order, and gives the earlier ones the status
``superseded`` with a reason that names the row that replaces them.

The key is what :func:`pandas_cio.ledger.keys.call_key` reads from a call:

- ``identify``: the person, ``userId`` or else ``anonymousId``;
- ``group`` (``objects.upsert``, ``objects.relate``): the object type (``"1"``
  when not given, as the service reads it), the object id and, when the call
  names one, the person.

Ids are compared as they are sent (``1``, ``1.0`` and ``"1"`` are one id).
Only valid rows take part: an invalid row never replaces a valid one.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from ..outcome.results import ResultBuilder, Status
from .plan import CallPlan, Source
from .stamping import STATE_CALL_TYPES
from .values import column_values

__all__ = ["KEY_PATHS", "Superseded", "explain_unsent", "superseded"]

# Where the parts of a key sit in a call.
KEY_PATHS = {
    "user": ("userId",),
    "anonymous": ("anonymousId",),
    "object": ("groupId",),
    "type": ("traits", "object_type_id"),
}
_DEFAULT_OBJECT_TYPE = "1"


class Superseded(NamedTuple):
    """The rows a later row of the same key replaces.

    Attributes
    ----------
    rows : numpy.ndarray
        Positions of the replaced rows, in input order.
    reasons : list of str
        For each, the reason, naming the label of the row sent instead.
    winners : numpy.ndarray
        For each, the position of that row.
    """

    rows: np.ndarray
    reasons: list[str]
    winners: np.ndarray


def _ids(source: Source | None, part: pd.DataFrame) -> pd.Series:
    """One key part: the ids as they are sent, one spelling per id."""
    rows = len(part)
    if source is None:
        return pd.Series([None] * rows, dtype=object)
    if source.is_constant:
        return pd.Series([None if source.value is None else str(source.value)] * rows, dtype=object)
    series = part[source.column].reset_index(drop=True)
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind in "iu"):
        # Strings and integers have one spelling each already: no per-row work.
        return series
    return pd.Series(column_values(series, "id"), dtype=object)


def _what(plan: CallPlan, has_person: bool) -> str:
    if plan.operation.call_type == "identify":
        return "person"
    return "relationship" if has_person else "object"


def superseded(plan: CallPlan, frame: pd.DataFrame, positions: np.ndarray) -> Superseded:
    """Find the rows that a later row of the same key replaces.

    The duplicate search's hash tables are Arrow's (about 100 MB a million
    string ids); they are handed back to the system before this returns,
    as the encoder does after each slice, so the send's peak memory does not
    keep them.

    Parameters
    ----------
    plan : CallPlan
        The send's plan; only ``identify`` and ``group`` calls have keys.
    frame : pandas.DataFrame
        The input frame.
    positions : numpy.ndarray
        Positions of the valid rows, in input order.

    Returns
    -------
    Superseded

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from pandas_cio.catalogue.operations import get_operation
    >>> from pandas_cio.prepare.plan import make_plan
    >>> people = pd.DataFrame({"id": ["u1", "u2", "u1"], "plan": ["free", "pro", "team"]})
    >>> plan = make_plan(get_operation("identify"), people, {"user_id": "id"})
    >>> rows, reasons, _ = superseded(plan, people, np.arange(3))
    >>> rows.tolist(), reasons
    ([0], ['superseded by row 2, a later row of the same person (only the last is sent)'])
    """
    try:
        return _superseded(plan, frame, positions)
    finally:
        pa.default_memory_pool().release_unused()


def _superseded(plan: CallPlan, frame: pd.DataFrame, positions: np.ndarray) -> Superseded:
    none = np.zeros(0, dtype=np.int64)
    empty = Superseded(none, [], none)
    if plan.operation.call_type not in STATE_CALL_TYPES or len(positions) < 2:
        return empty
    positions = np.asarray(positions, dtype=np.int64)
    sources = {path: s for s in plan.sources if (path := s.path) in KEY_PATHS.values()}
    columns = sorted({s.column for s in sources.values() if not s.is_constant}, key=str)
    part = frame[columns].iloc[positions] if columns else frame.iloc[positions, :0]
    user = _ids(sources.get(KEY_PATHS["user"]), part)
    has_person = KEY_PATHS["user"] in sources or KEY_PATHS["anonymous"] in sources
    parts: dict[str, pd.Series] = {"user": user}
    if KEY_PATHS["anonymous"] in sources:
        # userId, else anonymousId: the anonymous id of a row with a userId is not its key.
        # Without an anonymousId source the part is None throughout and changes
        # no key, so it is left out (a column of a million Nones is 100 MB of
        # transient memory in the duplicate search).
        anonymous = _ids(sources[KEY_PATHS["anonymous"]], part)
        parts["anonymous"] = anonymous.astype(object).where(user.isna().to_numpy(), None)
    if plan.operation.call_type == "group":
        types = _ids(sources.get(KEY_PATHS["type"]), part).astype(object)
        parts["type"] = types.where(types.notna(), _DEFAULT_OBJECT_TYPE)
        parts["object"] = _ids(sources.get(KEY_PATHS["object"]), part)
    if len(parts) == 1:  # one key column: searched as it is, without a frame of keys
        replaced = user.duplicated(keep="last").to_numpy()
        if not replaced.any():
            return empty
        group = np.asarray(user.factorize(use_na_sentinel=False)[0])
    else:
        keys = pd.DataFrame(parts)
        replaced = keys.duplicated(keep="last").to_numpy()
        if not replaced.any():
            return empty
        group = keys.groupby(list(parts), dropna=False, sort=False).ngroup().to_numpy()
    last = np.zeros(int(group.max()) + 1, dtype=np.int64)
    np.maximum.at(last, group, np.arange(len(positions)))
    winners = positions[last[group[replaced]]]
    what = _what(plan, has_person)
    labels: list[Hashable] = frame.index[winners].tolist()
    reasons = [
        f"superseded by row {label!r}, a later row of the same {what} (only the last is sent)"
        for label in labels
    ]
    return Superseded(positions[replaced], reasons, winners)


def explain_unsent(builder: ResultBuilder, found: Superseded, index: pd.Index) -> None:
    """Add to a superseded row's reason when the row sent instead was not sent after all.

    A later row can still fail where validation cannot see: its call is over
    the size limit, or a value has no JSON form. The earlier row stays
    unsent (sending it would send the older state); its reason says so.
    """
    if not len(found.rows):
        return
    statuses = list(Status)
    codes = builder.status[found.winners]
    for i in np.flatnonzero(codes >= 0).tolist():
        status = statuses[int(codes[i])]
        if status in (Status.INVALID, Status.TOO_LARGE):
            label = index[int(found.winners[i])]
            builder.error[int(found.rows[i])] = (
                f"{found.reasons[i]}; row {label!r} was not sent either ({status.value}): "
                "fix it and send again"
            )
