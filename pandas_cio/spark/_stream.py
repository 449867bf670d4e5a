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

from pyspark.sql import DataFrame

from ._job import Job, plan_send

__all__ = ["BatchSender"]


class BatchSender:
    """Send one micro-batch and write its statuses; the value of :func:`foreach_batch`.

    Parameters
    ----------
    job : Job
        What each micro-batch sends, and how (see :class:`~pandas_cio.spark._job.Job`).
    results_path : str
        Directory of the status table; micro-batch ``N`` goes to
        ``results_path/batch_id=N``, so reading ``results_path`` gives a
        ``batch_id`` column.
    results_format : str
        A Spark file format (``"parquet"``, ``"json"``, ``"orc"``...).
    """

    def __init__(self, job: Job, *, results_path: str, results_format: str) -> None:
        if not results_path:
            raise ValueError("results_path= must name a directory for the status rows")
        self.job = job
        self.results_path = results_path.rstrip("/")
        self.results_format = results_format

    def __repr__(self) -> str:
        return (
            f"BatchSender({self.job.operation!r}, results_path={self.results_path!r}, "
            f"dry_run={self.job.shipment is None})"
        )

    def path(self, batch_id: int) -> str:
        """Where the statuses of micro-batch ``batch_id`` are written."""
        return f"{self.results_path}/batch_id={batch_id}"

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        """Send micro-batch ``batch`` and write its status rows (for ``foreachBatch``)."""
        planned = plan_send(batch, self.job)
        try:
            # The write is the one action, so the micro-batch is sent exactly once here.
            planned.statuses.write.mode("overwrite").format(self.results_format).save(
                self.path(batch_id)
            )
        finally:
            if planned.key is not None:
                planned.key.destroy()  # the key leaves the executors with the micro-batch
