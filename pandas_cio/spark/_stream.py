"""Structured Streaming: a ``foreachBatch`` function that sends each micro-batch.

Spark runs the function once per micro-batch and, after a failure, may run it
again for the same ``batch_id``. Both halves of the work are safe to repeat:
every call's messageId is derived from its content, so a replayed micro-batch
re-sends the same ids and the service keeps one copy; and the statuses of a
micro-batch overwrite their own directory (``batch_id=N``), so a replay
replaces rather than appends. Together that is effectively-once delivery and
exactly one status row per input row per micro-batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import DataFrame

from ..prepare.plan import Missing, PayloadSpec
from ._job import Shipment, plan_send

__all__ = ["BatchSender"]


class BatchSender:
    """Send one micro-batch and write its statuses; the value of :func:`foreach_batch`.

    Parameters
    ----------
    operation : str
        The operation's name.
    args : Mapping[str, Any]
        Role arguments.
    payload : list, mapping or None
        Payload columns.
    results_path : str
        Directory of the status table; micro-batch ``N`` goes to
        ``results_path/batch_id=N``, so reading ``results_path`` gives a
        ``batch_id`` column.
    results_format : str
        A Spark file format (``"parquet"``, ``"json"``, ``"orc"``...).
    shipment : Shipment or None
        Settings and key, resolved on the driver; None for a dry run.
    keys : sequence of str
        Extra columns copied into the status rows.
    max_concurrent_tasks : int or None
        As for :func:`pandas_cio.spark.send`.
    missing : {"omit", "null"}
        What missing payload values become.
    chunk_rows : int
        Rows encoded per slice in each task.
    """

    def __init__(
        self,
        operation: str,
        args: Mapping[str, Any],
        payload: PayloadSpec,
        *,
        results_path: str,
        results_format: str,
        shipment: Shipment | None,
        keys: Sequence[str],
        max_concurrent_tasks: int | None,
        missing: Missing,
        chunk_rows: int,
        journeys: bool = True,
    ) -> None:
        if not results_path:
            raise ValueError("results_path= must name a directory for the status rows")
        self.operation = operation
        self.args = dict(args)
        self.payload = payload
        self.results_path = results_path.rstrip("/")
        self.results_format = results_format
        self._shipment = shipment
        self.keys = tuple(keys)
        self.max_concurrent_tasks = max_concurrent_tasks
        self.missing = missing
        self.chunk_rows = chunk_rows
        self.journeys = journeys

    def __repr__(self) -> str:
        return (
            f"BatchSender({self.operation!r}, results_path={self.results_path!r}, "
            f"dry_run={self._shipment is None})"
        )

    def path(self, batch_id: int) -> str:
        """Where the statuses of micro-batch ``batch_id`` are written."""
        return f"{self.results_path}/batch_id={batch_id}"

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        """Send micro-batch ``batch`` and write its status rows (for ``foreachBatch``)."""
        planned = plan_send(
            batch,
            self.operation,
            self.args,
            self.payload,
            shipment=self._shipment,
            keys=self.keys,
            max_concurrent_tasks=self.max_concurrent_tasks,
            missing=self.missing,
            chunk_rows=self.chunk_rows,
            journeys=self.journeys,
        )
        try:
            # The write is the one action, so the micro-batch is sent exactly once here.
            planned.statuses.write.mode("overwrite").format(self.results_format).save(
                self.path(batch_id)
            )
        finally:
            if planned.key is not None:
                planned.key.destroy()  # the key leaves the executors with the micro-batch
