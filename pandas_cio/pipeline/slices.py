"""Encode the valid rows slice by slice, as runs of calls the packer cuts into batches.

The first slice is small so that the first request leaves early; slices then
double up to ``chunk_rows``. Invalid and too-large rows are marked on the way,
and the builder's counters count the calls and the batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..outcome.results import ResultBuilder, Status
from ..prepare.batching import Batch, Calls
from ..prepare.encoding import Encoder

__all__ = ["counted", "encoded_runs", "plain"]

# Rows in the first slice: about one 500 KB batch of typical calls.
_FIRST_SLICE_ROWS = 2_000


def encoded_runs(
    frame: pd.DataFrame,
    encoder: Encoder,
    positions: np.ndarray,
    builder: ResultBuilder,
    max_call_bytes: int,
    chunk_rows: int,
) -> Iterator[tuple[np.ndarray, Calls, Any, dict[tuple[str, ...], np.ndarray]]]:
    """Encode valid rows slice by slice; mark invalid and too-large rows on the way.

    Yields each slice's positions, calls, messageIds and the fields the ledger's
    keys need (``EncodedSlice``), so that nothing downstream decodes a call.
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


def plain(
    runs: Iterator[tuple[np.ndarray, Calls, Any, Any]],
) -> Iterator[tuple[np.ndarray, Calls]]:
    """The runs without their messageIds and fields (a send without a ledger)."""
    for positions, calls, _, _ in runs:
        yield positions, calls


def counted(batches: Iterator[Batch], builder: ResultBuilder) -> Iterator[Batch]:
    """The batches, each counted in the builder's counters as it passes."""
    for batch in batches:
        builder.stats.batches += 1
        builder.stats.body_bytes += batch.size
        yield batch
