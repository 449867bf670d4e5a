"""What the pipeline needs from a ledger: the :class:`Ledger` protocol and its entries.

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

import os
from collections.abc import Sequence
from typing import NamedTuple, Protocol, TypeAlias, runtime_checkable

__all__ = ["Ledger", "LedgerArg", "LedgerEntry", "MirrorLedger"]


class LedgerEntry(NamedTuple):
    """One delivered call, as recorded.

    Attributes
    ----------
    message_id : str
        The call's messageId.
    key : str or None
        The person or object the call is about (see :func:`~pandas_cio.ledger.keys.call_key`), or
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
