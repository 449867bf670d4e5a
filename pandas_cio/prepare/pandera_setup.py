"""pandera for pandas frames only: without pyspark, and without hypothesis at first use.

pandera probes for pyspark when it is imported (``pandera.typing`` imports
``pyspark.pandas``, 0.1 to 0.2 s, plus a warning about pandas 3) and imports
hypothesis when it registers its pandas backends at the first validation (its
built-in checks carry data-synthesis strategies; 60 to 120 ms). The library
validates pandas frames with its own checks and needs neither, so both are
hidden from pandera while it loads them: the names are set to None in
``sys.modules`` (an import of them then fails, which pandera treats as "not
installed") and removed again right after, so the user's own ``import
pyspark`` or ``import hypothesis`` afterwards works as usual.

A module the process has already imported is never hidden: its cost is paid,
and pandera then sees what it would have seen anyway. The one thing lost is
pandera's own data synthesis for its built-in checks (``schema.strategy()``)
in a process that validated before importing hypothesis; the library's
schemas use custom checks that pandera cannot synthesise anyway, and
:mod:`pandas_cio.testing` has its own strategies.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from collections.abc import Iterator

__all__ = ["SchemaErrors", "first_validation", "pa"]

_PYSPARK_WARNING = "PySpark does not yet fully support"


@contextlib.contextmanager
def _hidden(*names: str) -> Iterator[None]:
    """Make ``import NAME`` fail for modules not imported yet, for the block's duration."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "absent"
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


with _hidden("pyspark"), warnings.catch_warnings():
    warnings.filterwarnings("ignore", _PYSPARK_WARNING, FutureWarning)
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

_registered = False
_lock = threading.Lock()


@contextlib.contextmanager
def first_validation() -> Iterator[None]:
    """Wrap a ``schema.validate`` call: the first one registers pandera's backends.

    The first validation in the process runs with hypothesis (and pyspark)
    hidden, under a lock so that two threads do not both hide and restore the
    same names.
    """
    global _registered
    if _registered:
        yield
        return
    with _lock, _hidden("hypothesis", "pyspark"):
        yield
        _registered = True
