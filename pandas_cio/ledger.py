"""A delivery ledger: send only what changed, and resume a send that died half-way.

A ledger remembers which calls the service confirmed. Pass one to any
operation (``df.cio.identify(user_id="id", ledger="cio_ledger.sqlite")``) and
the pipeline asks it, before sending, which rows are already delivered (they
get status ``unchanged`` and are not sent), and tells it, after each batch is
confirmed, which calls that batch carried.

What "already delivered" means depends on the call type:

- Calls about a person or an object (``identify`` and ``group`` calls: for
  example ``identify``, ``objects.upsert``, ``objects.relate``) have a *key*:
  the person (``userId``, else ``anonymousId``) for identify; the object
  (``traits.object_type_id``, ``groupId``) plus the person, when the call has
  one, for group calls. The ledger keeps the last delivered messageId per
  (operation, key). A row is unchanged when its key's last delivered messageId
  is its own, and no earlier row of the same run with that key was sent. So a
  trait that changes and changes back is sent both times.
- Every other call (``track``, ``page``, ``screen``, ``alias`` and the semantic
  events) is unchanged when its messageId was delivered before.

A messageId is a hash of the operation and the call's whole content (see
:func:`pandas_cio.encoding.message_id_for`), so "same messageId" means "same
call": a row is never skipped because of a different row. With
``message_id=`` naming your own id column, your ids are the identity instead.

Only confirmed batches are recorded, each in one transaction, so a crash,
SIGKILL or Ctrl-C at any moment leaves the ledger true: it may miss batches
that were in flight (they are sent again on the next run, with the same
messageIds, so the service drops the repeats), but it never lists a call the
service did not confirm.

Plugging in another store
-------------------------
:class:`Ledger` is a :class:`typing.Protocol` of three bulk methods; any object
that has them can be passed as ``ledger=`` (the caller then owns it and
closes it). A store for a table in a warehouse implements ``delivered`` and
``latest`` as one ``SELECT ... WHERE message_id IN (...)`` each, and
``record`` as one transaction that inserts the entries into a deliveries table
and upserts the keyed ones into a latest-per-key table. It should raise
:class:`LedgerError` when the store fails: a failed ``record`` is logged and
the send goes on (those rows are sent again next run), a failed lookup stops
the send before the rows it was about are sent.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeAlias, runtime_checkable

import orjson
import pandas as pd

from .errors import CioError
from .results import Status

if TYPE_CHECKING:
    from .operations import Operation
    from .results import ResultBuilder

__all__ = [
    "DEFAULT_TIMEOUT",
    "Ledger",
    "LedgerArg",
    "LedgerEntry",
    "LedgerError",
    "LedgerRun",
    "SqliteLedger",
    "call_key",
    "open_run",
]

logger = logging.getLogger("pandas_cio.ledger")

# Seconds a writer waits for another to finish its transaction before giving
# up. One confirmed batch is one short transaction (milliseconds), so only a
# stuck process holds the file this long.
DEFAULT_TIMEOUT = 30.0

# Rows looked up in the ledger at once: large enough that a lookup costs far
# less than encoding the rows, small enough not to delay the first batch.
LOOKUP_ROWS = 10_000

# Values bound into one "IN (...)" list; old SQLite builds allow 999 per query.
_SQL_CHUNK = 900

# Marks a SQLite file as a pandas_cio ledger (PRAGMA application_id), so a
# typo'd path to some other database is refused instead of written into.
_APPLICATION_ID = 0x63696F4C  # "cioL"
_SCHEMA_VERSION = 1

# WITHOUT ROWID: the primary key is the table, with no second index beside it.
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS delivered (
        operation TEXT NOT NULL,
        message_id TEXT NOT NULL,
        key TEXT,
        delivered_at INTEGER NOT NULL,
        PRIMARY KEY (operation, message_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS latest (
        operation TEXT NOT NULL,
        key TEXT NOT NULL,
        message_id TEXT NOT NULL,
        PRIMARY KEY (operation, key)
    ) WITHOUT ROWID""",
)


class LedgerError(CioError):
    """The ledger could not be opened, read or written.

    Rows already recorded stay recorded: re-running the send with the same
    ledger resumes where it stopped.
    """


class LedgerEntry(NamedTuple):
    """One delivered call, as recorded.

    Attributes
    ----------
    message_id : str
        The call's messageId.
    key : str or None
        The person or object the call is about (see :func:`call_key`), or
        None for event-like calls.
    """

    message_id: str
    key: str | None


@runtime_checkable
class Ledger(Protocol):
    """What the pipeline needs from a store of delivered calls.

    Every method works on many calls at once and is scoped by ``operation``
    (the operation's name, e.g. ``"identify"``). Implement these three
    methods to keep the ledger somewhere else than SQLite; see the module
    docstring for the failure contract.

    Examples
    --------
    A store in memory (for tests; it forgets everything when the process ends):

    >>> class MemoryLedger:
    ...     def __init__(self):
    ...         self.ids, self.last = set(), {}
    ...     def delivered(self, operation, message_ids):
    ...         return {m for m in message_ids if (operation, m) in self.ids}
    ...     def latest(self, operation, keys):
    ...         return {k: self.last[operation, k] for k in keys if (operation, k) in self.last}
    ...     def record(self, operation, entries):
    ...         for message_id, key in entries:
    ...             self.ids.add((operation, message_id))
    ...             if key is not None:
    ...                 self.last[operation, key] = message_id
    >>> isinstance(MemoryLedger(), Ledger)
    True
    """

    def delivered(self, operation: str, message_ids: Sequence[str]) -> set[str]:
        """Return those of ``message_ids`` recorded as delivered for ``operation``."""
        ...

    def latest(self, operation: str, keys: Sequence[str]) -> dict[str, str]:
        """Return the last recorded messageId of each of ``keys`` that has one."""
        ...

    def record(self, operation: str, entries: Sequence[LedgerEntry]) -> None:
        """Record delivered calls, all or none, durably before returning.

        Entries come in the order the calls were sent; for a key that appears
        more than once, the last entry is its latest.
        """
        ...


LedgerArg: TypeAlias = Ledger | str | os.PathLike[str]


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _SQL_CHUNK):
        yield values[start : start + _SQL_CHUNK]


class SqliteLedger:
    """The embedded ledger: one SQLite file (standard library ``sqlite3``).

    The file is in WAL mode and each :meth:`record` is one ``BEGIN IMMEDIATE``
    transaction, so a reader never sees half a batch and a killed process
    leaves the file consistent. Several processes or threads may share one
    file: SQLite serialises their transactions (a writer waits up to
    ``timeout`` seconds for another's commit), and every write is idempotent.
    One instance may also be shared by threads (calls are serialised).
    Keep the file on a local disk: WAL does not work over network file systems.

    Commits use ``synchronous=NORMAL``: they survive a crash of the process
    but the last few may be lost in a power failure or an OS crash. The
    ledger then lists fewer calls than were delivered, never more, so the
    next run sends those again with the same messageIds.

    Parameters
    ----------
    path : str or os.PathLike
        The file; created (with its directory) when missing. ``":memory:"``
        makes a private ledger that ends with the object.
    timeout : float
        Seconds to wait for another writer before raising :class:`LedgerError`.

    Examples
    --------
    >>> import pandas as pd, pandas_cio
    >>> people = pd.DataFrame({"id": ["u1"], "plan": ["pro"]})
    >>> with pandas_cio.SqliteLedger(":memory:") as ledger:
    ...     people.cio.identify(user_id="id", ledger=ledger, dry_run=True)["status"].tolist()
    ['dry_run']
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self._lock = threading.Lock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: no implicit transactions; record() opens its own.
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open the ledger {self.path!r}: {exc}") from exc
        try:
            self._setup(self._conn)
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    def _setup(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                application_id = conn.execute("PRAGMA application_id").fetchone()[0]
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                tables = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
                if application_id != _APPLICATION_ID and tables:
                    raise LedgerError(
                        f"{self.path!r} is a SQLite database but not a pandas_cio ledger; "
                        "give the ledger a file of its own"
                    )
                if version > _SCHEMA_VERSION:
                    raise LedgerError(
                        f"the ledger {self.path!r} was written by a newer pandas_cio "
                        f"(schema {version}); upgrade pandas_cio to use it"
                    )
                # One statement at a time: executescript() would commit first.
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._error("open", exc) from exc

    def _error(self, action: str, exc: sqlite3.Error) -> LedgerError:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return LedgerError(
                f"cannot {action} the ledger {self.path!r}: another writer held it for "
                f"more than {self.timeout:g} s"
            )
        return LedgerError(f"cannot {action} the ledger {self.path!r}: {exc}")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LedgerError(f"the ledger {self.path!r} is closed")
        return self._conn

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else "open"
        return f"SqliteLedger({self.path!r}, {state})"

    def __enter__(self) -> SqliteLedger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __len__(self) -> int:
        """Number of delivered calls recorded, every operation included."""
        with self._lock:
            conn = self._connection()
            try:
                return int(conn.execute("SELECT count(*) FROM delivered").fetchone()[0])
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc

    def close(self) -> None:
        """Close the file. Safe to call more than once."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _select(self, sql: str, operation: str, values: Sequence[str]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            conn = self._connection()
            try:
                for chunk in _chunks(values):
                    marks = ",".join("?" * len(chunk))
                    rows.extend(conn.execute(sql.format(marks), (operation, *chunk)))
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc
        return rows

    def delivered(self, operation: str, message_ids: Sequence[str]) -> set[str]:
        """Return those of ``message_ids`` recorded as delivered for ``operation``."""
        sql = "SELECT message_id FROM delivered WHERE operation = ? AND message_id IN ({})"
        return {row[0] for row in self._select(sql, operation, message_ids)}

    def latest(self, operation: str, keys: Sequence[str]) -> dict[str, str]:
        """Return the last recorded messageId of each of ``keys`` that has one."""
        sql = "SELECT key, message_id FROM latest WHERE operation = ? AND key IN ({})"
        return {key: message_id for key, message_id in self._select(sql, operation, keys)}

    def record(self, operation: str, entries: Sequence[LedgerEntry]) -> None:
        """Record delivered calls in one transaction (see :meth:`Ledger.record`)."""
        if not entries:
            return
        now = int(time.time())
        with self._lock:
            conn = self._connection()
            try:
                # IMMEDIATE takes the write lock up front, so a busy file is
                # waited for here rather than failing half-way through.
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(
                        "INSERT OR IGNORE INTO delivered VALUES (?, ?, ?, ?)",
                        [(operation, e.message_id, e.key, now) for e in entries],
                    )
                    conn.executemany(
                        "INSERT OR REPLACE INTO latest VALUES (?, ?, ?)",
                        [(operation, e.key, e.message_id) for e in entries if e.key is not None],
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._error("write", exc) from exc

    def to_frame(self, operation: str | None = None) -> pd.DataFrame:
        """Return every recorded delivery as a frame, oldest first.

        Parameters
        ----------
        operation : str, optional
            Only this operation's deliveries.

        Returns
        -------
        pandas.DataFrame
            Columns ``operation``, ``message_id``, ``key``, ``delivered_at``
            (UTC, when the batch was confirmed) and ``latest`` (the call is its
            key's last delivered one); ``key`` and ``latest`` are missing for
            event-like calls.
        """
        sql = (
            "SELECT d.operation, d.message_id, d.key, d.delivered_at, "
            "CASE WHEN d.key IS NULL THEN NULL ELSE l.message_id IS NOT NULL END "
            "FROM delivered AS d LEFT JOIN latest AS l "
            "ON l.operation = d.operation AND l.key = d.key AND l.message_id = d.message_id"
        )
        params: tuple[str, ...] = ()
        if operation is not None:
            sql += " WHERE d.operation = ?"
            params = (operation,)
        with self._lock:
            conn = self._connection()
            try:
                rows = conn.execute(sql + " ORDER BY d.delivered_at", params).fetchall()
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc
        columns = ["operation", "message_id", "key", "delivered_at", "latest"]
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["delivered_at"] = pd.to_datetime(frame["delivered_at"], unit="s", utc=True)
        frame["latest"] = frame["latest"].astype("boolean")
        return frame


def _person(call: dict[str, Any]) -> list[str]:
    if call.get("userId") is not None:
        return ["user", str(call["userId"])]
    if call.get("anonymousId") is not None:
        return ["anonymous", str(call["anonymousId"])]
    return []


def _object(call: dict[str, Any]) -> list[str]:
    traits = call.get("traits")
    object_type = traits.get("object_type_id") if isinstance(traits, dict) else None
    # The service reads a missing object type as 1; say so, or the same object
    # would have two keys and a change made under one would be missed under the other.
    return [str(object_type if object_type is not None else "1"), str(call.get("groupId"))]


# The call types whose calls set the state of one person or object. Other
# call types are events: each call happens once, whatever came before.
_KEYS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "identify": _person,
    "group": lambda call: _object(call) + _person(call),
}


def call_key(call: dict[str, Any]) -> str | None:
    """Return the key of a decoded call: what it sets the state of, or None for events.

    The key is a JSON array (unambiguous whatever the ids hold): the person
    for ``identify`` (``["user", id]`` or ``["anonymous", id]``); the object
    type (``"1"`` when absent), the ``groupId`` and the person, if any, for
    ``group``.

    Examples
    --------
    >>> call_key({"type": "identify", "userId": "u1", "traits": {"plan": "pro"}})
    '["user","u1"]'
    >>> call_key({"type": "group", "groupId": "acme", "traits": {"object_type_id": "2"}})
    '["2","acme"]'
    >>> call_key({"type": "track", "userId": "u1", "event": "Signed Up"}) is None
    True
    """
    keyer = _KEYS.get(str(call.get("type")))
    if keyer is None:
        return None
    parts = keyer(call)
    return orjson.dumps(parts).decode() if parts else None


class LedgerRun:
    """One send's use of a ledger: skip what it has, record what is confirmed.

    Made by :func:`open_run`; the pipeline calls :meth:`changed` on the stream
    of encoded calls, :meth:`record` for each confirmed batch and
    :meth:`close` at the end. A ledger given as a path is opened on first use
    and closed by :meth:`close`; a :class:`Ledger` object is left open.

    Parameters
    ----------
    ledger : Ledger, str or os.PathLike
        The store, or the path of a :class:`SqliteLedger`.
    operation : str
        The operation's name.
    full_refresh : bool
        Skip nothing (every row is sent), but still record.
    """

    def __init__(self, ledger: LedgerArg, operation: str, *, full_refresh: bool = False) -> None:
        if isinstance(ledger, str | os.PathLike):
            self._path: str | None = os.fspath(ledger)
            self._store: Ledger | None = None
        elif isinstance(ledger, Ledger):
            self._path, self._store = None, ledger
        else:
            raise TypeError(
                "ledger= takes a file path or an object with delivered(), latest() and "
                f"record() (see pandas_cio.Ledger), not {type(ledger).__name__}"
            )
        self.operation = operation
        self.full_refresh = full_refresh
        self.unrecorded = 0
        self._owned: SqliteLedger | None = None
        # Position -> (messageId, key) of each call let through and not yet recorded.
        self._pending: dict[int, LedgerEntry] = {}
        # hash() of the keys sent in this run: a later row of the same key is
        # never skipped, since the service will then hold the earlier row's
        # content. A hash collision only costs a send, never a skip.
        self._sent_keys: set[int] = set()

    @property
    def store(self) -> Ledger:
        """The ledger, opened on first use when it was given as a path."""
        if self._store is None:
            assert self._path is not None
            self._owned = SqliteLedger(self._path)
            self._store = self._owned
        return self._store

    def close(self) -> None:
        """Close the ledger if this run opened it."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None
            self._store = None

    def changed(
        self, calls: Iterable[tuple[int, bytes]], builder: ResultBuilder
    ) -> Iterator[tuple[int, bytes]]:
        """Pass through the calls to send; mark the others ``unchanged`` in ``builder``.

        Parameters
        ----------
        calls : iterable of (int, bytes)
            Frame positions and encoded calls, in frame order.
        builder : ResultBuilder
            Where skipped rows get their status. Its ``calls`` and
            ``call_bytes`` counters, already counting every encoded call,
            are lowered by the skipped ones, so they count what was sent.

        Yields
        ------
        (int, bytes)
            The calls that are not known to be delivered.
        """
        chunk: list[tuple[int, bytes]] = []
        for item in calls:
            chunk.append(item)
            if len(chunk) >= LOOKUP_ROWS:
                yield from self._filter(chunk, builder)
                chunk = []
        if chunk:
            yield from self._filter(chunk, builder)

    def _filter(
        self, chunk: list[tuple[int, bytes]], builder: ResultBuilder
    ) -> Iterator[tuple[int, bytes]]:
        entries = []
        for _, call in chunk:
            decoded = orjson.loads(call)
            entries.append(LedgerEntry(decoded["messageId"], call_key(decoded)))
        skip = self._skips(entries)
        skipped = [position for (position, _), s in zip(chunk, skip, strict=True) if s]
        if skipped:
            builder.mark(skipped, Status.UNCHANGED)
            builder.stats.calls -= len(skipped)
            builder.stats.call_bytes -= sum(
                len(call) for (_, call), s in zip(chunk, skip, strict=True) if s
            )
        for (position, call), entry, s in zip(chunk, entries, skip, strict=True):
            if not s:
                self._pending[position] = entry
                yield position, call

    def _skips(self, entries: list[LedgerEntry]) -> list[bool]:
        """Decide, in frame order, which entries are already delivered."""
        keyed = [e.key for e in entries if e.key is not None]
        if self.full_refresh:
            latest: dict[str, str] = {}
            done: set[str] = set()
        else:
            latest = self.store.latest(self.operation, list(dict.fromkeys(keyed)))
            unkeyed = [e.message_id for e in entries if e.key is None]
            done = self.store.delivered(self.operation, unkeyed) if unkeyed else set()
        skip = []
        for message_id, key in entries:
            if key is None:
                skip.append(message_id in done)
                continue
            seen = hash(key)
            unchanged = latest.get(key) == message_id and seen not in self._sent_keys
            if not unchanged:
                self._sent_keys.add(seen)
            skip.append(unchanged)
        return skip

    def record(self, positions: Iterable[int]) -> None:
        """Record the calls at ``positions`` as delivered (one confirmed batch).

        A failure to write is logged and the send goes on: those rows were
        delivered, and the next run sends them again with the same messageIds.
        """
        entries = [self._pending.pop(p) for p in positions if p in self._pending]
        if not entries:
            return
        try:
            self.store.record(self.operation, entries)
        except (LedgerError, sqlite3.Error, OSError) as exc:
            self.unrecorded += len(entries)
            logger.warning(
                "%s; %d delivered rows are not in the ledger and will be sent again "
                "by the next run (same messageIds, so the service drops them)",
                exc,
                self.unrecorded,
            )


def open_run(
    ledger: LedgerArg | None, operation: Operation, *, full_refresh: bool = False
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
    return LedgerRun(ledger, operation.name, full_refresh=full_refresh)
