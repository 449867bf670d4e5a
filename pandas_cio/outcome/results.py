"""The result frame: one row per input row, same index, a status for each.

Statuses (a categorical with these categories, in this order); the one
definition is :class:`Status`, and everything that groups statuses (the
report, ``report.ok``, the CLI's ``--rejects`` file and exit status) reads
:attr:`Status.ok` from it:

``sent``
    The service confirmed the request that carried the row (HTTP 2xx).
``invalid``
    The row failed validation or could not be encoded; ``error`` says why.
``too_large``
    The row's call is over the service's 32 KB limit; it was not sent
    because the service would have accepted and silently dropped it.
``failed``
    The request carrying the row failed after all retries, or the send
    stopped before it was confirmed; ``error`` says why. Safe to re-send.
    A request that reached the service but whose answer never came back
    (a timeout, a reset, a stop) may have been recorded all the same: HTTP
    cannot tell, so its rows are ``failed``. Re-sending them sends the same
    messageIds, so the service drops the copies, except for events sent
    without ``timestamp=``: a new send stamps those anew, so pass the first
    result's ids along (``message_id=``) to keep them.
``rejected``
    The service refused this very call (HTTP 400 in strict mode) and
    accepted the other calls of its request; ``error`` holds the service's
    reason. Re-sending it unchanged is refused again: fix the row first.
``dry_run``
    Valid and encoded; nothing was sent because ``dry_run=True``.
``unchanged``
    Skipped because a ledger records the same call as delivered.
``superseded``
    Not sent because a later row of the frame sets the same person, object
    or relationship (``identify`` and ``group`` calls); ``error`` names that
    row. Only the last row of each is sent, so an older row cannot overwrite
    a newer one by arriving last.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .columns import ERROR, RESULT_COLUMNS, STATUS

__all__ = [
    "COUNTERS",
    "RESULT_DTYPES",
    "STATUS_DTYPE",
    "Members",
    "MessageIds",
    "ResultBuilder",
    "SendStats",
    "Status",
    "merge_retry",
]


class Status(StrEnum):
    """The status of one input row (see the module docstring for each).

    Attributes
    ----------
    ok : bool
        The row needs nothing more: it reached the service, would have in a
        dry run, or had already. ``report.ok`` is true when every row's
        status is ok, and the CLI's ``--rejects`` file holds the other rows.

    Examples
    --------
    >>> Status.SENT.ok, Status.REJECTED.ok
    (True, False)
    >>> sorted(s.value for s in Status if s.ok)
    ['dry_run', 'sent', 'superseded', 'unchanged']
    """

    ok: bool

    # Each member is (value, ok): one line per status is the whole definition.
    def __new__(cls, value: str, ok: bool = False) -> Status:
        member = str.__new__(cls, value)
        member._value_ = value
        member.ok = ok
        return member

    SENT = "sent", True
    INVALID = "invalid", False
    TOO_LARGE = "too_large", False
    FAILED = "failed", False
    REJECTED = "rejected", False
    DRY_RUN = "dry_run", True
    UNCHANGED = "unchanged", True
    # Done when its key's later row is: that row carries the key's state.
    SUPERSEDED = "superseded", True


_CODES = {status: code for code, status in enumerate(Status)}
STATUS_DTYPE = pd.CategoricalDtype([s.value for s in Status], ordered=False)
#: The dtype of each result column (a polars result turns back into these).
RESULT_DTYPES: Mapping[str, Any] = dict(
    zip(RESULT_COLUMNS, (STATUS_DTYPE, "string", "string", "Int64", "Int64", "int64"), strict=True)
)
# A row not yet given a final status: the send stopped before reaching it.
_PENDING = -1


@dataclass
class SendStats:
    """Counters of one send, kept in ``result.attrs["cio"]``.

    ``batches`` and ``body_bytes`` count the bodies packed from the frame;
    ``split_batches`` the extra bodies sent to isolate calls the service
    refused (see :mod:`pandas_cio.delivery.splitting`). ``requests`` and ``retries``
    count every request made, the extra ones included.
    """

    operation: str = ""
    rows: int = 0
    calls: int = 0
    call_bytes: int = 0
    batches: int = 0
    body_bytes: int = 0
    requests: int = 0
    retries: int = 0
    split_batches: int = 0
    # Orders a line-item send folded its rows into (pandas_cio.pipeline.lines); None otherwise.
    orders: int | None = None
    dry_run: bool = False
    # The timestamp every call carried, when it was one for the whole send
    # (an event send stamped with its start time; see pandas_cio.prepare.stamping).
    timestamp: str | None = None
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Return the counters as plain values (``attrs["cio"]``)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "started"}
        if self.orders is None:
            del values["orders"]
        values["seconds"] = round(self.seconds, 3)
        values["rows_per_second"] = round(self.rows / self.seconds, 1) if self.seconds else None
        return values


#: The counters that add up over sends (a mirror send's rows and its deletions'):
#: every whole-number field of :class:`SendStats`.
COUNTERS = tuple(f.name for f in fields(SendStats) if f.type == "int")


class MessageIds:
    """The result's messageIds by row position, kept out of Python objects while possible.

    Derived ids arrive from the encoder as fixed-width ``S26`` numpy arrays
    (the ULIDs' text) and stay in one ``(rows,)`` ``S26`` array, 26 bytes a
    row; :meth:`array` hands that buffer to Arrow as the data of the result's
    string column, without a Python string per row (0.4 s and about 60 MB a
    million rows the other way). Ids of any other kind (a ``message_id=``
    column's values) switch the store to an object array.

    Parameters
    ----------
    n : int
        Rows of the result.

    Examples
    --------
    >>> import numpy as np
    >>> ids = MessageIds(3)
    >>> ids[np.array([0, 2])] = np.array([b"A" * 26, b"B" * 26], dtype="S26")
    >>> ids.array().tolist()
    ['AAAAAAAAAAAAAAAAAAAAAAAAAA', <NA>, 'BBBBBBBBBBBBBBBBBBBBBBBBBB']
    """

    _WIDTH = 26

    def __init__(self, n: int) -> None:
        self.n = n
        self._text: np.ndarray | None = None
        self._has = np.zeros(n, dtype=bool)
        self._objects: np.ndarray | None = None

    def __setitem__(self, positions: Any, values: Any) -> None:
        if (
            self._objects is None
            and isinstance(values, np.ndarray)
            and values.dtype == np.dtype(f"S{self._WIDTH}")
        ):
            if self._text is None:
                self._text = np.zeros(self.n, dtype=f"S{self._WIDTH}")
            self._text[positions] = values
            self._has[positions] = True
            return
        self._as_objects()[positions] = values

    def _as_objects(self) -> np.ndarray:
        if self._objects is None:
            objects = np.full(self.n, None, dtype=object)
            if self._text is not None:
                rows = np.flatnonzero(self._has)
                objects[rows] = self._text[rows].astype("U").tolist()
            self._objects, self._text = objects, None
        return self._objects

    def array(self) -> pd.api.extensions.ExtensionArray:
        """The ids as a pandas ``string`` array (Arrow-backed); missing where a row has none."""
        if self._objects is not None:
            return pd.array(self._as_objects(), dtype="string")
        if self._text is None:
            return pd.array(np.full(self.n, None, dtype=object), dtype="string")
        missing_all = self.n - int(np.count_nonzero(self._has))
        offsets = np.arange(0, (self.n + 1) * self._WIDTH, self._WIDTH, dtype=np.int64)
        offsets[1:] -= np.cumsum(~self._has) * self._WIDTH  # a row without an id is empty
        # Rows with an id, back to back; the array itself when every row has one
        # (the result then shares the buffer instead of copying 26 MB a million rows;
        # nothing writes to the builder once its result is built).
        data = self._text if missing_all == 0 else self._text[self._has]
        validity = pa.array(self._has).buffers()[1] if missing_all else None
        values = pa.Array.from_buffers(
            pa.large_string(),
            self.n,
            [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
            null_count=missing_all,
        )
        return pd.arrays.ArrowStringArray(values)


def _strings(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """An object array of str or None as a pandas ``string`` array; quick when all are None."""
    present = ~pd.isna(values)
    rows = np.flatnonzero(present)
    if len(rows) == 0:
        return pd.arrays.ArrowStringArray(pa.nulls(len(values), pa.large_string()))
    # Only the rows with a text go through Python objects; the rest are nulls.
    texts = pa.array(values[rows].tolist(), type=pa.large_string())
    where = np.zeros(len(values), dtype=np.int64)
    where[rows] = np.arange(len(rows))
    return pd.arrays.ArrowStringArray(texts.take(pa.array(where, mask=~present)))


@dataclass(frozen=True)
class Members:
    """Result rows that each take the outcome of one sent row: the lines of an order.

    A line-item send (see :mod:`pandas_cio.pipeline.lines`) sends one row per
    order; its result still has one row per line, each with its order's
    outcome. Lines in no order are ``invalid`` with ``orphan``.

    Attributes
    ----------
    codes : numpy.ndarray
        For each result row, the position of the sent row it takes; -1 for
        a row in none.
    index : pandas.Index
        The result's index (the input's).
    orphan : str
        The reason of rows in no sent row.
    """

    codes: np.ndarray
    index: pd.Index
    orphan: str

    def sizes(self, n: int) -> np.ndarray:
        """How many result rows take each of ``n`` sent rows."""
        return np.bincount(self.codes[self.codes >= 0], minlength=n)


def _take(values: np.ndarray, rows: np.ndarray, fill: Any) -> np.ndarray:
    """``values`` at ``rows``, and ``fill`` where a row is -1 (a line in no order)."""
    out = np.full(len(rows), fill, dtype=values.dtype)
    has = rows >= 0
    out[has] = values[rows[has]]
    return out


class ResultBuilder:
    """Collect per-row outcomes by position, then build the result frame.

    Parameters
    ----------
    index : pandas.Index
        The index of the rows sent; the result keeps it.
    operation : str
        The operation's name, for the counters.
    members : Members, optional
        Result rows that take the outcomes of the rows sent (line items of
        orders); the result then has their index and one row each.
    """

    def __init__(
        self, index: pd.Index, operation: str = "", members: Members | None = None
    ) -> None:
        n = len(index)
        self.index = index
        self.members = members
        self.status = np.full(n, _PENDING, dtype=np.int8)
        self.error = np.full(n, None, dtype=object)
        self.message_id = MessageIds(n)
        self.batch = np.full(n, -1, dtype=np.int64)
        self.http_status = np.zeros(n, dtype=np.int32)
        self.attempts = np.zeros(n, dtype=np.int32)
        rows = n if members is None else len(members.index)
        self.stats = SendStats(operation=operation, rows=rows)
        if members is not None:
            self.stats.orders = n

    def mark(
        self,
        positions: Any,
        status: Status,
        error: str | None = None,
        *,
        batch: int | None = None,
        http_status: int | None = None,
        attempts: int | None = None,
    ) -> None:
        """Give rows at ``positions`` a status (and the other columns, when known)."""
        self.status[positions] = _CODES[status]
        if error is not None:
            self.error[positions] = error
        if batch is not None:
            self.batch[positions] = batch
        if http_status is not None:
            self.http_status[positions] = http_status
        if attempts is not None:
            self.attempts[positions] = attempts

    def carried(self, positions: Any, attempts: int) -> None:
        """Add ``attempts`` requests to the rows at ``positions``.

        A row's ``attempts`` counts every request that carried it: retries, and
        the smaller requests that isolate a refused call (see
        :mod:`pandas_cio.delivery.splitting`).
        """
        self.attempts[positions] += attempts

    def count(self, status: Status) -> int:
        """Rows of the result that have ``status`` so far (each line of an order counts)."""
        has = self.status == _CODES[status]
        if self.members is None:
            return int(np.count_nonzero(has))
        found = int(self.members.sizes(len(self.status))[has].sum())
        if status == Status.INVALID:
            found += int(np.count_nonzero(self.members.codes < 0))
        return found

    def having(self, *statuses: Status) -> np.ndarray:
        """Positions of the rows sent that have one of ``statuses`` so far."""
        return np.flatnonzero(np.isin(self.status, [_CODES[s] for s in statuses]))

    def failures(self, reasons: Mapping[int, str]) -> pd.DataFrame:
        """The ``error`` of every result row that ``reasons`` (by position) makes invalid.

        The frame :class:`~pandas_cio.errors.SchemaError` carries: indexed by the
        result's labels, so with members by the lines, orphans included.
        """
        if self.members is None:
            return pd.DataFrame({ERROR: list(reasons.values())}, index=self.index[list(reasons)])
        per_row = np.full(len(self.status), None, dtype=object)
        per_row[list(reasons)] = list(reasons.values())
        codes = self.members.codes
        errors = _take(per_row, codes, self.members.orphan)
        failing = ~pd.isna(errors)
        return pd.DataFrame({ERROR: errors[failing]}, index=self.members.index[failing])

    @staticmethod
    def _nullable(values: np.ndarray, absent: np.ndarray) -> pd.arrays.IntegerArray:
        # Straight from numpy with a mask: going through Python objects cost
        # about 0.2 s and tens of MB per million rows.
        return pd.arrays.IntegerArray(values.astype(np.int64), absent.copy())

    def build(self, unfinished: str | None = None) -> pd.DataFrame:
        """Return the result frame.

        Parameters
        ----------
        unfinished : str, optional
            Reason given to rows still without a final status (an
            interrupted send); they become ``failed``.
        """
        pending = self.status == _PENDING
        if pending.any():
            self.error[pending] = unfinished or "not sent"
            self.status[pending] = _CODES[Status.FAILED]
        self.stats.seconds = time.monotonic() - self.stats.started
        codes, error = self.status.astype(np.int64), _strings(self.error)
        message_id = self.message_id.array()
        batch = self._nullable(self.batch, self.batch < 0)
        http_status = self._nullable(self.http_status, self.http_status == 0)
        attempts, index = self.attempts.astype(np.int64), self.index.copy()
        if self.members is not None:
            # Every line takes its order's outcome; a line in no order is invalid.
            rows, orphan = self.members.codes, self.members.orphan
            codes = _take(codes, rows, _CODES[Status.INVALID])
            error = _strings(_take(self.error, rows, orphan))
            message_id = message_id.take(rows, allow_fill=True)
            batch = batch.take(rows, allow_fill=True)
            http_status = http_status.take(rows, allow_fill=True)
            attempts = _take(attempts, rows, 0)
            index = self.members.index.copy()
        columns = (
            pd.Categorical.from_codes(codes, dtype=STATUS_DTYPE),
            error,
            message_id,
            batch,
            http_status,
            attempts,
        )
        frame = pd.DataFrame(dict(zip(RESULT_COLUMNS, columns, strict=True)), index=index)
        frame.attrs["cio"] = self.stats.as_dict()
        return frame


def merge_retry(result: pd.DataFrame, retry: pd.DataFrame) -> pd.DataFrame:
    """Return ``result`` with the rows of ``retry`` (a re-send's result) replaced.

    Parameters
    ----------
    result : pandas.DataFrame
        The first result frame.
    retry : pandas.DataFrame
        The result of re-sending a subset of the same rows (same index labels).

    Returns
    -------
    pandas.DataFrame
        One row per row of ``result``; its send counters are dropped from
        ``attrs`` because they no longer describe one send (the report then
        derives what it can from the frame).

    Raises
    ------
    ValueError
        The index has duplicate labels, or ``retry`` has labels ``result`` lacks.
    """
    if not result.index.is_unique or not retry.index.is_unique:
        raise ValueError("merge_retry needs unique index labels; reset_index() both frames first")
    unknown = retry.index.difference(result.index)
    if len(unknown):
        raise ValueError(f"retry has {len(unknown)} rows that result lacks, e.g. {unknown[0]!r}")
    merged = pd.concat([result.drop(index=retry.index), retry[result.columns]])
    merged = merged.reindex(result.index)
    merged[STATUS] = merged[STATUS].astype(STATUS_DTYPE)
    merged.attrs = {}
    return merged
