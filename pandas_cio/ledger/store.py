"""The embedded ledger: :class:`SqliteLedger`, one SQLite file.

The tables and the merge are declared in :mod:`pandas_cio.ledger.schema`; the
protocol it implements, with its failure contract, in
:mod:`pandas_cio.ledger.protocol`; what a ledger is for in :mod:`pandas_cio.ledger`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from ..closing import Closing
from ..errors import LedgerError
from .history import runs_frame
from .protocol import Ledger, LedgerArg, LedgerEntry, MirrorLedger
from .schema import (
    APPLICATION_ID,
    DEFAULT_TIMEOUT,
    LATEST_IN_ORDER,
    MERGE,
    SCHEMA,
    SCHEMA_VERSION,
    WAL_LIMIT,
    pack_id,
    transaction,
    unpack_id,
)

# Ledger, LedgerArg, LedgerEntry and MirrorLedger are defined in .protocol and
# named here too: pandas_cio.ledger.store is where they were first documented.
__all__ = [
    "DEFAULT_TIMEOUT",
    "MERGE_ROWS",
    "Ledger",
    "LedgerArg",
    "LedgerEntry",
    "LedgerError",
    "MirrorLedger",
    "SqliteLedger",
]

logger = logging.getLogger("pandas_cio.ledger.store")

# Values bound into one "IN (...)" list, when the build allows as many (old
# builds allow 999): fewer, longer lists probe the index in fewer passes.
_SQL_CHUNK = 10_000
# Keys looked up at once from which a range scan may pay (SqliteLedger._range).
_RANGE_KEYS = 1_000
# Rows a ledger appends before it merges on its own during a long send. Each
# merge into a large index rewrites most of its pages, so merges are rare; this
# bounds the journal (which lookups do not read) to about 50 MB.
MERGE_ROWS = 1_000_000


class SqliteLedger(Closing):
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
        self._journaled = 0  # rows this instance journaled since its last merge
        # Whether each batch of those rows is in key order: the merge then
        # needs no sort (LATEST_IN_ORDER).
        self._in_order = True
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
            conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")
            with transaction(conn):
                application_id = conn.execute("PRAGMA application_id").fetchone()[0]
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                tables = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
                if application_id != APPLICATION_ID and tables:
                    raise LedgerError(
                        f"{self.path!r} is a SQLite database but not a pandas_cio ledger; "
                        "give the ledger a file of its own"
                    )
                if version > SCHEMA_VERSION:
                    raise LedgerError(
                        f"the ledger {self.path!r} was written by a newer pandas_cio "
                        f"(schema {version}); upgrade pandas_cio to use it"
                    )
                # One statement at a time: executescript() would commit first.
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
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
        packed = {pack_id(m): m for m in message_ids}
        return {packed[row[0]] for row in self._select(sql, operation, list(packed))}

    def latest(self, operation: str, keys: Sequence[str]) -> dict[str, str]:
        """Return the last flushed messageId of each of ``keys`` that has one."""
        # Packed hex ids are unpacked by SQLite (as unpack_id does), so the rows
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
        packed = map(pack_id, message_ids) if 32 in map(len, message_ids) else iter(message_ids)
        with self._lock:
            conn = self._connection()
            try:
                with transaction(conn):
                    code = self._operation(conn, operation, create=True)
                    rows = zip(repeat(code), packed, keys, repeat(now))
                    conn.executemany("INSERT INTO journal VALUES (?, ?, ?, ?)", rows)
            except sqlite3.Error as exc:
                raise self._error("write", exc) from exc
            if code is not None:
                self._operations[operation] = code
                self._note_order(keys)
            self._journaled += len(message_ids)
            if self._journaled > MERGE_ROWS:
                self._merge(conn)

    def flush(self) -> None:
        """Fold the journal into the tables lookups read, in one transaction."""
        with self._lock:
            self._merge(self._connection())

    def _note_order(self, keys: Sequence[str | None]) -> None:
        """Follow whether each batch's keyed rows are in key order.

        Batches are confirmed out of order when several are in flight, so
        only the order within each is followed: sorted runs of a few thousand
        rows insert into the index with the locality a sort would give.
        """
        if not self._in_order:
            return
        keyed = np.array([k for k in keys if k is not None], dtype=object)
        self._in_order = bool((keyed[1:] >= keyed[:-1]).all())

    def _merge(self, conn: sqlite3.Connection) -> None:
        try:
            held = conn.execute("SELECT count(*) FROM journal").fetchone()[0]
            if not held:
                return
            statements = list(MERGE)
            # Only this instance's rows (no other writer's, no killed send's)
            # are known to be in order; the result is the same either way.
            if self._in_order and held == self._journaled:
                statements[1] = LATEST_IN_ORDER
            with transaction(conn):
                for statement in statements:
                    conn.execute(statement)
        except sqlite3.Error as exc:
            raise self._error("flush", exc) from exc
        self._journaled = 0
        self._in_order = True

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
                with transaction(conn):
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
                with transaction(conn):
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
        frame["message_id"] = frame["message_id"].map(unpack_id).astype("str")
        frame["delivered_at"] = pd.to_datetime(frame["delivered_at"], unit="s", utc=True)
        frame["latest"] = frame["latest"].astype("boolean")
        return frame
