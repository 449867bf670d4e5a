"""Helpers for testing code that uses pandas_cio, without credentials or a network.

:class:`FakeCio` is a local HTTP fake of the Customer.io Data Pipelines API.
With pandas_cio installed, pytest also gets the ``cio_fake`` and ``cio_client``
fixtures (see :mod:`pandas_cio.testing._plugin`).
"""

from pandas_cio.testing._server import FakeCio, Fault, RecordedRequest

__all__ = ["FakeCio", "Fault", "RecordedRequest"]
