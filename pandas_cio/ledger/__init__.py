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

The modules: :mod:`~pandas_cio.ledger.protocol` (what a store must do),
:mod:`~pandas_cio.ledger.store` and :mod:`~pandas_cio.ledger.schema` (the
SQLite store), :mod:`~pandas_cio.ledger.keys` (what a call is about),
:mod:`~pandas_cio.ledger.run` (one send's use of a ledger),
:mod:`~pandas_cio.ledger.mirror` and :mod:`~pandas_cio.ledger.history`.
"""

from __future__ import annotations

from ..errors import LedgerError
from .keys import call_key
from .protocol import Ledger, LedgerArg, LedgerEntry, MirrorLedger
from .run import LedgerRun, open_run
from .store import SqliteLedger

__all__ = [
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
