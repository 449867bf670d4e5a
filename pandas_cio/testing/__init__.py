"""Helpers for testing code that uses pandas_cio, without credentials or a network.

:class:`FakeCio` is a local HTTP fake of the Customer.io Data Pipelines API, with
its permissive and strict (``X-Strict-Mode: 1``) modes. ``FakeCio().journeys`` is
a :class:`Journeys` model of what the accepted calls do in Customer.io Journeys:
people, objects, relationships, devices, events and the rest, as records
(:class:`Event`, :class:`Device`, :class:`Dropped` ...).
With pandas_cio installed, pytest also gets the ``cio_fake`` and ``cio_client``
fixtures (see :mod:`pandas_cio.testing._plugin`). :mod:`pandas_cio.testing.messy`
has hypothesis strategies for messy real-world frames and named fault presets
(``messy.flaky(rate=0.3)``, ``messy.outage()`` ...). :func:`serve` runs a fake
in the foreground for the command line and other tools (``pandas-cio fake``,
``python -m pandas_cio.testing``). :func:`valid_frames` and
:func:`invalid_frames` draw frames an operation accepts, or rejects on chosen
rows (see :mod:`pandas_cio.testing.strategies`).
"""

from importlib import import_module
from typing import Any

from pandas_cio.testing._journeys import Journeys
from pandas_cio.testing._journeys_types import (
    Deletion,
    DeliveryMetric,
    Device,
    Dropped,
    Event,
    Merge,
    Suppression,
)
from pandas_cio.testing._server import STRICT_HEADER, FakeCio, Fault, RecordedRequest, Refusal

__all__ = [
    "STRICT_HEADER",
    "DeliveryMetric",
    "Deletion",
    "Device",
    "Dropped",
    "Event",
    "FakeCio",
    "Fault",
    "INVALID_KINDS",
    "InvalidFrame",
    "Journeys",
    "Merge",
    "RecordedRequest",
    "Refusal",
    "Suppression",
    "arguments_for",
    "invalid_frames",
    "invalid_kinds",
    "messy",
    "serve",
    "valid_frames",
]

# messy (hypothesis strategies for messy frames, and named fault presets such
# as messy.flaky(rate=0.3)) needs hypothesis, a test dependency; it is imported
# on first use so that FakeCio works without it.
_LAZY = {"messy": "pandas_cio.testing.messy"}
# The strategies of pandas_cio.testing.strategies need hypothesis as well.
_STRATEGIES = frozenset(
    {
        "INVALID_KINDS",
        "InvalidFrame",
        "arguments_for",
        "invalid_frames",
        "invalid_kinds",
        "valid_frames",
    }
)


def __getattr__(name: str) -> Any:
    if name == "serve":
        # Imported on use: ``python -m pandas_cio.testing._serve`` (the child
        # process of the benchmarks and tests) must not find its own module
        # already imported by this package, which runpy warns about.
        return import_module("pandas_cio.testing._serve").serve
    if name in _LAZY:
        return import_module(_LAZY[name])
    if name in _STRATEGIES:
        return getattr(import_module("pandas_cio.testing.strategies"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
