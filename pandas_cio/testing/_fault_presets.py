"""Named presets of :class:`~pandas_cio.testing.Fault` lists: unreliable networks.

For :meth:`FakeCio.inject <pandas_cio.testing.FakeCio.inject>`, public through
:mod:`pandas_cio.testing.messy` (``messy.flaky(rate=0.3)``, ``messy.outage()``
...). Unlike the strategies, they need no hypothesis.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Sequence
from typing import Any

from pandas_cio.testing._types import Fault

__all__ = ["flaky", "hangs", "outage", "refused", "resets", "retry_after_date", "throttled"]


def _split(rate: float, kinds: Sequence[dict[str, Any]], **common: Any) -> list[Fault]:
    """Faults that together fire on ``rate`` of requests, each kind an equal share.

    Faults are tried in order and the first that fires answers, so the i-th of
    k faults gets probability ``(rate/k) / (1 - i*rate/k)``: what is left of
    the share after the earlier ones had their chance.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be between 0 and 1, not {rate!r}")
    share = rate / len(kinds)
    faults = []
    for i, options in enumerate(kinds):
        remaining = 1.0 - i * share
        probability = min(1.0, share / remaining) if remaining > 0 else 1.0
        faults.append(Fault(probability=probability, **common, **options))
    return faults


def retry_after_date(seconds: float) -> str:
    """Return a ``Retry-After`` HTTP date at least ``seconds`` from now.

    HTTP dates have whole seconds, so the time is rounded up: a client that
    honours the header waits at least ``seconds`` (and less than one more).

    Parameters
    ----------
    seconds : float
        How far ahead.

    Returns
    -------
    str
        For example ``"Wed, 21 Oct 2026 07:28:00 GMT"``.
    """
    when = math.ceil(time.time() + seconds)
    return email.utils.formatdate(when, usegmt=True)


def flaky(
    rate: float = 0.3,
    *,
    statuses: Sequence[int] = (503, 500, 429),
    resets: bool = True,
    paths: tuple[str, ...] | None = None,
) -> list[Fault]:
    """A service that fails ``rate`` of requests: error statuses and connection resets.

    The 429 answers come in three forms: ``Retry-After: 0`` in seconds, as an
    HTTP date already past, and without the header. Every fault answers
    without accepting anything, so a client that retries loses nothing.

    Parameters
    ----------
    rate : float
        Share of requests that fail, between 0 and 1.
    statuses : sequence of int
        Error statuses to answer with.
    resets : bool
        Also reset connections mid-body.
    paths : tuple of str, optional
        Only requests to these endpoints.

    Returns
    -------
    list of Fault
        For ``FakeCio.inject(*faults)``.
    """
    kinds: list[dict[str, Any]] = []
    for status in statuses:
        if status == 429:
            past = email.utils.formatdate(0, usegmt=True)
            kinds += [
                {"status": 429, "retry_after": "0"},
                {"status": 429, "retry_after": past},
                {"status": 429},
            ]
        else:
            kinds.append({"status": status})
    if resets:
        kinds.append({"kind": "reset"})
    return _split(rate, kinds, paths=paths)


def throttled(
    rate: float = 0.2, *, retry_after: str = "1", paths: tuple[str, ...] | None = None
) -> list[Fault]:
    """A service that answers ``rate`` of requests 429 with a ``Retry-After``.

    Parameters
    ----------
    rate : float
        Share of requests refused.
    retry_after : str
        The header: seconds (``"1"``) or an HTTP date (see :func:`retry_after_date`).
    paths : tuple of str, optional
        Only requests to these endpoints.

    Returns
    -------
    list of Fault
    """
    return _split(rate, [{"status": 429, "retry_after": retry_after}], paths=paths)


def resets(rate: float = 0.3, *, paths: tuple[str, ...] | None = None) -> list[Fault]:
    """Connections reset mid-body on ``rate`` of requests.

    Returns
    -------
    list of Fault
    """
    return _split(rate, [{"kind": "reset"}], paths=paths)


def hangs(
    rate: float = 0.1, *, seconds: float = 1.0, paths: tuple[str, ...] | None = None
) -> list[Fault]:
    """Requests held ``seconds`` without an answer, then closed (past a client's timeout).

    Parameters
    ----------
    rate : float
        Share of requests that hang.
    seconds : float
        How long each hangs; make it longer than the client's read timeout.
    paths : tuple of str, optional
        Only requests to these endpoints.

    Returns
    -------
    list of Fault
    """
    return _split(rate, [{"kind": "hang", "seconds": seconds}], paths=paths)


def outage(status: int = 503, *, count: int | None = None) -> list[Fault]:
    """Every request (or the next ``count``) answered with ``status``: the service is down.

    Returns
    -------
    list of Fault
    """
    return [Fault(status=status, count=count)]


def refused(status: int = 401, *, count: int | None = None) -> list[Fault]:
    """Every request (or the next ``count``) refused as unauthorised (401) or forbidden (403).

    Returns
    -------
    list of Fault
    """
    if status not in (401, 403):
        raise ValueError(f"status must be 401 or 403, not {status!r}")
    return [Fault(status=status, count=count)]
