"""How the ``pandas-cio`` command ends: its exit statuses and the errors that choose them.

Cron, CI and shell scripts branch on these numbers, so each is written once,
here; ``--help`` and :func:`pandas_cio.cli.main.main` describe them.
"""

from __future__ import annotations

from ..errors import (
    AuthenticationError,
    InterruptedSendError,
    LedgerSendError,
    QualityGateError,
    SendError,
    ServiceUnavailableError,
    TerminatedSendError,
)

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_LEDGER",
    "EXIT_NOT_ALL_SENT",
    "EXIT_OK",
    "EXIT_QUALITY_GATE",
    "EXIT_SERVICE_DOWN",
    "EXIT_STATUSES",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "UsageError",
    "stopped",
]

# Exit statuses: cron, CI and shell scripts branch on them.
EXIT_OK = 0
EXIT_NOT_ALL_SENT = 1
EXIT_USAGE = 2
EXIT_LEDGER = 3
EXIT_SERVICE_DOWN = 4
EXIT_QUALITY_GATE = 5  # --max-invalid, --max-too-large, the --mirror guard: nothing sent
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM, as shells report a killed job

# How a send that ended early ends the command: exit status and the line on
# stderr, per SendError subclass (checked in this order; SendError last).
EXIT_STATUSES: tuple[tuple[type[SendError], int, str], ...] = (
    (
        AuthenticationError,
        EXIT_USAGE,
        "the service refused the key in CIO_API_KEY; sending stopped",
    ),
    (
        InterruptedSendError,
        EXIT_INTERRUPTED,
        "interrupted; the report shows the rows confirmed before the stop",
    ),
    (
        TerminatedSendError,
        EXIT_TERMINATED,
        "terminated (SIGTERM); the report shows the rows confirmed before the stop",
    ),
    (LedgerSendError, EXIT_LEDGER, "sending stopped, the ledger failed: {cause}"),
    # The breaker's reason says the send stopped, and how to resume.
    (ServiceUnavailableError, EXIT_SERVICE_DOWN, "{cause}"),
    # The message says "nothing was sent" itself (see main._refused).
    (QualityGateError, EXIT_QUALITY_GATE, "{cause}"),
    (SendError, EXIT_NOT_ALL_SENT, "sending stopped: {cause}"),
)


class UsageError(Exception):
    """A problem with the command's arguments or inputs; exit status 2."""


def stopped(exc: SendError) -> tuple[int, str]:
    """The exit status and message of a send that ended early (see EXIT_STATUSES)."""
    for kind, status, message in EXIT_STATUSES:
        if isinstance(exc, kind):
            # The cause is the library's own words about the failure (a
            # LedgerError, the breaker's reason), without the advice on .result.
            return status, message.format(cause=exc.__cause__ or exc)
    raise AssertionError("EXIT_STATUSES ends with SendError")  # pragma: no cover
