"""pandas_cio: send pandas DataFrames to Customer.io, one status per row.

Importing the package registers the ``DataFrame.cio`` accessor::

    import pandas as pd
    import pandas_cio

    result = people.cio.identify(user_id="id")
    result["status"].value_counts()
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

from . import accessor as _accessor
from .auth import ApiKey
from .client import Client
from .errors import (
    AuthenticationError,
    CioError,
    ColumnError,
    ConfigurationError,
    InterruptedSendError,
    LedgerSendError,
    MirrorGuardError,
    QualityGateError,
    SchemaError,
    SendError,
    ServiceUnavailableError,
    TerminatedSendError,
    UnknownEventError,
)
from .ledger import Ledger, LedgerError, SqliteLedger
from .results import Status
from .roles import col, lit
from .schemas import schema
from .transport import RateLimit

__all__ = [
    "ApiKey",
    "AuthenticationError",
    "CioError",
    "Client",
    "ColumnError",
    "ConfigurationError",
    "InterruptedSendError",
    "Ledger",
    "LedgerError",
    "LedgerSendError",
    "MirrorGuardError",
    "QualityGateError",
    "RateLimit",
    "SchemaError",
    "SendError",
    "ServiceUnavailableError",
    "SqliteLedger",
    "Status",
    "TerminatedSendError",
    "UnknownEventError",
    "__version__",
    "col",
    "lit",
    "schema",
]

# The library never configures logging; applications decide where records go.
logging.getLogger("pandas_cio").addHandler(logging.NullHandler())
del _accessor
