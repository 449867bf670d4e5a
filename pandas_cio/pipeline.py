"""Run one operation over a frame: plan, validate, encode, batch, send, report.

This is the only module that knows the order of the stages. Every stage before
sending is pure and works on row positions, so duplicate or MultiIndex labels
never confuse it; the result frame gets the input's index back at the end.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Literal, TypedDict

import numpy as np
import pandas as pd

from .batching import MAX_BATCH_BYTES, MAX_CALL_BYTES, Batch, Calls, pack, pack_runs
from .client import Client
from .encoding import Encoder
from .errors import (
    AuthenticationError,
    InterruptedSendError,
    LedgerError,
    LedgerSendError,
    SchemaError,
    ServiceUnavailableError,
    TerminatedSendError,
)
from .ledger import LedgerArg, LedgerRun, open_run
from .operations import get_operation
from .plan import Missing, PayloadSpec, make_plan
from .progress import Progress
from .results import ResultBuilder, Status
from .splitting import DEFAULT_MAX_SPLIT_REQUESTS, Splitter
from .stamping import resolve as resolve_timestamp
from .stamping import untimed_rows
from .supersede import explain_unsent, superseded
from .termination import Terminated, sigterm_raises
from .transport import CircuitOpen, Delivery
from .validation import validate

__all__ = ["DEFAULT_CHUNK_ROWS", "run"]

logger = logging.getLogger("pandas_cio")

# Rows encoded per slice: large enough that per-slice overhead vanishes (it is
# flat from about 20,000 rows), small enough that a slice's working set stays
# near 25 MB and that encoding one takes less time than the requests already
# in flight need to finish, so the workers never wait for the encoder.
DEFAULT_CHUNK_ROWS = 20_000
# Rows in the first slice: about one 500 KB batch of typical calls.
_FIRST_SLICE_ROWS = 2_000

Errors = Literal["mark", "raise"]

# The reason of an event row without a timestamp value in a send with a ledger.
_UNTIMED = (
    "timestamp: missing; with ledger= every event needs one, or a resumed or repeated "
    "send could not recognise it and would send it again (fill it in)"
)


class SendOptions(TypedDict, total=False):
    """Keyword options every accessor method takes (see :func:`run`)."""

    client: Client | None
    dry_run: bool
    errors: Errors
    missing: Missing
    progress: bool | None
    chunk_rows: int
    ledger: LedgerArg | None
    full_refresh: bool
    max_split_requests: int
    journeys: bool


def _encoded_runs(
    frame: pd.DataFrame,
    encoder: Encoder,
    positions: np.ndarray,
    builder: ResultBuilder,
    max_call_bytes: int,
    chunk_rows: int,
) -> Iterator[tuple[np.ndarray, Calls]]:
    """Encode valid rows slice by slice; mark invalid and too-large rows on the way."""
    stats = builder.stats
    for start, stop in _slices(len(positions), chunk_rows):
        part = encoder.encode(frame, positions[start:stop])
        for position, reason in part.invalid.items():
            builder.mark(position, Status.INVALID, reason)
        builder.message_id[part.positions] = part.ids
        kept = np.asarray(part.positions, dtype=np.int64)
        calls = Calls.of(part.calls)
        sizes = calls.sizes()
        big = np.flatnonzero(sizes > max_call_bytes)
        for i in big.tolist():
            builder.mark(
                int(kept[i]),
                Status.TOO_LARGE,
                f"call is {int(sizes[i]):,} bytes; the service drops calls over {max_call_bytes:,}",
            )
        if len(big):
            calls = calls.drop(big.tolist())
            kept, sizes = np.delete(kept, big), np.delete(sizes, big)
        stats.calls += len(calls)
        stats.call_bytes += int(sizes.sum())
        yield kept, calls


def _slices(rows: int, chunk_rows: int) -> Iterator[tuple[int, int]]:
    """Slice bounds that start small and double up to ``chunk_rows``.

    The first request can leave as soon as about one batch of rows is encoded,
    instead of after a whole slice: small sends finish sooner and large ones
    start the network while the encoder is still warming up.
    """
    start, size = 0, min(chunk_rows, _FIRST_SLICE_ROWS)
    while start < rows:
        yield start, min(rows, start + size)
        start += size
        size = min(chunk_rows, 2 * size)


def _pairs(runs: Iterator[tuple[np.ndarray, Calls]]) -> Iterator[tuple[int, bytes]]:
    for positions, calls in runs:
        yield from zip(positions.tolist(), calls, strict=True)


def _counted(batches: Iterator[Batch], builder: ResultBuilder) -> Iterator[Batch]:
    for batch in batches:
        builder.stats.batches += 1
        builder.stats.body_bytes += batch.size
        yield batch


def run(
    frame: pd.DataFrame,
    operation: str,
    args: Mapping[str, Any],
    payload: PayloadSpec = None,
    *,
    client: Client | None = None,
    dry_run: bool = False,
    errors: Errors = "mark",
    missing: Missing = "omit",
    progress: bool | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ledger: LedgerArg | None = None,
    full_refresh: bool = False,
    max_split_requests: int = DEFAULT_MAX_SPLIT_REQUESTS,
    journeys: bool = True,
) -> pd.DataFrame:
    """Send every row of ``frame`` as one call of ``operation``; return the result frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        The input.
    operation : str
        A name from :data:`pandas_cio.operations.OPERATIONS`.
    args : Mapping[str, Any]
        The operation's role arguments.
    payload : list, mapping or None
        Payload columns; None for every column no role uses.
    client : Client, optional
        Where to send; made from the environment (and closed) when None.
        Not needed for a dry run.
    dry_run : bool
        Validate, encode and batch, but send nothing.
    errors : {"mark", "raise"}
        What invalid rows do: get status ``invalid``, or raise
        :class:`~pandas_cio.errors.SchemaError` before anything is sent.
    missing : {"omit", "null"}
        Whether missing payload values are left out or sent as null.
    progress : bool, optional
        Show a progress bar (None: only for large sends someone watches).
    chunk_rows : int
        Rows encoded per slice.
    ledger : str, os.PathLike or Ledger, optional
        Skip rows the ledger records as delivered (status ``unchanged``) and
        record each confirmed batch (see :mod:`pandas_cio.ledger`). A path
        opens a :class:`~pandas_cio.ledger.SqliteLedger` for this send.
    full_refresh : bool
        Send every row whatever the ledger says, and record them.
    max_split_requests : int
        The most extra requests this send makes to isolate calls the service
        refuses in a batch it answers 400 (see :mod:`pandas_cio.splitting`);
        0 fails a refused batch's rows without splitting it.
    journeys : bool
        Apply the checks only Customer.io Journeys needs (see
        :func:`~pandas_cio.plan.make_plan`); False for workspaces that send
        to other destinations only.

    Returns
    -------
    pandas.DataFrame
        One row per input row with the input's index.

    Raises
    ------
    AuthenticationError
        The service refused the key.
    InterruptedSendError
        Ctrl-C during the send.
    TerminatedSendError
        SIGTERM during the send (in the main thread, with the default handler).
    LedgerSendError
        The ledger failed during the send.
    ServiceUnavailableError
        The client's circuit breaker found the service down.

    Each is a :class:`~pandas_cio.errors.SendError` whose ``.result`` holds
    every row's status as far as the send got.
    """
    if errors not in ("mark", "raise"):
        raise ValueError(f"errors= must be 'mark' or 'raise', not {errors!r}")
    op = get_operation(operation)
    # Events without timestamp= are stamped with this instant (pandas_cio.stamping).
    stamp = resolve_timestamp(
        op, frame, args, started=dt.datetime.now(dt.UTC), ledger=ledger is not None
    )
    sync = open_run(ledger, op, full_refresh=full_refresh)
    plan = stamp.apply(
        make_plan(op, frame, stamp.args, payload, missing=missing, journeys=journeys)
    )
    builder = ResultBuilder(frame.index, op.name)
    builder.stats.dry_run = dry_run
    builder.stats.timestamp = stamp.constant
    splitter = Splitter(builder.stats, max_split_requests)  # checks the limit

    reasons = validate(plan, frame)
    if sync is not None:
        timed = np.setdiff1d(np.arange(len(frame)), np.fromiter(reasons, dtype=np.int64))
        for position in untimed_rows(plan, frame, timed).tolist():
            reasons[position] = _UNTIMED
    if reasons:
        if errors == "raise":
            failures = pd.DataFrame(
                {"error": list(reasons.values())}, index=frame.index[list(reasons)]
            )
            raise SchemaError(
                f"{len(reasons)} of {len(frame)} rows are invalid for {op.name}; "
                f"first: {next(iter(reasons.values()))}",
                failures,
            )
        for position, reason in reasons.items():
            builder.mark(position, Status.INVALID, reason)
    invalid = np.fromiter(reasons, dtype=np.int64, count=len(reasons))
    valid = np.setdiff1d(np.arange(len(frame)), invalid, assume_unique=True)
    # Only the last valid row of a person or object is sent (pandas_cio.supersede).
    replaced = superseded(plan, frame, valid)
    if len(replaced.rows):
        builder.mark(replaced.rows, Status.SUPERSEDED)
        builder.error[replaced.rows] = np.asarray(replaced.reasons, dtype=object)
        valid = np.setdiff1d(valid, replaced.rows, assume_unique=True)

    own_client = client is None and not dry_run
    if own_client:
        client = Client()
    max_call = client.max_call_bytes if client else MAX_CALL_BYTES
    max_body = client.max_batch_bytes if client else MAX_BATCH_BYTES
    encoder = Encoder(plan, untimed_ms=stamp.untimed_ms)
    runs = _encoded_runs(frame, encoder, valid, builder, max_call, chunk_rows)
    if sync is not None:
        calls = sync.changed(_pairs(runs), builder)
        batches = _counted(pack(calls, max_batch_bytes=max_body), builder)
    else:
        # Without a ledger, bodies are cut from each slice's buffer with arrays.
        batches = _counted(pack_runs(runs, max_batch_bytes=max_body), builder)
    try:
        with sigterm_raises(), Progress(len(valid), progress, f"cio.{op.name}") as bar:
            if dry_run or client is None:
                for batch in batches:
                    rows = np.asarray(batch.positions, dtype=np.int64)
                    builder.mark(rows, Status.DRY_RUN, batch=batch.number)
                    bar.update(len(batch.positions))
            else:
                _deliver(client, batches, builder, bar, splitter, sync)
    except KeyboardInterrupt:
        raise InterruptedSendError(
            "the send was interrupted; the exception's .result says which rows were sent",
            builder.build("not confirmed: the send was interrupted"),
        ) from None
    except Terminated:
        raise TerminatedSendError(
            "the process was told to stop (SIGTERM) during the send; the exception's "
            ".result says which rows were sent",
            builder.build("not confirmed: the process was told to stop (SIGTERM)"),
        ) from None
    except LedgerError as exc:
        raise LedgerSendError(
            f"{exc}; sending stopped. The exception's .result says which rows were sent",
            builder.build("not sent: the ledger failed, so sending stopped"),
        ) from exc
    except CircuitOpen as exc:
        raise ServiceUnavailableError(
            f"{exc.reason}; sending stopped. The exception's .result says which rows were sent",
            builder.build(f"not sent: {exc.reason}"),
        ) from exc
    finally:
        if own_client and client is not None:
            client.close()
        if sync is not None:
            sync.close()
    explain_unsent(builder, replaced, frame.index)
    result = builder.build()
    counts = result["status"].value_counts()
    logger.info("cio.%s: %s", op.name, ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    return result


def _deliver(
    client: Client,
    batches: Iterator[Batch],
    builder: ResultBuilder,
    bar: Progress,
    splitter: Splitter,
    sync: LedgerRun | None = None,
) -> None:
    """Send every batch, split refused ones, and give each row its final status."""
    stats = builder.stats

    def record(batch: Batch, delivery: Delivery, stopping: bool = False) -> bool:
        """Record one answer; False when the batch was split (its rows wait for the halves)."""
        rows = np.asarray(batch.positions, dtype=np.int64)  # one conversion, five columns
        stats.requests += delivery.attempts
        stats.retries += delivery.attempts - 1
        builder.carried(rows, delivery.attempts)
        status, error = (Status.SENT, None) if delivery.ok else (Status.FAILED, delivery.error)
        if splitter.refused(delivery):
            if len(rows) == 1:
                status, error = Status.REJECTED, splitter.rejected_reason(delivery)
            elif not stopping and splitter.split(batch):
                return False
            else:
                error = splitter.unisolated_reason(delivery, stopping)
        builder.mark(rows, status, error, batch=batch.number, http_status=delivery.status or None)
        if delivery.ok and sync is not None:
            sync.record(batch.positions)
        return True

    def settle(batch: Batch, delivery: Delivery) -> None:
        record(batch, delivery, stopping=True)

    # Batches still in flight when the send stops (Ctrl-C, a refused key) may
    # reach the service: `settle` records them, so `sent` stays exact. Halves
    # of a refused batch that arrive after the sender has taken the last
    # batch are sent in another round: send_batches cannot be fed once its
    # source has run out.
    source = splitter.feed(batches)
    while True:
        outcomes = client.send_batches(source, threading.Event(), settled=settle)
        try:
            for batch, delivery in outcomes:
                if record(batch, delivery):
                    bar.update(len(batch.positions))
                if delivery.auth_failed:
                    outcomes.close()
                    raise AuthenticationError(
                        f"the service refused the API key (HTTP {delivery.status}); sending "
                        "stopped. The exception's .result holds the rows already sent.",
                        builder.build("not sent: the service refused the API key"),
                    )
        finally:
            outcomes.close()
        if not splitter.queued:
            return
        source = splitter.feed(iter(()))
