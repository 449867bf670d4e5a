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
    "SchemaError",
    "SendError",
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


class SendError(CioError):
    """A send stopped before every row had a final status.

    Attributes
    ----------
    result : pandas.DataFrame
        The result frame as far as the send got: rows already delivered are
        ``sent``, the rest carry the status that explains why they are not.
        Re-send ``df[result.status != "sent"]``; messageIds are deterministic,
        so rows that did arrive are deduplicated by the service.
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
