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
  trait that changes and changes back is sent both times. Device
  registrations (``devices.register``) are keyed the same way, by person and
  token, so mirror deletes (:mod:`pandas_cio.ledger.mirror`) can find them.
- Every other call (``track``, ``page``, ``screen``, ``alias`` and the semantic
  events) is unchanged when its messageId was delivered before. Such a send
  needs ``timestamp=`` with a ledger (see :mod:`pandas_cio.prepare.stamping`).

A messageId is a ULID of the call's timestamp, its whole content and its
repeat number in the send (see :mod:`pandas_cio.prepare.message_ids`), so "same
messageId" means "same call": a row is never skipped because of a different
row. With ``message_id=`` naming your own id column, your ids are the
identity instead.

Only confirmed batches are recorded, each in one transaction, so a crash,
SIGKILL or Ctrl-C at any moment leaves the ledger true: it never lists a call
the service did not confirm. After a SIGKILL it may miss every batch the
client held at that moment, up to ``2 * workers`` of them: queued, in flight,
or answered but not yet recorded (answers are recorded by the main thread,
between the slices it encodes). The next run sends those again with the same
messageIds, so the service drops the repeats. Ctrl-C and SIGTERM wait for the
requests in flight and record them.

Mirror deletes list a ledger's keys (:meth:`SqliteLedger.keys`) and make it
forget the deleted ones (:meth:`SqliteLedger.forget`); every send that is not
a dry run appends a summary to its history (:meth:`SqliteLedger.runs`, see
:mod:`pandas_cio.ledger.history`).

Plugging in another store
-------------------------
:class:`Ledger` is a :class:`typing.Protocol` of four methods; any object
that has them can be passed as ``ledger=`` (the caller then owns it and
closes it). A store for a table in a warehouse implements ``delivered`` and
``latest`` as one ``SELECT ... WHERE message_id IN (...)`` each, ``record``
as one transaction that inserts the entries into a deliveries table and
upserts the keyed ones into a latest-per-key table, and ``flush`` as nothing
(or, like :class:`SqliteLedger`, as the step that folds cheaply appended
records into the indexed tables). It should raise
:class:`LedgerError` when the store fails: a failed ``record`` is logged and
the send goes on (those rows are sent again next run); a failed lookup stops
the send before the rows it was about are sent, with a
:class:`~pandas_cio.errors.LedgerSendError` whose ``result`` holds every
row's status. Any other exception from a store is outside this contract and
stops the send the same way, whether it came from a lookup or a ``record``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import compress, repeat
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeAlias, runtime_checkable

import numpy as np
import orjson
import pandas as pd

from ..errors import LedgerError
from ..outcome.results import Status
from ..prepare.batching import Calls

if TYPE_CHECKING:
    from ..catalogue.operations import Operation
    from ..outcome.results import ResultBuilder

__all__ = [
    "DEFAULT_TIMEOUT",
    "Ledger",
    "LedgerArg",
    "LedgerEntry",
    "LedgerError",
    "LedgerRun",
    "MirrorLedger",
    "SqliteLedger",
    "call_key",
    "open_run",
]

logger = logging.getLogger("pandas_cio.ledger.store")

# Seconds a writer waits for another to finish its transaction before giving
# up. One confirmed batch is one short transaction (milliseconds), so only a
# stuck process holds the file this long.
DEFAULT_TIMEOUT = 30.0

# Rows looked up in the ledger at once: large enough that a lookup costs far
# less than encoding the rows, small enough not to delay the first batch.
LOOKUP_ROWS = 10_000

# Values bound into one "IN (...)" list, when the build allows as many (old
# builds allow 999): fewer, longer lists probe the index in fewer passes.
_SQL_CHUNK = 10_000
# Keys looked up at once from which a range scan may pay (SqliteLedger._range).
_RANGE_KEYS = 1_000

# Marks a SQLite file as a pandas_cio ledger (PRAGMA application_id), so a
# typo'd path to some other database is refused instead of written into.
_APPLICATION_ID = 0x63696F4C  # "cioL"
_SCHEMA_VERSION = 1

# Deliveries are appended to `journal`, one short transaction per confirmed
# batch, and folded into the indexed `delivered` and `latest` tables in sorted
# order by flush(). Writing batches of random messageIds straight into a large
# index would rewrite about one page per row on every commit, which costs more
# than encoding the row; appending writes a few pages per batch, and the
# sorted merge writes each index page once. WITHOUT ROWID: the primary key is
# the table, with no second index beside it. message_id holds the library's
# hex ids as their 16 bytes (see _pack) and other ids as text.
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS operations (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    """CREATE TABLE IF NOT EXISTS delivered (
        op INTEGER NOT NULL,
        message_id BLOB NOT NULL,
        key TEXT,
        delivered_at INTEGER NOT NULL,
        PRIMARY KEY (op, message_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS latest (
        op INTEGER NOT NULL,
        key TEXT NOT NULL,
        message_id BLOB NOT NULL,
        PRIMARY KEY (op, key)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS journal (
        op INTEGER NOT NULL,
        message_id BLOB NOT NULL,
        key TEXT,
        delivered_at INTEGER NOT NULL
    )""",
    # One row per send (pandas_cio.ledger.history); added without a schema version
    # bump: older versions ignore the table, so a file stays usable by both.
    """CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY,
        operation TEXT NOT NULL,
        record TEXT NOT NULL
    )""",
)
# Sorted, so each index page is written once. The journal's rowid order is the
# order batches were confirmed: inserting a key's rows in that order leaves
# the last confirmed one as its latest.
_MERGE = (
    """INSERT OR IGNORE INTO delivered
        SELECT op, message_id, key, delivered_at FROM journal ORDER BY op, message_id""",
    """INSERT OR REPLACE INTO latest
        SELECT op, key, message_id FROM journal WHERE key IS NOT NULL ORDER BY op, key, rowid""",
    "DELETE FROM journal",
)
# Rows a ledger appends before it merges on its own during a long send. Each
# merge into a large index rewrites most of its pages, so merges are rare; this
# bounds the journal (which lookups do not read) to about 50 MB.
MERGE_ROWS = 1_000_000
# WAL bytes kept after a checkpoint; a large merge would otherwise leave a
# WAL file as large as the merge behind.
_WAL_LIMIT = 64 * 1024 * 1024


def _pack(message_id: str) -> str | bytes:
    """Store the library's own messageIds (32 lowercase hex digits) as 16 bytes."""
    if len(message_id) == 32:
        try:
            packed = bytes.fromhex(message_id)
        except ValueError:
            return message_id
        # Only an id that unpacks to itself: "ABC..." or one with spaces stays text.
        if packed.hex() == message_id:
            return packed
    return message_id


def _unpack(value: str | bytes) -> str:
    return value.hex() if isinstance(value, bytes) else value


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
    (the operation's name, e.g. ``"identify"``). Implement these four
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
    ...     def flush(self):
    ...         pass
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
        more than once, the last entry is its latest. Records need not be
        visible to :meth:`delivered` and :meth:`latest` before :meth:`flush`.
        """
        ...

    def flush(self) -> None:
        """Make every recorded call visible to lookups; called at the end of each send.

        A store whose records are visible at once does nothing here.
        """
        ...


@runtime_checkable
class MirrorLedger(Ledger, Protocol):
    """A :class:`Ledger` that mirror deletes can use (see :mod:`pandas_cio.ledger.mirror`)."""

    def keys(self, operation: str) -> list[str]:
        """Return every key with a delivered call for ``operation``."""
        ...

    def forget(self, operation: str, keys: Sequence[str]) -> None:
        """Remove every delivery of ``keys`` for ``operation``."""
        ...


LedgerArg: TypeAlias = Ledger | str | os.PathLike[str]


class SqliteLedger:
    """The embedded ledger: one SQLite file (standard library ``sqlite3``).

    Each :meth:`record` appends the batch to a journal in one
    ``BEGIN IMMEDIATE`` transaction; :meth:`flush` (at the end of every send,
    on :meth:`close`, when a file is opened, and every :data:`MERGE_ROWS`
    rows) folds the journal into the indexed tables that lookups read, in one
    more transaction. The file is in WAL mode, so a killed process leaves it
    consistent, and rows journaled by a send that was killed are folded in
    when the file is next opened.

    Several processes or threads may share one file: SQLite serialises their
    transactions (a writer waits up to ``timeout`` seconds for another's
    commit) and every write is idempotent. Sends running at the same time do
    not see each other's deliveries until one of them flushes, so both may
    send the same row; the copies share a messageId, so the service keeps one.
    One instance may also be shared by threads (calls are serialised). Keep
    the file on a local disk: WAL does not work over network file systems.

    Commits use ``synchronous=NORMAL``: they survive a crash of the process,
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
        self._operations: dict[str, int] = {}
        self._journaled = 0
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: no implicit transactions; each write opens its own.
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open the ledger {self.path!r}: {exc}") from exc
        try:
            self._setup(self._conn)
            self._merge(self._conn)  # what a killed send journaled
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    def _setup(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT}")
            with _transaction(conn):
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
        """Number of delivered calls recorded, flushed or not, every operation included."""
        sql = """SELECT (SELECT count(*) FROM delivered) + (SELECT count(*) FROM (
            SELECT op, message_id FROM journal EXCEPT SELECT op, message_id FROM delivered))"""
        with self._lock:
            try:
                return int(self._connection().execute(sql).fetchone()[0])
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc

    def close(self) -> None:
        """Flush and close the file. Safe to call more than once.

        A flush that fails is logged: the journaled rows stay in the file and
        are folded in when it is next opened.
        """
        with self._lock:
            if self._conn is None:
                return
            try:
                self._merge(self._conn)
            except LedgerError as exc:
                logger.warning("%s; the next open folds the journal in", exc)
            finally:
                self._conn.close()
                self._conn = None

    def _operation(self, conn: sqlite3.Connection, name: str, create: bool) -> int | None:
        """Return the code of an operation name; make one (in a transaction) when asked."""
        code = self._operations.get(name)
        if code is not None:
            return code
        if create:
            conn.execute("INSERT OR IGNORE INTO operations (name) VALUES (?)", (name,))
        row = conn.execute("SELECT id FROM operations WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        if not conn.in_transaction:  # cache only codes that are committed
            self._operations[name] = int(row[0])
        return int(row[0])

    def _select(self, sql: str, operation: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            conn = self._connection()
            try:
                code = self._operation(conn, operation, create=False)
                if code is None:
                    return rows
                size = min(_SQL_CHUNK, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - 1)
                for start in range(0, len(values), size):
                    chunk = values[start : start + size]
                    marks = ",".join("?" * len(chunk))
                    rows.extend(conn.execute(sql.format(marks), (code, *chunk)))
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc
        return rows

    def delivered(self, operation: str, message_ids: Sequence[str]) -> set[str]:
        """Return those of ``message_ids`` recorded and flushed as delivered for ``operation``."""
        sql = "SELECT message_id FROM delivered WHERE op = ? AND message_id IN ({})"
        if 32 not in map(len, message_ids):  # none can be a packed hex id: no per-id work
            return {row[0] for row in self._select(sql, operation, list(message_ids))}
        packed = {_pack(m): m for m in message_ids}
        return {packed[row[0]] for row in self._select(sql, operation, list(packed))}

    def latest(self, operation: str, keys: Sequence[str]) -> dict[str, str]:
        """Return the last flushed messageId of each of ``keys`` that has one."""
        # Packed hex ids are unpacked by SQLite (as _unpack does), so the rows
        # go into the dict without a Python step per row.
        columns = """SELECT key, CASE WHEN typeof(message_id) = 'blob'
            THEN lower(hex(message_id)) ELSE message_id END FROM latest"""
        if len(keys) >= _RANGE_KEYS:
            found = self._range(columns, operation, keys)
            if found is not None:
                return found
        return dict(self._select(columns + " WHERE op = ? AND key IN ({})", operation, keys))

    def _range(self, columns: str, operation: str, keys: Sequence[str]) -> dict[str, str] | None:
        """Look ``keys`` up with one scan of their range, when it holds few other keys.

        A slice of a frame in key order covers a dense range of the index:
        reading it in order costs far less than probing it once per key. The
        scan stops after twice as many rows as keys; then None (probe instead).
        """
        most = 2 * len(keys)
        sql = columns + " WHERE op = ? AND key BETWEEN ? AND ? LIMIT ?"
        with self._lock:
            conn = self._connection()
            try:
                code = self._operation(conn, operation, create=False)
                if code is None:
                    return {}
                # Python orders str by code point and SQLite by UTF-8 bytes: the same order.
                rows = conn.execute(sql, (code, min(keys), max(keys), most + 1)).fetchall()
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc
        if len(rows) > most:
            return None
        held = dict(rows)
        if len(held) == len(keys):
            return held
        return {key: held[key] for key in keys if key in held}

    def record(self, operation: str, entries: Sequence[LedgerEntry]) -> None:
        """Journal delivered calls in one transaction (see :meth:`Ledger.record`)."""
        if not entries:
            return
        self.record_columns(operation, [e.message_id for e in entries], [e.key for e in entries])

    def record_columns(
        self, operation: str, message_ids: Sequence[str], keys: Sequence[str | None]
    ) -> None:
        """:meth:`record` for entries given as two aligned columns (no tuple per entry)."""
        if not message_ids:
            return
        now = int(time.time())
        # Only 32-character ids may be the library's older hex ids (packed to
        # 16 bytes); the ULIDs it makes now are 26 and stored as they are.
        packed = map(_pack, message_ids) if 32 in map(len, message_ids) else iter(message_ids)
        with self._lock:
            conn = self._connection()
            try:
                with _transaction(conn):
                    code = self._operation(conn, operation, create=True)
                    rows = zip(repeat(code), packed, keys, repeat(now))
                    conn.executemany("INSERT INTO journal VALUES (?, ?, ?, ?)", rows)
            except sqlite3.Error as exc:
                raise self._error("write", exc) from exc
            if code is not None:
                self._operations[operation] = code
            self._journaled += len(message_ids)
            if self._journaled > MERGE_ROWS:
                self._merge(conn)

    def flush(self) -> None:
        """Fold the journal into the tables lookups read, in one transaction."""
        with self._lock:
            self._merge(self._connection())

    def _merge(self, conn: sqlite3.Connection) -> None:
        try:
            if conn.execute("SELECT 1 FROM journal LIMIT 1").fetchone() is None:
                return
            with _transaction(conn):
                for statement in _MERGE:
                    conn.execute(statement)
        except sqlite3.Error as exc:
            raise self._error("flush", exc) from exc
        self._journaled = 0

    def keys(self, operation: str) -> list[str]:
        """Flush, then return every key with a delivered call for ``operation``.

        Mirror deletes (:mod:`pandas_cio.ledger.mirror`) compare these with the keys
        of today's frame.
        """
        sql = "SELECT l.key FROM latest AS l JOIN operations AS o ON o.id = l.op WHERE o.name = ?"
        with self._lock:
            conn = self._connection()
            self._merge(conn)
            try:
                return [row[0] for row in conn.execute(sql, (operation,))]
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc

    def forget(self, operation: str, keys: Sequence[str]) -> None:
        """Remove every delivery of ``keys`` for ``operation``, in one transaction.

        Called for the people, objects, relationships and devices a mirror
        send deleted, once the service confirmed the deletion: if they come
        back, they are sent as new.
        """
        if not keys:
            return
        with self._lock:
            conn = self._connection()
            self._merge(conn)
            try:
                with _transaction(conn):
                    code = self._operation(conn, operation, create=False)
                    if code is None:
                        return
                    rows = [(code, key) for key in keys]
                    conn.executemany("DELETE FROM latest WHERE op = ? AND key = ?", rows)
                    conn.executemany("DELETE FROM delivered WHERE op = ? AND key = ?", rows)
            except sqlite3.Error as exc:
                raise self._error("write", exc) from exc

    def record_run(self, operation: str, record: Mapping[str, Any]) -> None:
        """Append one send's summary to the sync history (see :mod:`pandas_cio.ledger.history`)."""
        with self._lock:
            conn = self._connection()
            try:
                with _transaction(conn):
                    conn.execute(
                        "INSERT INTO runs (operation, record) VALUES (?, ?)",
                        (operation, orjson.dumps(dict(record)).decode()),
                    )
            except sqlite3.Error as exc:
                raise self._error("write", exc) from exc

    def run_records(self) -> list[dict[str, Any]]:
        """Every recorded send's summary, oldest first (see :meth:`runs`)."""
        with self._lock:
            try:
                rows = self._connection().execute("SELECT record FROM runs ORDER BY id")
                return [orjson.loads(row[0]) for row in rows]
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc

    def runs(self, operation: str | None = None) -> pd.DataFrame:
        """Return the sync history: one row per send with this ledger, oldest first.

        Parameters
        ----------
        operation : str, optional
            Only this operation's sends.

        Returns
        -------
        pandas.DataFrame
            See :func:`pandas_cio.ledger.history.runs_frame` for the columns.
        """
        from .history import runs_frame  # history imports this module

        records = self.run_records()
        if operation is not None:
            records = [r for r in records if r.get("operation") == operation]
        return runs_frame(records)

    def to_frame(self, operation: str | None = None) -> pd.DataFrame:
        """Flush, then return every recorded delivery as a frame, oldest first.

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
        sql = """SELECT o.name, d.message_id, d.key, d.delivered_at,
            CASE WHEN d.key IS NULL THEN NULL ELSE l.message_id IS NOT NULL END
            FROM delivered AS d JOIN operations AS o ON o.id = d.op
            LEFT JOIN latest AS l ON l.op = d.op AND l.key = d.key AND l.message_id = d.message_id
            WHERE ?1 IS NULL OR o.name = ?1 ORDER BY d.delivered_at"""
        with self._lock:
            conn = self._connection()
            self._merge(conn)
            try:
                rows = conn.execute(sql, (operation,)).fetchall()
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc
        columns = ["operation", "message_id", "key", "delivered_at", "latest"]
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["message_id"] = frame["message_id"].map(_unpack).astype("str")
        frame["delivered_at"] = pd.to_datetime(frame["delivered_at"], unit="s", utc=True)
        frame["latest"] = frame["latest"].astype("boolean")
        return frame


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, committed on success and rolled back on any error."""
    # IMMEDIATE takes the write lock up front, so a busy file is waited for
    # here (busy_timeout) rather than failing half-way through.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _person(call: dict[str, Any]) -> str | None:
    # One id after a fixed prefix: unambiguous whatever the id holds.
    if (user := call.get("userId")) is not None:
        return f"user:{user}"
    if (anonymous := call.get("anonymousId")) is not None:
        return f"anonymous:{anonymous}"
    return None


def _object(call: dict[str, Any]) -> str:
    traits = call.get("traits")
    object_type = traits.get("object_type_id") if isinstance(traits, dict) else None
    # The service reads a missing object type as 1; say so, or the same object
    # would have two keys and a change made under one would be missed under the other.
    parts = [str(object_type if object_type is not None else "1"), str(call.get("groupId"))]
    if (person := _person(call)) is not None:
        parts.append(person)
    # Several ids: a JSON array keeps them apart whatever they hold.
    return orjson.dumps(parts).decode()


# The event that registers a device sets the state of that device.
DEVICE_EVENT = "Device Created or Updated"


def _device(call: dict[str, Any]) -> str | None:
    if call.get("event") != DEVICE_EVENT:
        return None
    context = call.get("context")
    device = context.get("device") if isinstance(context, dict) else None
    token = device.get("token") if isinstance(device, dict) else None
    return orjson.dumps(["device", _person(call), token]).decode()


# The call types whose calls set the state of one person, object or device.
# Other calls are events: each call happens once, whatever came before.
_KEYS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "identify": _person,
    "group": _object,
    "track": _device,
}


def call_key(call: dict[str, Any]) -> str | None:
    """Return the key of a decoded call: what it sets the state of, or None for events.

    For ``identify`` the person: ``"user:ID"``, or ``"anonymous:ID"`` without a
    userId. For ``group`` a JSON array of the object type (``"1"`` when
    absent), the ``groupId`` and the person, if the call has one. For the
    ``Device Created or Updated`` event (``devices.register``) a JSON array of
    ``"device"``, the person and the token.

    Examples
    --------
    >>> call_key({"type": "identify", "userId": "u1", "traits": {"plan": "pro"}})
    'user:u1'
    >>> call_key({"type": "group", "groupId": "acme", "traits": {"object_type_id": "2"}})
    '["2","acme"]'
    >>> call_key({"type": "track", "userId": "u1", "event": "Signed Up"}) is None
    True
    >>> call_key({"type": "track", "userId": "u1", "event": "Device Created or Updated",
    ...           "context": {"device": {"token": "t1", "type": "ios"}}})
    '["device","user:u1","t1"]'
    """
    keyer = _KEYS.get(call.get("type"))  # type: ignore[arg-type]
    return keyer(call) if keyer is not None else None


class LedgerRun:
    """One send's use of a ledger: skip what it has, record what is confirmed.

    Made by :func:`open_run`; the pipeline calls :meth:`changed_runs` on the
    encoded slices (their positions, calls, messageIds and keys as columns:
    one lookup per slice, unchanged rows dropped with masks, no call decoded
    when the keys come from the frame's columns, see
    :mod:`pandas_cio.ledger.keys`), :meth:`record` for each confirmed batch
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

    def changed(
        self, calls: Iterable[tuple[int, bytes]], builder: ResultBuilder
    ) -> Iterator[tuple[int, bytes]]:
        """Pass through the calls to send; mark the others ``unchanged`` in ``builder``.

        The pairs form of :meth:`changed_runs`: each call is decoded to read
        its messageId and key.

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
                yield from self._pairs(chunk, builder)
                chunk = []
        if chunk:
            yield from self._pairs(chunk, builder)

    def _pairs(
        self, chunk: list[tuple[int, bytes]], builder: ResultBuilder
    ) -> Iterator[tuple[int, bytes]]:
        positions = np.fromiter((p for p, _ in chunk), dtype=np.int64, count=len(chunk))
        calls = Calls.of([c for _, c in chunk])
        decoded = [orjson.loads(c) for c in calls]
        ids = [d["messageId"] for d in decoded]
        keys = [call_key(d) for d in decoded]
        kept, sent = self.filter_run(positions, calls, ids, keys, builder)
        yield from zip(kept.tolist(), sent, strict=True)

    def changed_runs(
        self,
        runs: Iterable[tuple[np.ndarray, Calls, Any, list[str | None] | None]],
        builder: ResultBuilder,
    ) -> Iterator[tuple[np.ndarray, Calls]]:
        """Pass through the runs of calls to send; mark the others ``unchanged``.

        Parameters
        ----------
        runs : iterable of (numpy.ndarray, Calls, ids, keys)
            Per encoded slice: frame positions, their calls, their messageIds
            (an ``S26`` array or a list of str) and their keys (a list of str
            or None per call, see :func:`call_key`), or None for the keys when
            only the calls tell them (each call is then decoded).
        builder : ResultBuilder
            As for :meth:`changed`.

        Yields
        ------
        (numpy.ndarray, Calls)
            Per run, the positions and calls that are not known to be delivered.
        """
        for positions, calls, ids, keys in runs:
            if keys is None:
                keys = [call_key(orjson.loads(c)) for c in calls]
            yield self.filter_run(positions, calls, ids, keys, builder)

    def filter_run(
        self,
        positions: np.ndarray,
        calls: Calls,
        ids: Any,
        keys: list[str | None],
        builder: ResultBuilder,
    ) -> tuple[np.ndarray, Calls]:
        """Decide one run of calls with one lookup and array masks; see :meth:`changed_runs`."""
        positions = np.asarray(positions, dtype=np.int64)
        rows = len(positions)
        if rows == 0:
            return positions, calls
        texts = np.asarray(
            ids.astype("U").tolist()
            if isinstance(ids, np.ndarray) and ids.dtype.kind == "S"
            else list(ids),
            dtype=object,
        )
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
