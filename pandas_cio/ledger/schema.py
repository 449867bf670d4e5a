"""The SQLite file of :class:`~pandas_cio.ledger.store.SqliteLedger`: tables, merge, id packing.

Declarations and the few helpers that write them: the store module runs them.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

__all__ = [
    "APPLICATION_ID",
    "DEFAULT_TIMEOUT",
    "LATEST_IN_ORDER",
    "MERGE",
    "SCHEMA",
    "SCHEMA_VERSION",
    "WAL_LIMIT",
    "pack_id",
    "transaction",
    "unpack_id",
]

# Seconds a writer waits for another to finish its transaction before giving
# up. One confirmed batch is one short transaction (milliseconds), so only a
# stuck process holds the file this long.
DEFAULT_TIMEOUT = 30.0

# Marks a SQLite file as a pandas_cio ledger (PRAGMA application_id), so a
# typo'd path to some other database is refused instead of written into.
APPLICATION_ID = 0x63696F4C  # "cioL"
SCHEMA_VERSION = 1

# Deliveries are appended to `journal`, one short transaction per confirmed
# batch, and folded into the indexed `delivered` and `latest` tables in sorted
# order by flush(). Writing batches of random messageIds straight into a large
# index would rewrite about one page per row on every commit, which costs more
# than encoding the row; appending writes a few pages per batch, and the
# sorted merge writes each index page once. WITHOUT ROWID: the primary key is
# the table, with no second index beside it. message_id holds the library's
# hex ids as their 16 bytes (see pack_id) and other ids as text.
SCHEMA = (
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
MERGE = (
    """INSERT OR IGNORE INTO delivered
        SELECT op, message_id, key, delivered_at FROM journal ORDER BY op, message_id""",
    """INSERT OR REPLACE INTO latest
        SELECT op, key, message_id FROM journal WHERE key IS NOT NULL ORDER BY op, key, rowid""",
    "DELETE FROM journal",
)
# MERGE[1] for a journal made of runs in key order, as when a frame is sent in
# key order (batches may be confirmed out of order): each key's rows in the
# same order, so the same result, without a sort.
LATEST_IN_ORDER = """INSERT OR REPLACE INTO latest
    SELECT op, key, message_id FROM journal WHERE key IS NOT NULL ORDER BY rowid"""
# WAL bytes kept after a checkpoint; a large merge would otherwise leave a
# WAL file as large as the merge behind.
WAL_LIMIT = 64 * 1024 * 1024


def pack_id(message_id: str) -> str | bytes:
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


def unpack_id(value: str | bytes) -> str:
    """The text of a stored messageId (see :func:`pack_id`)."""
    return value.hex() if isinstance(value, bytes) else value


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
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
