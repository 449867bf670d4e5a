"""pandas_cio: send pandas DataFrames to Customer.io, one status per row.

Importing the package registers the ``DataFrame.cio`` accessor::

    import pandas as pd
    import pandas_cio

    result = people.cio.identify(user_id="id")
    result["status"].value_counts()

The same methods are plain functions of the frame (``pandas_cio.identify(people,
user_id="id")``, see :mod:`pandas_cio.accessor.functions`), and, once polars is imported,
before or after this package, ``polars.DataFrame.cio`` (see
:mod:`pandas_cio.accessor.polars_frame`).
"""

from __future__ import annotations

import logging

from ._version import __version__
from .accessor import frame as _accessor
from .accessor import functions as _functions
from .accessor.functions import *  # noqa: F403 (its __all__, re-exported below)
from .delivery.auth import ApiKey
from .delivery.client import Client
from .delivery.transport import RateLimit
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
    UnknownArgumentError,
    UnknownEventError,
)
from .ledger.store import Ledger, LedgerError, SqliteLedger
from .outcome.frames import register_polars_when_imported as _register_polars
from .outcome.results import Status
from .prepare.roles import col, lit

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
    "UnknownArgumentError",
    "UnknownEventError",
    "__version__",
    "col",
    "lit",
]
# The plain functions name themselves (pandas_cio.accessor.functions.__all__).
__all__ += _functions.__all__

# The library never configures logging; applications decide where records go.
logging.getLogger("pandas_cio").addHandler(logging.NullHandler())
_register_polars()
del _accessor, _functions, _register_polars
