"""One send's use of a ledger: skip what it holds, record what the service confirms.

The pipeline opens a :class:`LedgerRun` with :func:`open_run`, passes it each
encoded slice (positions, calls, messageIds and the values its keys are made
of, all as columns) and each confirmed batch, and closes it at the end.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import compress
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..catalogue.operations import get_operation
from ..errors import LedgerError
from ..outcome.results import Status
from ..prepare.batching import Calls
from .keys import KEY_FIELDS, Path, column_keys
from .protocol import Ledger, LedgerArg, LedgerEntry
from .store import SqliteLedger

if TYPE_CHECKING:
    from ..catalogue.operation import Operation
    from ..outcome.results import ResultBuilder

__all__ = ["LedgerRun", "open_run"]

# The store's logger: these warnings were logged under it before the run
# stage had a module of its own, and log filters may name it.
logger = logging.getLogger("pandas_cio.ledger.store")


class LedgerRun:
    """One send's use of a ledger: skip what it has, record what is confirmed.

    Made by :func:`open_run`; the pipeline calls :meth:`changed_runs` on the
    encoded slices (their positions, calls, messageIds and key fields as
    columns: one lookup per slice, unchanged rows dropped with masks, no call
    decoded, see :mod:`pandas_cio.ledger.keys`), :meth:`record` for each confirmed batch
    and :meth:`close` at the end. A ledger given as a path is opened on first use
    and closed by :meth:`close`; a :class:`Ledger` object is left open.

    Parameters
    ----------
    ledger : Ledger, str or os.PathLike
        The store, or the path of a :class:`SqliteLedger`.
    operation : str
        The operation's name.
    full_refresh : bool
        Skip nothing (every row is sent), but still record.
    track_keys : bool
        Keep the key of every call the run sees, sent or not, in
        :attr:`seen_keys` (mirror deletes need them).

    Attributes
    ----------
    new, changed, unchanged : int
        Calls let through whose key (or, for events, whose
        messageId) the ledger did not hold; let through because the key's
        last delivered call differs; skipped. The plan of a send
        (:mod:`pandas_cio.ledger.history`) reports them.
    """

    def __init__(
        self,
        ledger: LedgerArg,
        operation: str,
        *,
        full_refresh: bool = False,
        track_keys: bool = False,
    ) -> None:
        if isinstance(ledger, str | os.PathLike):
            self._path: str | None = os.fspath(ledger)
            self._store: Ledger | None = None
        elif isinstance(ledger, Ledger):
            self._path, self._store = None, ledger
        else:
            raise TypeError(
                "ledger= takes a file path or an object with delivered(), latest(), "
                f"record() and flush() (see pandas_cio.Ledger), not {type(ledger).__name__}"
            )
        self.operation = operation
        self.call_type = get_operation(operation).call_type
        #: The paths of a call its key is made of: what the encoder hands on.
        self.fields = KEY_FIELDS.get(self.call_type, ())
        self.full_refresh = full_refresh
        self.unrecorded = 0
        self._owned: SqliteLedger | None = None
        # The calls let through and not yet recorded, run by run.
        self._pending: list[_Pending] = []
        # hash() of the keys sent in this run: a later row of the same key is
        # never skipped, since the service will then hold the earlier row's
        # content. A hash collision only costs a send, never a skip.
        self._sent_keys: set[int] = set()
        self.track_keys = track_keys
        self.seen_keys: set[str] = set()
        self.new = self.changed_count = self.unchanged = 0

    @property
    def store(self) -> Ledger:
        """The ledger, opened on first use when it was given as a path."""
        if self._store is None:
            assert self._path is not None
            self._owned = SqliteLedger(self._path)
            self._store = self._owned
        return self._store

    def close(self) -> None:
        """Flush what this run recorded; close the ledger if this run opened it.

        A flush that fails is logged, not raised: it must not hide the send's
        own outcome, and the recorded rows are kept by the store.
        """
        try:
            if self._store is not None:
                self._store.flush()
        except (LedgerError, sqlite3.Error, OSError) as exc:
            logger.warning("%s; the deliveries recorded by this send are kept", exc)
        finally:
            if self._owned is not None:
                self._owned.close()
                self._owned = None
                self._store = None

    def changed_runs(
        self,
        runs: Iterable[tuple[np.ndarray, Calls, Any, Mapping[Path, np.ndarray]]],
        builder: ResultBuilder,
    ) -> Iterator[tuple[np.ndarray, Calls]]:
        """Pass through the runs of calls to send; mark the others ``unchanged``.

        Parameters
        ----------
        runs : iterable of (numpy.ndarray, Calls, ids, fields)
            Per encoded slice: frame positions, their calls, their messageIds
            (an ``S26`` array or a list of str) and the values the calls hold
            at the paths :attr:`fields` names
            (:attr:`~pandas_cio.prepare.encoding.EncodedSlice.fields`), from
            which their keys are built; no call is decoded.
        builder : ResultBuilder
            Where skipped rows get their status. Its ``calls`` and
            ``call_bytes`` counters, already counting every encoded call,
            are lowered by the skipped ones, so they count what was sent.

        Yields
        ------
        (numpy.ndarray, Calls)
            Per run, the positions and calls that are not known to be delivered.
        """
        for positions, calls, ids, fields in runs:
            keys = column_keys(self.call_type, fields, len(positions))
            yield self.filter_run(positions, calls, ids, keys, builder)

    def filter_run(
        self,
        positions: np.ndarray,
        calls: Calls,
        ids: Any,
        keys: Sequence[str | None] | np.ndarray,
        builder: ResultBuilder,
    ) -> tuple[np.ndarray, Calls]:
        """Decide one run of calls with one lookup and array masks; see :meth:`changed_runs`.

        ``keys`` holds each call's key (:func:`~pandas_cio.ledger.keys.call_key`).
        """
        positions = np.asarray(positions, dtype=np.int64)
        rows = len(positions)
        if rows == 0:
            return positions, calls
        if isinstance(ids, np.ndarray) and ids.dtype.kind == "S":
            texts = ids.astype("U").astype(object)  # ULID text: ASCII, str objects made in C
        else:
            texts = np.empty(rows, dtype=object)
            texts[:] = list(ids)
        if isinstance(keys, np.ndarray) and keys.dtype == object:
            key_array = keys
        else:
            key_array = np.empty(rows, dtype=object)
            key_array[:] = keys
        keyed = pd.notna(key_array)
        send = np.ones(rows, dtype=bool)
        new = np.zeros(rows, dtype=bool)
        keyed_keys: list[str] = key_array[keyed].tolist()
        unkeyed_ids: list[str] = texts[~keyed].tolist()
        latest, done = self._lookup(keyed_keys, unkeyed_ids)
        if unkeyed_ids:
            delivered = pd.Series(unkeyed_ids, dtype=object).isin(done).to_numpy()
            send[~keyed] = ~delivered
            new[~keyed] = ~delivered
        if keyed_keys:
            hashes = list(map(hash, keyed_keys))
            previous = np.empty(len(keyed_keys), dtype=object)
            previous[:] = list(map(latest.get, keyed_keys))
            absent = pd.isna(previous)
            same = previous == texts[keyed]
            if len(set(hashes)) == len(hashes):
                # Each key once in the run: only keys sent earlier in this send
                # are never skipped (the service then holds the earlier row).
                hit = self._sent_keys.intersection(hashes)
                if hit:
                    same &= ~pd.Series(hashes).isin(hit).to_numpy()
                go = ~same
            else:
                # A key repeats within the run: decide in order, as each
                # earlier row of the key that is sent blocks the later ones.
                go = np.ones(len(hashes), dtype=bool)
                sent_keys = self._sent_keys
                for i, (seen, unchanged) in enumerate(zip(hashes, same.tolist(), strict=True)):
                    if unchanged and seen not in sent_keys:
                        go[i] = False
                    else:
                        sent_keys.add(seen)
            self._sent_keys.update(compress(hashes, go.tolist()))
            send[keyed] = go
            new[keyed] = go & absent
            if self.track_keys:
                self.seen_keys.update(keyed_keys)
        passed = int(send.sum())
        fresh = int(new.sum())
        self.new += fresh
        self.changed_count += passed - fresh
        self.unchanged += rows - passed
        if passed < rows:
            skipped = ~send
            builder.mark(positions[skipped], Status.UNCHANGED)
            builder.stats.calls -= rows - passed
            builder.stats.call_bytes -= int(calls.sizes()[skipped].sum())
        if passed:
            self._pending.append(_Pending(positions[send], texts[send], key_array[send]))
        return positions[send], calls.take(send)

    def _lookup(self, keyed: list[str], unkeyed: list[str]) -> tuple[dict[str, str], set[str]]:
        """Ask the ledger about a run: latest messageId per key, delivered unkeyed ids."""
        if self.full_refresh:
            return {}, set()
        keyed = list(dict.fromkeys(keyed))
        try:
            latest = self.store.latest(self.operation, keyed) if keyed else {}
            done = self.store.delivered(self.operation, unkeyed) if unkeyed else set()
        except LedgerError:
            raise
        except Exception as exc:
            raise _foreign("look up rows in", exc) from exc
        return latest, done

    def record(self, positions: Iterable[int]) -> None:
        """Record the calls at ``positions`` as delivered (one confirmed batch).

        A failure to write is logged and the send goes on: those rows were
        delivered, and the next run sends them again with the same messageIds.
        """
        wanted = np.fromiter(positions, dtype=np.int64)
        if not len(wanted) or not self._pending:
            return
        ids = np.empty(len(wanted), dtype=object)
        keys = np.empty(len(wanted), dtype=object)
        found = np.zeros(len(wanted), dtype=bool)
        low, high = int(wanted.min()), int(wanted.max())
        for part in self._pending:
            if part.high < low or part.low > high:
                continue
            where, hit = part.take(wanted)
            ids[hit] = part.ids[where]
            keys[hit] = part.keys[where]
            found |= hit
        self._pending = [p for p in self._pending if p.left]
        if not found.any():
            return
        id_list: list[str] = ids[found].tolist()
        key_list: list[str | None] = keys[found].tolist()
        try:
            store = self.store
            # The columns straight in, unless a subclass changed what record() does.
            if isinstance(store, SqliteLedger) and type(store).record is SqliteLedger.record:
                store.record_columns(self.operation, id_list, key_list)
            else:
                store.record(self.operation, list(map(LedgerEntry, id_list, key_list)))
        except (LedgerError, sqlite3.Error, OSError) as exc:
            # The store's own failure: the rows were delivered, so the send goes on.
            self.unrecorded += len(id_list)
            logger.warning(
                "%s; %d delivered rows are not in the ledger and will be sent again "
                "by the next run (same messageIds, so the service drops them)",
                exc,
                self.unrecorded,
            )
        except Exception as exc:
            # Outside the protocol's contract: the store's state is unknown, so stop.
            raise _foreign("record deliveries in", exc) from exc


class _Pending:
    """The calls of one run that were let through and are not yet recorded.

    Arrays rather than per-row objects: a million tracked tuples would make
    the garbage collector walk the heap again and again.
    """

    __slots__ = ("high", "ids", "keys", "left", "low", "positions", "waiting")

    def __init__(self, positions: np.ndarray, ids: np.ndarray, keys: np.ndarray) -> None:
        order = np.argsort(positions, kind="stable")
        self.positions, self.ids, self.keys = positions[order], ids[order], keys[order]
        self.waiting = np.ones(len(positions), dtype=bool)
        self.left = len(positions)
        self.low, self.high = int(self.positions[0]), int(self.positions[-1])

    def take(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mark the waiting calls at ``wanted``; return their indices and the hits."""
        where = np.searchsorted(self.positions, wanted)
        np.minimum(where, len(self.positions) - 1, out=where)
        hit = (self.positions[where] == wanted) & self.waiting[where]
        where = where[hit]
        self.waiting[where] = False
        self.left -= len(where)
        return where, hit


def _foreign(action: str, exc: Exception) -> LedgerError:
    """A LedgerError for a store's exception of another type.

    Only the exception's type is named: a store's own message may quote the
    keys or ids it was given, and those can be personal data. The original is
    kept as the ``__cause__``.
    """
    return LedgerError(
        f"cannot {action} the ledger: it raised {type(exc).__name__} (see the exception's "
        "cause); a ledger should raise pandas_cio.LedgerError"
    )


def open_run(
    ledger: LedgerArg | None,
    operation: Operation,
    *,
    full_refresh: bool = False,
    track_keys: bool = False,
) -> LedgerRun | None:
    """Return a :class:`LedgerRun` for a send, or None when there is no ledger.

    Raises
    ------
    TypeError
        ``ledger`` is neither a path nor a :class:`Ledger`.
    ValueError
        ``full_refresh=True`` without a ledger.
    """
    if ledger is None:
        if full_refresh:
            raise ValueError("full_refresh=True needs a ledger= to record into")
        return None
    return LedgerRun(ledger, operation.name, full_refresh=full_refresh, track_keys=track_keys)
