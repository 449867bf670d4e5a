"""The sending loop: every batch to the service, refused ones split, each row's final status."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

from ..delivery.client import Client
from ..delivery.splitting import Splitter
from ..delivery.transport import Delivery
from ..errors import AuthenticationError
from ..ledger import LedgerRun
from ..outcome.progress import Progress
from ..outcome.results import ResultBuilder, Status
from ..prepare.batching import Batch

__all__ = ["deliver"]


def deliver(
    client: Client,
    batches: Iterator[Batch],
    builder: ResultBuilder,
    bar: Progress,
    splitter: Splitter,
    sync: LedgerRun | None = None,
) -> None:
    """Send every batch, split refused ones, and give each row its final status.

    Raises
    ------
    AuthenticationError
        The service refused the key; the result holds the rows already sent.
    """
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
