"""Pack encoded calls into ``/batch`` bodies that respect the service's limits.

The service accepts one call of at most 32 KB and one ``/batch`` request of at
most 500 KB, and answers 200 while silently dropping anything larger. So the
size of every call and body is checked here, before it is sent, and a call
that can never fit is reported instead of sent.

Everything here is pure: no I/O, no clock. The body's ``sentAt`` is written at
send time, and its length is fixed, so the size computed here is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = [
    "ENVELOPE_BYTES",
    "MAX_BATCH_BYTES",
    "MAX_CALL_BYTES",
    "SENT_AT_LENGTH",
    "Batch",
    "pack",
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


@dataclass(frozen=True)
class Batch:
    """One ``/batch`` request's worth of calls.

    Attributes
    ----------
    number : int
        0-based sequence number within the send.
    positions : tuple of int
        Frame positions of the calls, in order.
    calls : tuple of bytes
        The encoded calls.
    size : int
        The exact size of the body :meth:`body` returns.
    """

    number: int
    positions: tuple[int, ...]
    calls: tuple[bytes, ...]
    size: int

    def body(self, sent_at: str) -> bytes:
        """Return the request body with the given ``sentAt`` (24 characters)."""
        if len(sent_at) != SENT_AT_LENGTH:
            raise ValueError(f"sentAt must be {SENT_AT_LENGTH} characters, got {sent_at!r}")
        return b"".join((_HEAD, b",".join(self.calls), _TAIL, sent_at.encode(), _END))


def pack(
    calls: Iterable[tuple[int, bytes]],
    *,
    max_batch_bytes: int = MAX_BATCH_BYTES,
    max_batch_calls: int | None = None,
    first_number: int = 0,
) -> Iterator[Batch]:
    """Pack ``(position, call)`` pairs into batches, keeping their order.

    The size of a batch is checked before a call is added to it, so no
    yielded batch is ever over ``max_batch_bytes``. Calls must already be at
    most ``max_batch_bytes - ENVELOPE_BYTES`` each (the caller removes
    over-limit calls first, see :data:`MAX_CALL_BYTES`).

    Parameters
    ----------
    calls : iterable of (int, bytes)
        Frame positions and encoded calls.
    max_batch_bytes : int
        Largest body to produce, envelope included.
    max_batch_calls : int, optional
        Largest number of calls in one batch.
    first_number : int
        Number of the first batch.

    Yields
    ------
    Batch
    """
    if max_batch_bytes <= ENVELOPE_BYTES:
        raise ValueError(f"max_batch_bytes must exceed the envelope ({ENVELOPE_BYTES} bytes)")
    number = first_number
    positions: list[int] = []
    chunk: list[bytes] = []
    size = ENVELOPE_BYTES
    for position, call in calls:
        extra = len(call) + (1 if chunk else 0)  # the separating comma
        if ENVELOPE_BYTES + len(call) > max_batch_bytes:
            raise ValueError(f"call at position {position} can never fit in a batch")
        full = max_batch_calls is not None and len(chunk) >= max_batch_calls
        if chunk and (size + extra > max_batch_bytes or full):
            yield Batch(number, tuple(positions), tuple(chunk), size)
            number += 1
            positions, chunk, size = [], [], ENVELOPE_BYTES
            extra = len(call)
        positions.append(position)
        chunk.append(call)
        size += extra
    if chunk:
        yield Batch(number, tuple(positions), tuple(chunk), size)
