"""The library's messageIds: one ULID per event, the same on every retry and re-run.

A derived messageId is a ULID (:mod:`pandas_cio.prepare.ulid`) whose

- time part is the call's ``timestamp`` in milliseconds (0 for a call
  without one, such as an ``identify`` without ``timestamp=``; the pipeline
  stamps events without one, see :mod:`pandas_cio.prepare.stamping`), and whose
- 80 other bits are a BLAKE2b digest of the operation's name, a zero byte and
  the call's content (its sorted-key JSON without the messageId), with the
  row's *repeat number* as BLAKE2b's personalisation.

The repeat number of a row is how many rows before it in the send (in input
order, across every slice) have exactly the same content. Two identical
``Added to Cart`` rows are two events: the first gets repeat 0, the second
repeat 1, so their ids differ and the service keeps both, while a retry or a
re-run of the same frame gives each the same id again. Equal (operation,
content, repeat) means equal id, and, up to an 80-bit hash collision, the
converse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from itertools import pairwise

import numpy as np
import pandas as pd

from .ulid import MAX_TIME_MS, RANDOM_BYTES, encode, encode_one
from .values import parse_timestamps

__all__ = [
    "RepeatCounter",
    "as_strings",
    "digests",
    "message_id_for",
    "message_ids",
    "random_part",
    "time_parts",
]

_PERSON_BYTES = 16  # BLAKE2b's personalisation size


def _person(repeat: int) -> bytes:
    # Repeat 0 is the all-zero personalisation, BLAKE2b's own default, so the
    # common case hashes without passing one.
    return repeat.to_bytes(_PERSON_BYTES, "little")


def random_part(operation: str, content: bytes, repeat: int = 0) -> bytes:
    """Return the 80 bits after the time of a call's messageId.

    Parameters
    ----------
    operation : str
        The operation's name (``"track"``, ``"identify"``...).
    content : bytes
        The call's sorted-key JSON without its messageId.
    repeat : int
        How many earlier rows of the send have the same content.
    """
    digest = hashlib.blake2b(digest_size=RANDOM_BYTES, person=_person(repeat))
    digest.update(operation.encode())
    digest.update(b"\x00")
    digest.update(content)
    return digest.digest()


def message_id_for(operation: str, content: bytes, time: int = 0, repeat: int = 0) -> str:
    """Return the deterministic messageId of one call.

    Parameters
    ----------
    operation : str
        The operation's name.
    content : bytes
        The call's sorted-key JSON without its messageId.
    time : int
        The call's timestamp in milliseconds since the Unix epoch (0: none);
        clamped to the range a ULID holds.
    repeat : int
        How many earlier rows of the send have the same content.

    Returns
    -------
    str
        A ULID.

    Examples
    --------
    >>> first = message_id_for("track", b'{"event":"Added to Cart","type":"track"}')
    >>> second = message_id_for("track", b'{"event":"Added to Cart","type":"track"}', repeat=1)
    >>> len(first), first == second, first[:10]
    (26, False, '0000000000')
    """
    return encode_one(min(max(time, 0), MAX_TIME_MS), random_part(operation, content, repeat))


def digests(data: memoryview, bounds: np.ndarray) -> np.ndarray:
    """Repeat-0 random parts of calls stored back to back, each with its operation prefix.

    Row ``i`` is ``data[bounds[i]:bounds[i + 1]]`` and holds the operation's
    name, a zero byte and the call's content. Returns a ``uint8`` array of
    shape ``(rows, 10)``.
    """
    blake2b = hashlib.blake2b
    edges = bounds.tolist()
    # One C call per row, no copies: memoryview slices share the buffer.
    size = RANDOM_BYTES
    joined = b"".join([blake2b(data[a:b], digest_size=size).digest() for a, b in pairwise(edges)])
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, RANDOM_BYTES).copy()


class RepeatCounter:
    """Number each row by how many earlier rows of the send had the same content.

    One counter spans a send; it is fed the slices in input order. Content is
    keyed by the first 64 bits of its repeat-0 digest: two contents that
    collide there would only share a numbering, and their ids still differ
    because each id hashes its own content.

    The keys seen are kept as sorted numpy runs, merged as a binary counter
    merges its carries (a run is merged into the one before it when that one
    is no longer than twice its size), so that a send of ``n`` rows costs
    ``O(n log n)`` array work and 12 bytes a distinct content.

    Examples
    --------
    >>> import numpy as np
    >>> counter = RepeatCounter()
    >>> counter.take(np.array([7, 7, 8], dtype=np.uint64)).tolist()
    [0, 1, 0]
    >>> counter.take(np.array([8, 7], dtype=np.uint64)).tolist()
    [1, 2]
    """

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def take(self, keys: np.ndarray) -> np.ndarray:
        """Return each row's repeat number and count the rows as seen."""
        keys = np.asarray(keys, dtype=np.uint64)
        n = len(keys)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        # An unstable sort is several times faster; equal keys are rare, and
        # their rows are put back in input order below.
        order = np.argsort(keys)
        ordered = keys[order]
        first = np.empty(n, dtype=bool)
        first[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, n))
        for group in np.flatnonzero(counts > 1).tolist():
            start, stop = int(starts[group]), int(starts[group] + counts[group])
            order[start:stop] = np.sort(order[start:stop])
        group_of = np.cumsum(first) - 1
        unique = ordered[starts]
        before = np.zeros(len(unique), dtype=np.int64)
        for run_keys, run_counts in self._runs:
            at = np.minimum(np.searchsorted(run_keys, unique), len(run_keys) - 1)
            hit = run_keys[at] == unique
            before[hit] += run_counts[at[hit]].astype(np.int64)
        repeats = np.empty(n, dtype=np.int64)
        repeats[order] = np.arange(n) - starts[group_of] + before[group_of]
        self._add(unique, counts.astype(np.uint32))
        return repeats

    def _add(self, keys: np.ndarray, counts: np.ndarray) -> None:
        self._runs.append((keys, counts))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            (a_keys, a_counts), (b_keys, b_counts) = self._runs.pop(-2), self._runs.pop()
            # Two sorted runs of distinct keys: add the counts of shared keys,
            # insert the others in place (linear, no sort).
            at = np.searchsorted(a_keys, b_keys)
            hit = at < len(a_keys)
            hit[hit] = a_keys[at[hit]] == b_keys[hit]
            a_counts = a_counts.copy()
            a_counts[at[hit]] += b_counts[hit]
            fresh = ~hit
            keys = np.insert(a_keys, at[fresh], b_keys[fresh])
            counts = np.insert(a_counts, at[fresh], b_counts[fresh])
            self._runs.append((keys, counts))


def message_ids(
    randomness: np.ndarray,
    times: np.ndarray,
    counter: RepeatCounter,
    rehash: Callable[[int, int], bytes],
) -> np.ndarray:
    """Turn repeat-0 digests and times into final messageIds, in row order.

    Parameters
    ----------
    randomness : numpy.ndarray
        Repeat-0 random parts, shape ``(rows, 10)``; rows with a repeat
        number above 0 are overwritten with their own.
    times : numpy.ndarray
        Each row's time part in milliseconds (already clamped).
    counter : RepeatCounter
        The send's counter.
    rehash : callable
        ``rehash(row, repeat)`` returns the row's random part for that repeat
        number (called only for repeated content, which is rare).

    Returns
    -------
    numpy.ndarray
        ``uint8`` text of one ULID per row, shape ``(rows, 26)`` (see
        :func:`as_strings`).
    """
    keys = np.ascontiguousarray(randomness[:, :8]).view("<u8").ravel()
    repeats = counter.take(keys)
    for row in np.flatnonzero(repeats).tolist():
        randomness[row] = np.frombuffer(rehash(row, int(repeats[row])), dtype=np.uint8)
    return encode(times, randomness)


def as_strings(text: np.ndarray) -> list[str]:
    """The ids of :func:`message_ids` (or :func:`.ulid.encode`) as Python strings."""
    return list(text.view(f"S{text.shape[1]}").ravel().astype("U").tolist())


def _clamped(ms: np.ndarray, missing: np.ndarray, untimed: int) -> np.ndarray:
    # Before 1970 the 48 bits cannot count; such calls get time 0.
    ms = np.where(missing, untimed, np.clip(ms, 0, MAX_TIME_MS))
    return ms.astype(np.uint64)


def time_parts(timestamps: pd.Series | str | None, rows: int, untimed: int = 0) -> np.ndarray:
    """Each row's ULID time: its timestamp in milliseconds, ``untimed`` where it has none.

    Parameters
    ----------
    timestamps : pandas.Series, str or None
        The slice's timestamp column (any form validation accepts), one ISO
        8601 constant for every row, or None when the calls carry none.
    rows : int
        Rows in the slice.
    untimed : int
        Time part of rows without a timestamp.

    Returns
    -------
    numpy.ndarray
        ``uint64`` milliseconds, truncated as the call's text is.
    """
    if timestamps is None:
        return np.full(rows, untimed, dtype=np.uint64)
    if isinstance(timestamps, str):
        stamp = pd.Timestamp(timestamps)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        ms = np.datetime64(stamp.tz_localize(None), "ms").astype(np.int64)
        return _clamped(np.full(rows, ms), np.zeros(rows, dtype=bool), untimed)
    series = parse_timestamps(timestamps)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    # The same conversion as the call's text (values.iso_utc): truncated to ms.
    array = series.to_numpy(dtype="datetime64[ms]")
    return _clamped(array.view(np.int64), np.isnat(array), untimed)
