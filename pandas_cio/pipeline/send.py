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
from typing import Any, Literal, TypedDict, cast

import numpy as np
import pandas as pd

from ..catalogue.operations import Operation, get_operation
from ..delivery.client import Client
from ..delivery.splitting import DEFAULT_MAX_SPLIT_REQUESTS, Splitter
from ..delivery.termination import Terminated, sigterm_raises
from ..delivery.transport import CircuitOpen, Delivery
from ..errors import (
    AuthenticationError,
    InterruptedSendError,
    LedgerError,
    LedgerSendError,
    MirrorGuardError,
    QualityGateError,
    SchemaError,
    SendError,
    ServiceUnavailableError,
    TerminatedSendError,
)
from ..ledger import LedgerArg, LedgerRun, MirrorLedger, open_run
from ..ledger.history import fingerprint, record_run, run_record
from ..ledger.mirror import DEFAULT_MAX_DELETES, Mirror, label, mirror_for
from ..outcome.gates import Gates, Limit
from ..outcome.progress import Progress
from ..outcome.results import STATUS_DTYPE, ResultBuilder, Status
from ..prepare.batching import MAX_BATCH_BYTES, MAX_CALL_BYTES, Batch, Calls, pack_runs
from ..prepare.encoding import Encoder
from ..prepare.plan import CallPlan, Missing, PayloadSpec, make_plan
from ..prepare.stamping import Stamp, untimed_rows
from ..prepare.stamping import resolve as resolve_timestamp
from ..prepare.supersede import Superseded, explain_unsent, superseded
from ..prepare.validation import validate

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


# The reason of mirror deletions a send never reached: its own rows stopped it.
_DELETIONS_UNSENT = "not sent: the send stopped first"


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
    mirror: str | None
    mirror_max_deletes: Limit | None
    max_invalid: Limit | None
    max_too_large: Limit | None


def _encoded_runs(
    frame: pd.DataFrame,
    encoder: Encoder,
    positions: np.ndarray,
    builder: ResultBuilder,
    max_call_bytes: int,
    chunk_rows: int,
) -> Iterator[tuple[np.ndarray, Calls, Any, dict[tuple[str, ...], np.ndarray]]]:
    """Encode valid rows slice by slice; mark invalid and too-large rows on the way.

    Yields each slice's positions, calls, messageIds and fields (``EncodedSlice``).
    """
    stats = builder.stats
    for start, stop in _slices(len(positions), chunk_rows):
        part = encoder.encode(frame, positions[start:stop])
        for position, reason in part.invalid.items():
            builder.mark(position, Status.INVALID, reason)
        builder.message_id[part.positions] = part.ids
        kept = np.asarray(part.positions, dtype=np.int64)
        calls = Calls.of(part.calls)
        ids, fields = part.ids, part.fields
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
            ids = (
                np.delete(ids, big)
                if isinstance(ids, np.ndarray)
                else np.delete(np.asarray(ids, dtype=object), big).tolist()
            )
            fields = {path: np.delete(values, big) for path, values in fields.items()}
        stats.calls += len(calls)
        stats.call_bytes += int(sizes.sum())
        yield kept, calls, ids, fields


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


def _plain(
    runs: Iterator[tuple[np.ndarray, Calls, Any, Any]],
) -> Iterator[tuple[np.ndarray, Calls]]:
    for positions, calls, _, _ in runs:
        yield positions, calls


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
    mirror: str | None = None,
    mirror_max_deletes: Limit | None = DEFAULT_MAX_DELETES,
    max_invalid: Limit | None = None,
    max_too_large: Limit | None = None,
) -> pd.DataFrame:
    """Send every row of ``frame`` as one call of ``operation``; return the result frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        The input.
    operation : str
        A name from :data:`pandas_cio.catalogue.operations.OPERATIONS`.
    args : Mapping[str, Any]
        The operation's role arguments.
    payload : list, mapping or None
        Payload columns; None for every column no role uses.
    client : Client, optional
        Where to send; made from the environment (and closed) when None.
        Not needed for a dry run.
    dry_run : bool
        Validate, encode and batch, but send nothing. With a ledger, the
        result's ``attrs["cio"]["plan"]`` (and the report's first lines) say
        what the send would do (see :mod:`pandas_cio.ledger.history`).
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
        record each confirmed batch (see :mod:`pandas_cio.ledger.store`). A path
        opens a :class:`~pandas_cio.ledger.store.SqliteLedger` for this send. Every
        send that is not a dry run adds a row to the ledger's history
        (``ledger.runs()``).
    full_refresh : bool
        Send every row whatever the ledger says, and record them.
    max_split_requests : int
        The most extra requests this send makes to isolate calls the service
        refuses in a batch it answers 400 (see :mod:`pandas_cio.delivery.splitting`);
        0 fails a refused batch's rows without splitting it.
    journeys : bool
        Apply the checks only Customer.io Journeys needs (see
        :func:`~pandas_cio.prepare.plan.make_plan`); False for workspaces that send
        to other destinations only.
    mirror : str, optional
        With a ledger, delete in Customer.io what the ledger holds and the
        frame lacks (see :mod:`pandas_cio.ledger.mirror`): ``"delete"`` or
        ``"suppress"`` for identify, ``"delete"`` for objects.upsert and
        devices.register, ``"unrelate"`` for objects.relate. The result
        then has the columns ``action`` and ``key``, and one row per
        deletion after the input's rows.
    mirror_max_deletes : int, float or None
        The most keys a mirror send may delete: a count, a fraction of the
        keys the ledger holds (default 0.25, never fewer than 10), or None.
    max_invalid, max_too_large : int, float or None
        Quality gates (see :mod:`pandas_cio.outcome.gates`): stop before any request
        when more rows than this count (int) or fraction (float) of the
        frame are ``invalid`` / ``too_large``.

    Returns
    -------
    pandas.DataFrame
        One row per input row with the input's index (with ``mirror=``, one
        more row per deletion after them).

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
    QualityGateError
        A quality gate failed; nothing was sent.
    MirrorGuardError
        A mirror send would delete too much; nothing was sent.

    Each is a :class:`~pandas_cio.errors.SendError` whose ``.result`` holds
    every row's status as far as the send got (for the last two, the
    dry-run result).
    """
    if errors not in ("mark", "raise"):
        raise ValueError(f"errors= must be 'mark' or 'raise', not {errors!r}")
    op = get_operation(operation)
    started = dt.datetime.now(dt.UTC)
    mirrored = mirror_for(op, mirror, ledger, mirror_max_deletes)
    gates = Gates.of(max_invalid, max_too_large)
    # Events without timestamp= are stamped with this instant (pandas_cio.prepare.stamping).
    stamp = resolve_timestamp(op, frame, args, started=started, ledger=ledger is not None)
    sync = open_run(ledger, op, full_refresh=full_refresh, track_keys=mirrored is not None)
    send = _Send(
        frame,
        op,
        args,
        payload,
        stamp,
        sync,
        mirrored,
        gates,
        client=client,
        dry_run=dry_run,
        errors=errors,
        missing=missing,
        progress=progress,
        chunk_rows=chunk_rows,
        max_split_requests=max_split_requests,
        journeys=journeys,
    )
    try:
        result = send.run()
    except SendError as exc:
        if sync is not None and not dry_run:
            _remember(sync, op, exc.result, started, type(exc).__name__, frame)
        raise
    else:
        if sync is not None and not dry_run:
            _remember(sync, op, result, started, "completed", frame)
    finally:
        if sync is not None:
            sync.close()
    counts = result["status"].value_counts()
    logger.info("cio.%s: %s", op.name, ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    return result


def _remember(
    sync: LedgerRun,
    op: Operation,
    result: pd.DataFrame,
    started: dt.datetime,
    outcome: str,
    frame: pd.DataFrame,
) -> None:
    """Add the send to the ledger's history; a failure is logged (pandas_cio.ledger.history)."""
    try:
        store = sync.store
    except LedgerError as exc:
        logger.warning("%s; this send is missing from the ledger's history", exc)
        return
    record = run_record(
        result,
        operation=op.name,
        started=started,
        ended=dt.datetime.now(dt.UTC),
        outcome=outcome,
        frame_print=fingerprint(frame),
    )
    record_run(store, op.name, record)


class _Send:
    """The stages of one send, in order; :func:`run` wraps it with the ledger's history."""

    def __init__(
        self,
        frame: pd.DataFrame,
        op: Operation,
        args: Mapping[str, Any],
        payload: PayloadSpec,
        stamp: Stamp,
        sync: LedgerRun | None,
        mirrored: Mirror | None,
        gates: Gates,
        *,
        client: Client | None,
        dry_run: bool,
        errors: Errors,
        missing: Missing,
        progress: bool | None,
        chunk_rows: int,
        max_split_requests: int,
        journeys: bool,
    ) -> None:
        self.frame, self.op, self.args, self.payload = frame, op, args, payload
        self.stamp, self.sync, self.mirrored, self.gates = stamp, sync, mirrored, gates
        self.client, self.dry_run, self.errors, self.missing = client, dry_run, errors, missing
        self.progress, self.chunk_rows, self.journeys = progress, chunk_rows, journeys
        self.max_split_requests = max_split_requests
        # Ids of rows that cannot be sent: their keys are never mirror-deleted.
        self._kept: set[str] = set()
        self._held: list[str] = []  # the keys the ledger holds for the operation
        self._replaced: Superseded | None = None

    def run(self) -> pd.DataFrame:
        frame, op, sync, errors = self.frame, self.op, self.sync, self.errors
        plan = self.stamp.apply(
            make_plan(
                op,
                frame,
                self.stamp.args,
                self.payload,
                missing=self.missing,
                journeys=self.journeys,
            )
        )
        builder = ResultBuilder(frame.index, op.name)
        builder.stats.dry_run = self.dry_run
        builder.stats.timestamp = self.stamp.constant
        splitter = Splitter(builder.stats, self.max_split_requests)  # checks the limit

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
        # Only the last valid row of a person or object is sent (pandas_cio.prepare.supersede).
        replaced = superseded(plan, frame, valid)
        if len(replaced.rows):
            builder.mark(replaced.rows, Status.SUPERSEDED)
            builder.error[replaced.rows] = np.asarray(replaced.reasons, dtype=object)
            valid = np.setdiff1d(valid, replaced.rows, assume_unique=True)

        client = self.client
        own_client = client is None and not self.dry_run
        if own_client:
            client = Client()
        self._replaced = replaced
        try:
            return self._send(plan, builder, splitter, valid, client)
        finally:
            if own_client and client is not None:
                client.close()

    def _send(
        self,
        plan: CallPlan,
        builder: ResultBuilder,
        splitter: Splitter,
        valid: np.ndarray,
        client: Client | None,
    ) -> pd.DataFrame:
        frame, op, sync, dry_run = self.frame, self.op, self.sync, self.dry_run
        max_call = client.max_call_bytes if client else MAX_CALL_BYTES
        max_body = client.max_batch_bytes if client else MAX_BATCH_BYTES
        fields = sync.fields if sync is not None else ()  # what the ledger's keys need
        encoder = Encoder(plan, untimed_ms=self.stamp.untimed_ms, fields=fields)
        runs = _encoded_runs(frame, encoder, valid, builder, max_call, self.chunk_rows)
        deletions: list[str] = []

        def checked() -> Iterator[Batch]:
            """Every batch, after the gates and the mirror guard passed."""
            # They decide before any request, so every row is validated,
            # encoded and looked up first (inside the try below: a ledger
            # failure, Ctrl-C or SIGTERM here ends the send as it would later).
            if sync is not None:
                pending = list(sync.changed_runs(runs, builder))
            else:
                pending = list(_plain(runs))
            if self.mirrored is not None:
                assert sync is not None
                deletions.extend(self._deletions(plan, builder, sync))
            refusal = self.gates.failed(builder)
            if refusal is not None:
                raise QualityGateError(
                    refusal, self._dry(builder, pending, max_body, deletions, refusal)
                )
            if self.mirrored is not None:
                assert sync is not None
                present = len(sync.seen_keys) + len(self._kept)
                refusal = self.mirrored.refused(len(deletions), len(self._held), present)
                if refusal is not None:
                    raise MirrorGuardError(
                        refusal, self._dry(builder, pending, max_body, deletions, refusal)
                    )
            return _counted(pack_runs(iter(pending), max_batch_bytes=max_body), builder)

        def streamed() -> Iterator[Batch]:
            """Every batch, encoded and looked up while the earlier ones are sent."""
            # Bodies are cut from each slice's buffer with arrays; a ledger
            # takes the slice's ids and keys as columns and drops unchanged rows.
            if sync is not None:
                kept = sync.changed_runs(runs, builder)
                return _counted(pack_runs(kept, max_batch_bytes=max_body), builder)
            return _counted(pack_runs(_plain(runs), max_batch_bytes=max_body), builder)

        try:
            with sigterm_raises(), Progress(len(valid), self.progress, f"cio.{op.name}") as bar:
                gated = self.mirrored is not None or self.gates.active
                batches = checked() if gated else streamed()
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
                self._partial(builder, "not confirmed: the send was interrupted", deletions),
            ) from None
        except Terminated:
            raise TerminatedSendError(
                "the process was told to stop (SIGTERM) during the send; the exception's "
                ".result says which rows were sent",
                self._partial(
                    builder, "not confirmed: the process was told to stop (SIGTERM)", deletions
                ),
            ) from None
        except LedgerError as exc:
            raise LedgerSendError(
                f"{exc}; sending stopped. The exception's .result says which rows were sent",
                self._partial(
                    builder, "not sent: the ledger failed, so sending stopped", deletions
                ),
            ) from exc
        except CircuitOpen as exc:
            raise ServiceUnavailableError(
                # The reason already says the send stopped and how to resume.
                f"{exc.reason}. The exception's .result says which rows were sent",
                self._partial(builder, f"not sent: {exc.reason}", deletions),
            ) from exc
        except AuthenticationError as exc:
            if self.mirrored is None:
                raise
            raise AuthenticationError(
                str(exc), self._combined(exc.result, self._unsent(deletions, _DELETIONS_UNSENT))
            ) from None
        if self._replaced is not None:
            explain_unsent(builder, self._replaced, frame.index)
        result = builder.build()
        if self.mirrored is not None:
            result = self._mirror(result, builder, deletions, client)
        elif sync is not None:
            result.attrs["cio"]["plan"] = self._plan(builder, None)
        return result

    # Mirror deletes (pandas_cio.ledger.mirror) and the plan (pandas_cio.ledger.history).

    def _deletions(self, plan: CallPlan, builder: ResultBuilder, sync: LedgerRun) -> list[str]:
        """The keys to delete; call once every row has been through the ledger."""
        assert self.mirrored is not None
        unsendable = np.flatnonzero(
            np.isin(builder.status, [_status_code(Status.INVALID), _status_code(Status.TOO_LARGE)])
        )
        self._kept = self.mirrored.protected(plan, self.frame, unsendable)
        self._held = cast(MirrorLedger, sync.store).keys(self.op.name)
        return self.mirrored.deletions(self._held, sync.seen_keys, self._kept)

    def _plan(self, builder: ResultBuilder, deletions: list[str] | None) -> dict[str, Any]:
        sync = self.sync
        assert sync is not None
        counts = builder.counts()
        return {
            "operation": self.op.name,
            "new": sync.new,
            "changed": sync.changed_count,
            "unchanged": sync.unchanged,
            "superseded": counts.get(Status.SUPERSEDED.value, 0),
            "invalid": counts.get(Status.INVALID.value, 0),
            "too_large": counts.get(Status.TOO_LARGE.value, 0),
            "mirror": None if self.mirrored is None else self.mirrored.action,
            "delete": None if deletions is None else len(deletions),
        }

    def _dry(
        self,
        builder: ResultBuilder,
        pending: list[tuple[np.ndarray, Calls]],
        max_body: int,
        deletions: list[str],
        refusal: str,
    ) -> pd.DataFrame:
        """The dry-run result of a send a gate or the guard stopped."""
        for batch in pack_runs(iter(pending), max_batch_bytes=max_body):
            builder.mark(
                np.asarray(batch.positions, dtype=np.int64), Status.DRY_RUN, batch=batch.number
            )
        builder.stats.dry_run = True
        if self._replaced is not None:
            explain_unsent(builder, self._replaced, self.frame.index)
        result = builder.build()
        if self.sync is not None:
            result.attrs["cio"]["plan"] = self._plan(builder, deletions if self.mirrored else None)
        result.attrs["cio"]["stopped"] = refusal
        if self.mirrored is None:
            return result
        return self._combined(result, self._run_deletions(deletions, None, dry_run=True))

    def _partial(self, builder: ResultBuilder, reason: str, deletions: list[str]) -> pd.DataFrame:
        result = builder.build(reason)
        if self.mirrored is None:
            return result
        return self._combined(result, self._unsent(deletions, _DELETIONS_UNSENT))

    def _unsent(self, keys: list[str], reason: str) -> pd.DataFrame:
        """Deletion rows that were never sent: ``failed`` with ``reason``."""
        assert self.mirrored is not None
        part, _ = self.mirrored.frame(keys)
        builder = ResultBuilder(part.index, self.mirrored.target)
        result = builder.build(reason)
        return self._rows(result, keys)

    def _rows(self, deleted: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        """A deletion send's result as rows to append: labels, action and key."""
        assert self.mirrored is not None
        deleted = deleted.copy()
        deleted.index = label(self.frame.index, len(keys))
        deleted["action"] = self.mirrored.row_action
        deleted["key"] = pd.array(keys, dtype="string")
        return deleted

    def _run_deletions(
        self, keys: list[str], client: Client | None, *, dry_run: bool
    ) -> pd.DataFrame:
        assert self.mirrored is not None
        if not keys:
            empty = ResultBuilder(pd.RangeIndex(0), self.mirrored.target)
            empty.stats.dry_run = dry_run
            return self._rows(empty.build(), keys)
        part, args = self.mirrored.frame(keys)
        deleted = run(
            part,
            self.mirrored.target,
            args,
            None,
            client=client,
            dry_run=dry_run,
            progress=False,
            max_split_requests=self.max_split_requests,
            journeys=self.journeys,
        )
        return self._rows(deleted, keys)

    def _combined(self, result: pd.DataFrame, deleted: pd.DataFrame) -> pd.DataFrame:
        """The input's rows, then the deletion rows; counters and plan for both."""
        assert self.mirrored is not None
        attrs = dict(result.attrs.get("cio", {}))
        mine = deleted.attrs.get("cio", {})
        result = result.assign(action="send", key=pd.array([None] * len(result), dtype="string"))
        combined = pd.concat([result, deleted])
        combined["status"] = combined["status"].astype(STATUS_DTYPE)
        combined["action"] = combined["action"].astype("string")
        for name in (
            "rows",
            "calls",
            "call_bytes",
            "batches",
            "body_bytes",
            "requests",
            "retries",
            "split_batches",
        ):
            attrs[name] = int(attrs.get(name) or 0) + int(mine.get(name) or 0)
        attrs["mirror"] = {
            "action": self.mirrored.action,
            "operation": self.mirrored.target,
            "rows": len(deleted),
            "deleted": int((deleted["status"] == Status.SENT).sum()),
        }
        combined.attrs = {"cio": attrs}
        return combined

    def _mirror(
        self,
        result: pd.DataFrame,
        builder: ResultBuilder,
        deletions: list[str],
        client: Client | None,
    ) -> pd.DataFrame:
        """Send the deletions after the frame's rows; forget the confirmed ones."""
        sync, dry_run = self.sync, self.dry_run or client is None
        assert sync is not None and self.mirrored is not None
        plan = self._plan(builder, deletions)
        try:
            deleted = self._run_deletions(deletions, client, dry_run=dry_run)
        except SendError as exc:
            # The deletions' own early stop: the input's rows are done.
            partial = self._combined(result, self._rows(exc.result, deletions))
            self._forget(partial)
            raise type(exc)(str(exc), partial) from exc
        combined = self._combined(result, deleted)
        combined.attrs["cio"]["plan"] = plan
        if not dry_run:
            self._forget(combined)
        return combined

    def _forget(self, combined: pd.DataFrame) -> None:
        """Make the ledger forget the keys whose deletion the service confirmed."""
        assert self.sync is not None
        done = combined[(combined["action"] != "send") & (combined["status"] == Status.SENT)]
        keys = done["key"].astype(str).tolist()
        if keys:
            cast(MirrorLedger, self.sync.store).forget(self.op.name, keys)


def _status_code(status: Status) -> int:
    return list(Status).index(status)


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
