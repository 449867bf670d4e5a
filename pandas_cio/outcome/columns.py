"""The names of the result frame's columns: the one place that spells them.

Every module that reads or writes a result column imports its name from here
(``tests/unit/outcome/test_columns.py`` fails when another module spells one
as a string). The statuses are :class:`~pandas_cio.outcome.results.Status`,
the send's counters :class:`~pandas_cio.outcome.results.SendStats`.

Examples
--------
>>> RESULT_COLUMNS
('status', 'error', 'message_id', 'batch', 'http_status', 'attempts')
"""

from __future__ import annotations

__all__ = [
    "ACTION",
    "ATTEMPTS",
    "BATCH",
    "ERROR",
    "HTTP_STATUS",
    "KEY",
    "MESSAGE_ID",
    "MIRROR_COLUMNS",
    "RESULT_COLUMNS",
    "SEND_ACTION",
    "STATUS",
]

#: The row's :class:`~pandas_cio.outcome.results.Status`.
STATUS = "status"
#: Why the row was not sent (or what the service said), else missing.
ERROR = "error"
#: The messageId its call carried.
MESSAGE_ID = "message_id"
#: The number of the ``/batch`` body that carried it.
BATCH = "batch"
#: The HTTP status of the service's answer to that body.
HTTP_STATUS = "http_status"
#: How many requests carried the row (retries and split halves included).
ATTEMPTS = "attempts"

#: Every result frame's columns, in order.
RESULT_COLUMNS = (STATUS, ERROR, MESSAGE_ID, BATCH, HTTP_STATUS, ATTEMPTS)

#: A mirror send's columns after them (see :mod:`pandas_cio.ledger.mirror`): what
#: the row did, and the key a deletion row deleted.
ACTION = "action"
KEY = "key"
MIRROR_COLUMNS = (ACTION, KEY)
#: The ``action`` of an input row (deletion rows have the mirror's own).
SEND_ACTION = "send"
