"""Exceptions raised by pandas_cio.

Every exception derives from :class:`CioError`. Errors caused by the caller's
input also derive from :class:`ValueError`, so code that already guards
against bad input with ``except ValueError`` keeps working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AuthenticationError",
    "CioError",
    "ColumnError",
    "ConfigurationError",
    "InterruptedSendError",
    "LedgerError",
    "LedgerSendError",
    "MirrorGuardError",
    "QualityGateError",
    "SchemaError",
    "SendError",
    "ServiceUnavailableError",
    "TerminatedSendError",
    "UnknownArgumentError",
    "UnknownEventError",
]


class CioError(Exception):
    """Base class of every error pandas_cio raises."""


class ConfigurationError(CioError, ValueError):
    """The client was configured wrongly (missing key, unknown region, unsafe URL)."""


class ColumnError(CioError, ValueError):
    """A column role names a column the frame lacks, or the frame's columns are ambiguous.

    Raised before anything is sent; fix the call's arguments and call again.
    """


class UnknownArgumentError(CioError, TypeError):
    """A method, the CLI or a Spark function was given a keyword it does not take.

    The message names the method as it was called (``df.cio.identify()``) and
    the closest valid names. It is a :class:`TypeError`, as Python's own error
    for an unexpected keyword is.
    """


class UnknownEventError(CioError, ValueError):
    """A semantic event name is not one the Data Pipelines API defines."""


class SchemaError(CioError, ValueError):
    """Rows failed validation and the caller asked for ``errors="raise"``.

    Attributes
    ----------
    failures : pandas.DataFrame
        One row per failing row label, with the reason in column ``error``.
    """

    def __init__(self, message: str, failures: pd.DataFrame) -> None:
        super().__init__(message)
        self.failures = failures


class LedgerError(CioError):
    """The ledger could not be opened, read or written.

    Rows already recorded stay recorded: re-running the send with the same
    ledger resumes where it stopped.
    """


class SendError(CioError):
    """A send stopped before every row had a final status.

    Every way a send can end early raises a subclass: :class:`AuthenticationError`,
    :class:`InterruptedSendError`, :class:`TerminatedSendError`,
    :class:`LedgerSendError` and :class:`ServiceUnavailableError`. Each is
    made as ``cls(message, result)``.

    Attributes
    ----------
    result : pandas.DataFrame
        The result frame as far as the send got, one row per input row: rows
        the service confirmed are ``sent``, the rest carry the status that
        explains why they are not (``failed`` with the reason the send
        stopped, for rows it never reached). A request still unanswered when
        the send stopped may have been recorded by the service all the same;
        its rows are ``failed`` because HTTP cannot tell. Re-send
        ``df[result.status == "failed"]``: messageIds are deterministic, so the
        service drops the copies of calls it already has.
    """

    def __init__(self, message: str, result: pd.DataFrame) -> None:
        super().__init__(message)
        self.result = result


class AuthenticationError(SendError):
    """The service refused the API key (HTTP 401 or 403); the send stopped at once.

    Not safe to retry until the key is fixed. ``result`` holds the partial result.
    """


class InterruptedSendError(SendError, KeyboardInterrupt):
    """The send was interrupted (Ctrl-C); ``result`` holds what was already delivered.

    It is also a :class:`KeyboardInterrupt`, so an interrupt still stops a
    script that does not catch it.
    """


class TerminatedSendError(SendError):
    """The process was told to stop (SIGTERM) during the send; ``result`` is exact.

    A scheduler, ``docker stop``, ``systemctl stop`` or ``kill`` sends SIGTERM.
    For the duration of a send in the main thread, a SIGTERM whose handler is
    the default one (end the process) stops the send like Ctrl-C does, so the
    caller still gets the statuses, and the previous handler is put back
    afterwards. A handler of your own is left alone.
    """


class LedgerSendError(SendError, LedgerError):
    """The ledger failed during the send (a damaged file, a store that raised).

    Sending stopped before the rows the failed lookup was about; ``result``
    holds every row's status (rows already delivered are ``sent``). It is also
    a :class:`LedgerError`. Fix or replace the ledger, then re-send the rows
    that are not ``sent`` (or all of them: the ledger skips what it recorded).
    """


class ServiceUnavailableError(SendError):
    """The service looked down, so the send stopped instead of retrying every batch.

    Every row not sent is ``failed`` with the reason; ``result`` holds the
    statuses. Re-send ``df[result.status == "failed"]`` once the service is
    back (a later send starts afresh).
    """


class QualityGateError(SendError, ValueError):
    """The frame failed a quality gate (``max_invalid=``, ``max_too_large=``); nothing was sent.

    Raised before any request. ``result`` is the send's dry-run result: every
    row with the status it would have had (``invalid``, ``too_large`` with
    their reasons, ``dry_run`` for the rest). Fix the rows or raise the limit.
    """


class MirrorGuardError(QualityGateError):
    """A mirror send would delete suspiciously much (or the frame is empty); nothing was sent.

    Raised before any request, so a truncated or empty export never deletes
    everyone. ``result`` is the dry-run result, the planned deletions
    included. Check the export, or pass ``mirror_max_deletes=`` to allow more.
    """
