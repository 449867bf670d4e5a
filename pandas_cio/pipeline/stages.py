"""The stages of one send, in order: plan, validate, supersede, encode, gate, send.

Every stage before sending is pure and works on row positions, so duplicate or
MultiIndex labels never confuse it; the result builder gives the result the
input's index back at the end (:mod:`.finishing`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext

import numpy as np
import pandas as pd

from ..catalogue.operation import Operation
from ..delivery.client import Client
from ..delivery.splitting import Splitter
from ..delivery.termination import Terminated, sigterm_raises
from ..delivery.transport import CircuitOpen
from ..errors import (
    AuthenticationError,
    InterruptedSendError,
    LedgerError,
    LedgerSendError,
    MirrorGuardError,
    QualityGateError,
    SchemaError,
    ServiceUnavailableError,
    TerminatedSendError,
)
from ..ledger import LedgerRun
from ..ledger.mirror import Mirror
from ..outcome.columns import ERROR
from ..outcome.gates import Gates
from ..outcome.progress import Progress
from ..outcome.results import ResultBuilder, Status
from ..prepare.batching import MAX_BATCH_BYTES, MAX_CALL_BYTES, Batch, pack_runs
from ..prepare.encoding import Encoder
from ..prepare.plan import CallPlan, PayloadSpec, make_plan
from ..prepare.stamping import Stamp, untimed_rows
from ..prepare.supersede import superseded
from ..prepare.validation import validate
from .delivering import deliver
from .finishing import DELETIONS_UNSENT, Finisher, Runner
from .lines import Grouped
from .options import Settings
from .slices import counted, encoded_runs, plain

__all__ = ["Stages"]

# The reason of an event row without a timestamp value in a send with a ledger.
_UNTIMED = (
    "timestamp: missing; with ledger= every event needs one, or a resumed or repeated "
    "send could not recognise it and would send it again (fill it in)"
)


class Stages:
    """The stages of one send, in order; :func:`~.send.run` wraps it with the ledger's history.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to send (with line items, one row per order).
    op : Operation
        The operation.
    stamp : Stamp
        The send's timestamp (see :mod:`pandas_cio.prepare.stamping`).
    sync : LedgerRun or None
        The ledger's view of the send.
    mirrored : Mirror or None
        The mirror's deletions, with ``mirror=``.
    gates : Gates
        The quality gates.
    settings : Settings
        The other options.
    grouped : Grouped or None
        The line items the rows were folded from (see :mod:`.lines`).
    rerun : Runner
        How a mirror send's deletions are sent.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        op: Operation,
        stamp: Stamp,
        sync: LedgerRun | None,
        mirrored: Mirror | None,
        gates: Gates,
        settings: Settings,
        *,
        grouped: Grouped | None,
        rerun: Runner,
    ) -> None:
        self.frame, self.op, self.stamp, self.sync = frame, op, stamp, sync
        self.mirrored, self.gates, self.settings, self.grouped = mirrored, gates, settings, grouped
        self.finish = Finisher(frame, op, sync, mirrored, settings, rerun)

    def run(self, payload: PayloadSpec) -> pd.DataFrame:
        """Plan, validate and supersede the rows, then send the valid ones; the result."""
        frame, op, sync, settings = self.frame, self.op, self.sync, self.settings
        plan = self.stamp.apply(
            make_plan(
                op,
                frame,
                self.stamp.args,
                payload,
                missing=settings.missing,
                journeys=settings.journeys,
            )
        )
        grouped = self.grouped
        builder = ResultBuilder(frame.index, op.name, None if grouped is None else grouped.members)
        builder.stats.dry_run = settings.dry_run
        builder.stats.timestamp = self.stamp.constant
        splitter = Splitter(builder.stats, settings.max_split_requests)  # checks the limit

        with nullcontext() if grouped is None else grouped.vouched():
            reasons = validate(plan, frame)
        if grouped is not None:
            # An order whose lines disagree is invalid whatever else is wrong with it.
            reasons.update(grouped.conflicts(plan))
        if sync is not None:
            timed = np.setdiff1d(np.arange(len(frame)), np.fromiter(reasons, dtype=np.int64))
            for position in untimed_rows(plan, frame, timed).tolist():
                reasons[position] = _UNTIMED
        if settings.errors == "raise":
            failures = builder.failures(reasons)
            if len(failures):
                raise SchemaError(
                    f"{len(failures)} of {builder.stats.rows} rows are invalid for {op.name}; "
                    f"first: {failures[ERROR].iloc[0]}",
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

        client = settings.client
        own_client = client is None and not settings.dry_run
        if own_client:
            client = Client()
        self.finish.replaced = replaced
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
        frame, op, sync, finish = self.frame, self.op, self.sync, self.finish
        dry_run = self.settings.dry_run
        max_call = client.max_call_bytes if client else MAX_CALL_BYTES
        max_body = client.max_batch_bytes if client else MAX_BATCH_BYTES
        fields = sync.fields if sync is not None else ()  # what the ledger's keys need
        encoder = Encoder(plan, untimed_ms=self.stamp.untimed_ms, fields=fields)
        runs = encoded_runs(frame, encoder, valid, builder, max_call, self.settings.chunk_rows)
        deletions: list[str] = []

        def checked() -> Iterator[Batch]:
            """Every batch, after the gates and the mirror guard passed."""
            # They decide before any request, so every row is validated,
            # encoded and looked up first (inside the try below: a ledger
            # failure, Ctrl-C or SIGTERM here ends the send as it would later).
            if sync is not None:
                pending = list(sync.changed_runs(runs, builder))
            else:
                pending = list(plain(runs))
            if self.mirrored is not None:
                assert sync is not None
                deletions.extend(finish.deletions(plan, builder, sync))
            refusal = self.gates.failed(builder)
            if refusal is not None:
                raise QualityGateError(
                    refusal, finish.dry(builder, pending, max_body, deletions, refusal)
                )
            if self.mirrored is not None:
                assert sync is not None
                present = len(sync.seen_keys) + len(finish.kept)
                refusal = self.mirrored.refused(len(deletions), len(finish.held), present)
                if refusal is not None:
                    raise MirrorGuardError(
                        refusal, finish.dry(builder, pending, max_body, deletions, refusal)
                    )
            return counted(pack_runs(iter(pending), max_batch_bytes=max_body), builder)

        def streamed() -> Iterator[Batch]:
            """Every batch, encoded and looked up while the earlier ones are sent."""
            # Bodies are cut from each slice's buffer with arrays; a ledger
            # takes the slice's ids and keys as columns and drops unchanged rows.
            if sync is not None:
                kept = sync.changed_runs(runs, builder)
                return counted(pack_runs(kept, max_batch_bytes=max_body), builder)
            return counted(pack_runs(plain(runs), max_batch_bytes=max_body), builder)

        try:
            progress = self.settings.progress
            with sigterm_raises(), Progress(len(valid), progress, f"cio.{op.name}") as bar:
                gated = self.mirrored is not None or self.gates.active
                batches = checked() if gated else streamed()
                if dry_run or client is None:
                    for batch in batches:
                        rows = np.asarray(batch.positions, dtype=np.int64)
                        builder.mark(rows, Status.DRY_RUN, batch=batch.number)
                        bar.update(len(batch.positions))
                else:
                    deliver(client, batches, builder, bar, splitter, sync)
        except KeyboardInterrupt:
            raise InterruptedSendError(
                "the send was interrupted; the exception's .result says which rows were sent",
                finish.partial(builder, "not confirmed: the send was interrupted", deletions),
            ) from None
        except Terminated:
            raise TerminatedSendError(
                "the process was told to stop (SIGTERM) during the send; the exception's "
                ".result says which rows were sent",
                finish.partial(
                    builder, "not confirmed: the process was told to stop (SIGTERM)", deletions
                ),
            ) from None
        except LedgerError as exc:
            raise LedgerSendError(
                f"{exc}; sending stopped. The exception's .result says which rows were sent",
                finish.partial(
                    builder, "not sent: the ledger failed, so sending stopped", deletions
                ),
            ) from exc
        except CircuitOpen as exc:
            raise ServiceUnavailableError(
                # The reason already says the send stopped and how to resume.
                f"{exc.reason}. The exception's .result says which rows were sent",
                finish.partial(builder, f"not sent: {exc.reason}", deletions),
            ) from exc
        except AuthenticationError as exc:
            if self.mirrored is None:
                raise
            raise AuthenticationError(
                str(exc), finish.combined(exc.result, finish.unsent(deletions, DELETIONS_UNSENT))
            ) from None
        return finish.result(builder, deletions, client)
