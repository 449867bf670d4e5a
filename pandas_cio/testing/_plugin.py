"""pytest fixtures for pandas_cio, registered as the ``pandas_cio`` pytest plugin.

Fixtures
--------
cio_fake
    A started :class:`~pandas_cio.testing.FakeCio`, stopped after the test.
    Options come from the ``cio_fake`` marker, whose keyword arguments go to
    the constructor::

        @pytest.mark.cio_fake(latency=0.05, keep_calls=False)
        def test_slow_service(cio_fake): ...

cio_client
    A :class:`pandas_cio.Client` bound to ``cio_fake``, closed after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pandas_cio.delivery.client import Client
    from pandas_cio.testing import FakeCio


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``cio_fake`` marker, so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers", "cio_fake(**kwargs): keyword arguments for the FakeCio of the cio_fake fixture"
    )


@pytest.fixture
def cio_fake(request: pytest.FixtureRequest) -> Iterator[FakeCio]:
    """A running fake Customer.io API for one test.

    Yields
    ------
    FakeCio
        Started on a free loopback port; stopped when the test ends.
    """
    # Imported here so that loading the plugin at pytest start-up stays cheap.
    from pandas_cio.testing import FakeCio

    marker = request.node.get_closest_marker("cio_fake")
    options = dict(marker.kwargs) if marker is not None else {}
    with FakeCio(**options) as fake:
        yield fake


@pytest.fixture
def cio_client(cio_fake: FakeCio) -> Iterator[Client]:
    """A pandas_cio client that sends to ``cio_fake``.

    Yields
    ------
    pandas_cio.Client
        Closed when the test ends.
    """
    import pandas_cio

    with pandas_cio.Client(api_key=cio_fake.api_key, base_url=cio_fake.url) as client:
        yield client
