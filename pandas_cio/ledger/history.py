"""Sync history: one row per send with a ledger, kept in the ledger itself.

Every send that has a ``ledger=`` (dry runs excepted: they change nothing)
appends a summary to the ledger when it ends, also when it ends early with a
:class:`~pandas_cio.errors.SendError` (``outcome`` then names the error).
``ledger.runs()`` returns the history as a frame, and ``pandas-cio runs
--ledger FILE`` prints it, so a cron job can alert on it and a notebook can
plot it. The summary holds counts, the library's own reasons and a short
fingerprint of the frame, never a value from the frame.

A store of your own (the :class:`~pandas_cio.ledger.protocol.Ledger` protocol) keeps
a history when it has a ``record_run(operation, record)`` method; without
one, sends go on without history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import LedgerError
from ..outcome.columns import ACTION, SEND_ACTION, STATUS
from ..outcome.report import SendReport
from ..outcome.results import Status

__all__ = ["RUN_COLUMNS", "TOP_REASONS", "fingerprint", "run_record", "runs_frame"]


logger = logging.getLogger("pandas_cio.ledger.history")

#: Reasons kept per run: enough to say what went wrong, short enough for a table.
TOP_REASONS = 3
# Bytes of the fingerprint's digest: 12 hex digits tell nightly frames apart;
# it is a change detector, not a security measure.
_FINGERPRINT_BYTES = 6

#: The columns of :func:`runs_frame`, in order (one per status between ``rows`` and ``requests``).
RUN_COLUMNS = (
    "operation",
    "started",
    "ended",
    "outcome",
    "rows",
    *(s.value for s in Status),
    "deleted",
    "requests",
    "retries",
    "reasons",
    "fingerprint",
)


def fingerprint(frame: pd.DataFrame) -> str:
    """A short hash of a frame's columns, index and values: equal frames, equal prints.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    str
        12 hex digits.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"id": ["u1"], "plan": ["pro"]})
    >>> fingerprint(a) == fingerprint(a.copy()), fingerprint(a) == fingerprint(a.assign(plan="x"))
    (True, False)
    """
    digest = hashlib.blake2b(digest_size=_FINGERPRINT_BYTES)
    digest.update(repr([str(c) for c in frame.columns]).encode())
    digest.update(_hashed(frame.index))
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        digest.update(str(column.dtype).encode())
        if not _arrow_text(column, digest):
            digest.update(_hashed(column))
    return digest.hexdigest()


def _hashed(values: pd.Index | pd.Series) -> bytes:
    """pandas' hash of each value, as bytes; cells it cannot hash (dicts, lists) by their text."""
    try:
        hashed = pd.util.hash_pandas_object(values, index=False)
    except TypeError:
        hashed = pd.util.hash_pandas_object(values.astype(str), index=False)
    return hashed.to_numpy().tobytes()


def _arrow_text(column: pd.Series, digest: Any) -> bool:
    """Feed an Arrow-backed text column to ``digest`` from its buffers; False for other columns.

    Hashing the UTF-8 bytes and each value's length costs a pass over the
    buffers, where hashing value by value costs about a third of encoding.
    Validity, lengths and bytes are hashed apart, lengths rather than
    offsets, so that equal columns give equal digests however Arrow chunked them.
    """
    if not isinstance(column.dtype, pd.StringDtype):
        return False
    if column.dtype.storage != "pyarrow":
        return False
    arrow = pa.array(column.array)  # the column's own buffers, not a copy
    valid, lengths, data = hashlib.blake2b(), hashlib.blake2b(), hashlib.blake2b()
    for chunk in arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]:
        if len(chunk) == 0:
            continue
        if chunk.null_count:
            valid.update(np.asarray(chunk.is_valid(), dtype=np.uint8).tobytes())
            chunk = pc.fill_null(chunk, "")
        else:
            valid.update(np.ones(len(chunk), dtype=np.uint8).tobytes())
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width)[chunk.offset :][: len(chunk) + 1]
        lengths.update(np.diff(offsets).astype(np.int64).tobytes())
        data.update(memoryview(chunk.buffers()[2])[int(offsets[0]) : int(offsets[-1])])
    for part in (valid, lengths, data):
        digest.update(part.digest())
    return True


def run_record(
    result: pd.DataFrame,
    *,
    operation: str,
    started: dt.datetime,
    ended: dt.datetime,
    outcome: str,
    frame_print: str,
) -> dict[str, Any]:
    """Summarise one send's result as a history record (plain JSON values)."""
    report = SendReport.from_result(result, top=TOP_REASONS)
    attrs = result.attrs.get("cio")
    # Why a gate or the mirror guard stopped the send, first among the reasons.
    stopped = [str(attrs["stopped"])] if isinstance(attrs, Mapping) and attrs.get("stopped") else []
    deleted = 0
    if ACTION in result.columns:
        mirrored = result[ACTION] != SEND_ACTION
        deleted = int(((result[STATUS] == Status.SENT) & mirrored).sum())
    return {
        "operation": operation,
        "started": started.isoformat(),
        "ended": ended.isoformat(),
        "outcome": outcome,
        "rows": report.rows,
        "status": {k: v for k, v in report.counts.items() if v},
        "deleted": deleted,
        "requests": report.requests or 0,
        "retries": report.retries or 0,
        "reasons": stopped + [f"{r.status}: {r.text} ({r.rows:,})" for r in report.reasons],
        "fingerprint": frame_print,
    }


def record_run(store: Any, operation: str, record: Mapping[str, Any]) -> None:
    """Append ``record`` to ``store``'s history when it keeps one; log a failure, never raise.

    The history must not hide the send's own outcome: a send that worked
    stays a success when its summary cannot be written.
    """
    write = getattr(store, "record_run", None)
    if write is None:
        return
    try:
        write(operation, record)
    except (LedgerError, OSError) as exc:
        logger.warning("%s; this send is missing from the ledger's history", exc)


def runs_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The history records as a frame, one row per send, oldest first.

    Columns: ``operation``; ``started`` and ``ended`` (UTC timestamps);
    ``outcome`` (``"completed"``, or the name of the
    :class:`~pandas_cio.errors.SendError` the send ended with); ``rows``
    (the result's rows, mirror deletions included); one column per
    status with its rows; ``deleted`` (mirror deletions confirmed);
    ``requests``; ``retries``; ``reasons`` (the top reasons rows were not
    sent, ``"status: reason (rows)"`` joined by ``"; "``) and ``fingerprint``
    (:func:`fingerprint` of the input frame).
    """
    rows = []
    for record in records:
        statuses = record.get("status") or {}
        row = {name: record.get(name) for name in RUN_COLUMNS}
        row.update({s.value: int(statuses.get(s.value, 0)) for s in Status})
        row["reasons"] = "; ".join(record.get("reasons") or [])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    for column in ("started", "ended"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    counts = ["rows", *(s.value for s in Status), "deleted", "requests", "retries"]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    return frame
