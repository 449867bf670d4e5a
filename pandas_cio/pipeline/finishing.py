"""The end of a send: its result frame, the ledger's plan, and a mirror send's deletions.

A send that finishes, stops early or is stopped by a gate ends here: the
builder's rows become the result (a stopped send's dry-run or partial result),
with the plan of a send with a ledger (:mod:`pandas_cio.ledger.history`) and,
for ``mirror=``, one more row per deletion after the input's
(:mod:`pandas_cio.ledger.mirror`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pandas as pd

from ..catalogue.operation import Operation
from ..delivery.client import Client
from ..errors import SendError
from ..ledger import LedgerRun, MirrorLedger
from ..ledger.mirror import Mirror, label
from ..outcome.columns import ACTION, KEY, SEND_ACTION, STATUS
from ..outcome.results import COUNTERS, STATUS_DTYPE, ResultBuilder, Status
from ..prepare.batching import Calls, pack_runs
from ..prepare.plan import CallPlan
from ..prepare.supersede import Superseded, explain_unsent
from .options import Settings

__all__ = ["DELETIONS_UNSENT", "Finisher", "Runner"]

#: Sends the deletions of a mirror send: :func:`pandas_cio.pipeline.send.run`.
Runner = Callable[..., pd.DataFrame]

#: The reason of mirror deletions a send never reached: its own rows stopped it.
DELETIONS_UNSENT = "not sent: the send stopped first"


class Finisher:
    """Build the result of one send; with ``mirror=``, send and add the deletions.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows sent.
    op : Operation
        The operation.
    sync : LedgerRun or None
        The ledger's view of the send.
    mirrored : Mirror or None
        The mirror's deletions, with ``mirror=``.
    settings : Settings
        The send's settings (the deletions' send shares some).
    rerun : Runner
        How the deletions are sent.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        op: Operation,
        sync: LedgerRun | None,
        mirrored: Mirror | None,
        settings: Settings,
        rerun: Runner,
    ) -> None:
        self.frame, self.op, self.sync, self.mirrored = frame, op, sync, mirrored
        self.settings, self.rerun = settings, rerun
        # Ids of rows that cannot be sent: their keys are never mirror-deleted.
        self.kept: set[str] = set()
        self.held: list[str] = []  # the keys the ledger holds for the operation
        self.replaced: Superseded | None = None

    def result(
        self, builder: ResultBuilder, deletions: list[str], client: Client | None
    ) -> pd.DataFrame:
        """The result of a send that went to its end."""
        if self.replaced is not None:
            explain_unsent(builder, self.replaced, self.frame.index)
        result = builder.build()
        if self.mirrored is not None:
            return self._mirror(result, builder, deletions, client)
        if self.sync is not None:
            result.attrs["cio"]["plan"] = self.plan(builder, None)
        return result

    def deletions(self, plan: CallPlan, builder: ResultBuilder, sync: LedgerRun) -> list[str]:
        """The keys to delete; call once every row has been through the ledger."""
        assert self.mirrored is not None
        unsendable = builder.having(Status.INVALID, Status.TOO_LARGE)
        self.kept = self.mirrored.protected(plan, self.frame, unsendable)
        self.held = cast(MirrorLedger, sync.store).keys(self.op.name)
        return self.mirrored.deletions(self.held, sync.seen_keys, self.kept)

    def plan(self, builder: ResultBuilder, deletions: list[str] | None) -> dict[str, Any]:
        """What the send with a ledger does (``attrs["cio"]["plan"]``)."""
        sync = self.sync
        assert sync is not None
        return {
            "operation": self.op.name,
            "new": sync.new,
            "changed": sync.changed_count,
            "unchanged": sync.unchanged,
            Status.SUPERSEDED.value: builder.count(Status.SUPERSEDED),
            Status.INVALID.value: builder.count(Status.INVALID),
            Status.TOO_LARGE.value: builder.count(Status.TOO_LARGE),
            "mirror": None if self.mirrored is None else self.mirrored.action,
            "delete": None if deletions is None else len(deletions),
        }

    def dry(
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
        if self.replaced is not None:
            explain_unsent(builder, self.replaced, self.frame.index)
        result = builder.build()
        if self.sync is not None:
            result.attrs["cio"]["plan"] = self.plan(builder, deletions if self.mirrored else None)
        result.attrs["cio"]["stopped"] = refusal
        if self.mirrored is None:
            return result
        return self.combined(result, self._run_deletions(deletions, None, dry_run=True))

    def partial(self, builder: ResultBuilder, reason: str, deletions: list[str]) -> pd.DataFrame:
        """The result of a send that stopped early: unfinished rows ``failed`` with ``reason``."""
        result = builder.build(reason)
        if self.mirrored is None:
            return result
        return self.combined(result, self.unsent(deletions, DELETIONS_UNSENT))

    def unsent(self, keys: list[str], reason: str) -> pd.DataFrame:
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
        deleted[ACTION] = self.mirrored.row_action
        deleted[KEY] = pd.array(keys, dtype="string")
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
        deleted = self.rerun(
            part,
            self.mirrored.target,
            args,
            None,
            client=client,
            dry_run=dry_run,
            progress=False,
            max_split_requests=self.settings.max_split_requests,
            journeys=self.settings.journeys,
        )
        return self._rows(deleted, keys)

    def combined(self, result: pd.DataFrame, deleted: pd.DataFrame) -> pd.DataFrame:
        """The input's rows, then the deletion rows; counters and plan for both."""
        assert self.mirrored is not None
        attrs = dict(result.attrs.get("cio", {}))
        mine = deleted.attrs.get("cio", {})
        result = result.copy()
        result[ACTION] = SEND_ACTION
        result[KEY] = pd.array([None] * len(result), dtype="string")
        combined = pd.concat([result, deleted])
        combined[STATUS] = combined[STATUS].astype(STATUS_DTYPE)
        combined[ACTION] = combined[ACTION].astype("string")
        for name in COUNTERS:
            attrs[name] = int(attrs.get(name) or 0) + int(mine.get(name) or 0)
        attrs["mirror"] = {
            ACTION: self.mirrored.action,
            "operation": self.mirrored.target,
            "rows": len(deleted),
            "deleted": int((deleted[STATUS] == Status.SENT).sum()),
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
        sync, dry_run = self.sync, self.settings.dry_run or client is None
        assert sync is not None and self.mirrored is not None
        plan = self.plan(builder, deletions)
        try:
            deleted = self._run_deletions(deletions, client, dry_run=dry_run)
        except SendError as exc:
            # The deletions' own early stop: the input's rows are done.
            partial = self.combined(result, self._rows(exc.result, deletions))
            self._forget(partial)
            raise type(exc)(str(exc), partial) from exc
        combined = self.combined(result, deleted)
        combined.attrs["cio"]["plan"] = plan
        if not dry_run:
            self._forget(combined)
        return combined

    def _forget(self, combined: pd.DataFrame) -> None:
        """Make the ledger forget the keys whose deletion the service confirmed."""
        assert self.sync is not None
        done = combined[(combined[ACTION] != SEND_ACTION) & (combined[STATUS] == Status.SENT)]
        keys = done[KEY].astype(str).tolist()
        if keys:
            cast(MirrorLedger, self.sync.store).forget(self.op.name, keys)
