"""Pack encoded calls into ``/batch`` bodies that respect the service's limits.

The service accepts one call of at most 32 KB and one ``/batch`` request of at
most 500 KB, and answers 200 while silently dropping anything larger. So the
size of every call and body is checked here, before it is sent, and a call
that can never fit is reported instead of sent.

Everything here is pure: no I/O, no clock. The body's ``sentAt`` is written at
send time, and its length is fixed, so the size computed here is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, overload

import numpy as np

__all__ = [
    "ENVELOPE_BYTES",
    "MAX_BATCH_BYTES",
    "MAX_CALL_BYTES",
    "SENT_AT_LENGTH",
    "Batch",
    "Calls",
    "pack",
    "pack_runs",
]

# The documented limits are "32KB" per call and "500KB" per request. Decimal
# kilobytes are the smaller reading, so they are safe whichever the service means.
MAX_CALL_BYTES = 32_000
MAX_BATCH_BYTES = 500_000

# sentAt is always "YYYY-MM-DDTHH:MM:SS.mmmZ".
SENT_AT_LENGTH = 24
_HEAD = b'{"batch":['
_TAIL = b'],"sentAt":"'
_END = b'"}'
ENVELOPE_BYTES = len(_HEAD) + len(_TAIL) + SENT_AT_LENGTH + len(_END)


class Calls(Sequence[bytes]):
    """Encoded calls stored back to back in one buffer, each followed by a comma.

    The column-wise encoder writes a slice's calls this way, so a request body
    is one slice of the buffer: no per-call object is made unless someone
    indexes or iterates (which gives ``bytes``, without the comma).

    Parameters
    ----------
    data : bytes-like
        The buffer.
    bounds : numpy.ndarray
        ``len(calls) + 1`` offsets into ``data``; call ``i`` is
        ``data[bounds[i] : bounds[i + 1] - 1]`` and the byte after it a comma.
    """

    __slots__ = ("_bounds", "_data")

    def __init__(self, data: Any, bounds: np.ndarray) -> None:
        self._data = memoryview(data).cast("B")
        self._bounds = np.asarray(bounds, dtype=np.int64)

    @classmethod
    def of(cls, calls: Iterable[bytes]) -> Calls:
        """Return ``calls`` as a :class:`Calls` (itself when it already is one)."""
        if isinstance(calls, Calls):
            return calls
        items = list(calls)
        bounds = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum([len(c) + 1 for c in items], out=bounds[1:])
        return cls(b"".join(c + b"," for c in items), bounds)

    @classmethod
    def concat(cls, parts: Sequence[Calls]) -> Calls:
        """Join several runs of calls into one (copies their bytes)."""
        data = b"".join(p._data[p._bounds[0] : p._bounds[-1]] for p in parts)
        sizes = np.concatenate([np.diff(p._bounds) for p in parts])
        bounds = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=bounds[1:])
        return cls(data, bounds)

    def __len__(self) -> int:
        return len(self._bounds) - 1

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> Calls: ...

    def __getitem__(self, index: int | slice) -> bytes | Calls:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return Calls.of(self[i] for i in range(start, stop, step))
            return Calls(self._data, self._bounds[start : max(start, stop) + 1])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("call index out of range")
        return bytes(self._data[self._bounds[index] : self._bounds[index + 1] - 1])

    def __iter__(self) -> Iterator[bytes]:
        data, bounds = self._data, self._bounds.tolist()
        for start, stop in pairwise(bounds):
            yield bytes(data[start : stop - 1])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable-looking sequence, like list

    def __repr__(self) -> str:
        return f"<Calls: {len(self)} calls, {self.nbytes:,} bytes>"

    @property
    def nbytes(self) -> int:
        """Bytes of the calls and their commas."""
        return int(self._bounds[-1] - self._bounds[0])

    def sizes(self) -> np.ndarray:
        """Length of each call in bytes (without its comma)."""
        return np.diff(self._bounds) - 1

    def joined(self) -> memoryview:
        """The calls joined by commas, as one view of the buffer (no copy)."""
        if len(self) == 0:
            return self._data[0:0]
        return self._data[self._bounds[0] : self._bounds[-1] - 1]

    def take(self, keep: np.ndarray) -> Calls:
        """The calls where the boolean mask ``keep`` is true, in order.

        Runs of consecutive kept calls are copied as one piece each, so the
        cost follows the number of runs (few when almost all or almost none
        are kept), not the number of calls; all kept returns ``self``.
        """
        keep = np.asarray(keep, dtype=bool)
        if len(keep) != len(self):
            raise ValueError(f"the mask has {len(keep)} entries for {len(self)} calls")
        if keep.all():
            return self
        edges = np.diff(np.concatenate(([0], keep.view(np.int8), [0])))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        bounds, data = self._bounds, self._data
        data_out = b"".join(
            data[bounds[a] : bounds[b]]
            for a, b in zip(starts.tolist(), stops.tolist(), strict=True)
        )
        weights = np.diff(bounds)[keep]
        out = np.zeros(len(weights) + 1, dtype=np.int64)
        np.cumsum(weights, out=out[1:])
        return Calls(data_out, out)

    def drop(self, indices: Sequence[int]) -> Calls:
        """A copy without the calls at ``indices``."""
        gone = set(indices)
        return Calls.of(call for i, call in enumerate(self) if i not in gone)


@dataclass(frozen=True)
class Batch:
    """One ``/batch`` request's worth of calls.

    Attributes
    ----------
    number : int
        0-based sequence number within the send.
    positions : tuple of int
        Frame positions of the calls, in order.
    calls : sequence of bytes
        The encoded calls: a tuple, or a :class:`Calls` view of an encoded slice.
    size : int
        The exact size of the body :meth:`body` returns.
    """

    number: int
    positions: tuple[int, ...]
    calls: Sequence[bytes]
    size: int

    def body(self, sent_at: str) -> bytes:
        """Return the request body with the given ``sentAt`` (24 characters)."""
        if len(sent_at) != SENT_AT_LENGTH:
            raise ValueError(f"sentAt must be {SENT_AT_LENGTH} characters, got {sent_at!r}")
        calls = self.calls
        joined = calls.joined() if isinstance(calls, Calls) else b",".join(calls)
        return b"".join((_HEAD, joined, _TAIL, sent_at.encode(), _END))

    def halves(self) -> tuple[Batch, Batch]:
        """Return the first and second half of the batch's calls as two batches.

        Both keep this batch's ``number`` (the sender numbers them), and each
        size is exact. Used to isolate a call the service refuses.

        Raises
        ------
        ValueError
            The batch has fewer than two calls.
        """
        count = len(self.positions)
        if count < 2:
            raise ValueError("a batch of one call cannot be split")
        middle = count // 2
        parts = []
        for start, stop in ((0, middle), (middle, count)):
            calls = self.calls[start:stop]
            weight = calls.nbytes if isinstance(calls, Calls) else sum(len(c) + 1 for c in calls)
            size = ENVELOPE_BYTES + weight - 1  # no comma after the last call
            parts.append(Batch(self.number, self.positions[start:stop], calls, size))
        return parts[0], parts[1]


def pack(
    calls: Iterable[tuple[int, bytes]], *, max_batch_bytes: int = MAX_BATCH_BYTES
) -> Iterator[Batch]:
    """Pack ``(position, call)`` pairs into batches, keeping their order.

    The pairs form of :func:`pack_runs` (one run of every call), for callers
    that hold calls one by one; the batches are the same.

    Parameters
    ----------
    calls : iterable of (int, bytes)
        Frame positions and encoded calls.
    max_batch_bytes : int
        Largest body to produce, envelope included.

    Yields
    ------
    Batch
    """
    items = list(calls)
    positions = np.fromiter((p for p, _ in items), dtype=np.int64, count=len(items))
    return pack_runs([(positions, Calls.of(c for _, c in items))], max_batch_bytes=max_batch_bytes)


def pack_runs(
    runs: Iterable[tuple[np.ndarray, Calls]], *, max_batch_bytes: int = MAX_BATCH_BYTES
) -> Iterator[Batch]:
    """Pack runs of calls into batches, keeping their order.

    The size of a batch is checked before a call is added to it, so no
    yielded batch is ever over ``max_batch_bytes``; a batch is closed only
    when the next call would not fit. Calls must already be at most
    ``max_batch_bytes - ENVELOPE_BYTES`` each (the caller removes over-limit
    calls first, see :data:`MAX_CALL_BYTES`). Cutting points come from a
    cumulative sum and a binary search per batch, so no Python code runs per
    call, and each batch's calls stay a view of their run's buffer (a batch
    spanning two runs copies its own bytes).

    Parameters
    ----------
    runs : iterable of (numpy.ndarray, Calls)
        Frame positions and their calls, run after run, in order.
    max_batch_bytes : int
        Largest body to produce, envelope included.

    Yields
    ------
    Batch
        Numbered from 0.
    """
    if max_batch_bytes <= ENVELOPE_BYTES:
        raise ValueError(f"max_batch_bytes must exceed the envelope ({ENVELOPE_BYTES} bytes)")
    return _packed(runs, max_batch_bytes)


def _packed(runs: Iterable[tuple[np.ndarray, Calls]], max_batch_bytes: int) -> Iterator[Batch]:
    # A batch of calls whose sizes plus one comma each sum to w has a body of
    # ENVELOPE_BYTES + w - 1 bytes (no comma after the last call).
    budget = max_batch_bytes - ENVELOPE_BYTES + 1
    number = 0
    open_positions: list[np.ndarray] = []
    open_calls: list[Calls] = []
    used = 0  # weight of the open batch
    for positions, calls in runs:
        n = len(calls)
        if n == 0:
            continue
        weights = calls.sizes() + 1
        too_big = np.flatnonzero(weights > budget)
        if len(too_big):
            raise ValueError(f"call at position {positions[too_big[0]]} can never fit in a batch")
        cumulative = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(weights, out=cumulative[1:])
        start = 0
        while start < n:
            stop = int(np.searchsorted(cumulative, cumulative[start] + budget - used, "right")) - 1
            if stop == start:  # the open batch is full: close it first
                yield _batch(number, open_positions, open_calls, used)
                number += 1
                open_positions, open_calls, used = [], [], 0
                continue
            open_positions.append(positions[start:stop])
            open_calls.append(calls[start:stop])
            used += int(cumulative[stop] - cumulative[start])
            if stop == n:
                break  # the batch may take calls from the next run
            yield _batch(number, open_positions, open_calls, used)
            number += 1
            open_positions, open_calls, used = [], [], 0
            start = stop
    if open_calls:
        yield _batch(number, open_positions, open_calls, used)


def _batch(number: int, positions: list[np.ndarray], calls: list[Calls], weight: int) -> Batch:
    joined = calls[0] if len(calls) == 1 else Calls.concat(calls)
    flat = positions[0] if len(positions) == 1 else np.concatenate(positions)
    return Batch(number, tuple(flat.tolist()), joined, ENVELOPE_BYTES + weight - 1)
