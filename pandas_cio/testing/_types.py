"""The value types of the fake service: the faults it injects and the requests it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

__all__ = ["BASE_PATH", "Fault", "RecordedRequest", "endpoint_of"]

#: Base path of every endpoint, as in ``https://cdp.customer.io/v1``.
BASE_PATH = "/v1"


def endpoint_of(path: str) -> str:
    """Strip the base path, so that ``"/v1/batch"`` and ``"/batch"`` compare equal.

    Parameters
    ----------
    path : str
        A request path, with or without the ``/v1`` base path.

    Returns
    -------
    str
        The path relative to ``/v1``; a path outside ``/v1`` is returned unchanged.
    """
    if path == BASE_PATH or path.startswith(BASE_PATH + "/"):
        return path[len(BASE_PATH) :] or "/"
    return path


@dataclass(frozen=True)
class Fault:
    """A failure the fake injects instead of answering normally.

    A request that a fault hits is recorded but never accepted: no call in it
    reaches :attr:`FakeCio.calls`. Faults are tried in the order they were
    injected; the first that fires answers the request.

    Parameters
    ----------
    kind : {"status", "reset", "hang"}
        ``"status"`` answers with ``status`` and a JSON error body;
        ``"reset"`` reads part of the body and aborts the TCP connection, so
        the client sees a connection reset; ``"hang"`` reads the body, waits
        ``seconds`` and closes the connection without answering.
    status : int
        HTTP status for ``kind="status"``, for example 503, 500 or 429.
    retry_after : str or None
        Value of the ``Retry-After`` header sent with a status fault, either
        seconds (``"1"``) or an HTTP date. None sends no header.
    probability : float
        Chance, between 0 and 1, that the fault fires on a matching request.
        Drawn from the fake's seeded generator, so a run is reproducible when
        requests arrive in the same order.
    count : int or None
        Fire at most this many times; None fires without limit.
    seconds : float
        For ``kind="hang"``: how long to hold the connection before closing it.
    paths : tuple of str or None
        Only requests to these endpoints, written as ``"/batch"`` or
        ``"/v1/batch"``; None matches every path.

    Examples
    --------
    >>> Fault(status=429, retry_after="1", count=2)  # doctest: +ELLIPSIS
    Fault(kind='status', status=429, retry_after='1', ...)
    """

    kind: Literal["status", "reset", "hang"] = "status"
    status: int = 503
    retry_after: str | None = None
    probability: float = 1.0
    count: int | None = None
    seconds: float = 0.0
    paths: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("status", "reset", "hang"):
            raise ValueError(f"kind must be 'status', 'reset' or 'hang', not {self.kind!r}")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code, not {self.status!r}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be between 0 and 1, not {self.probability!r}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"count must be None or >= 0, not {self.count!r}")
        if self.seconds < 0:
            raise ValueError(f"seconds must be >= 0, not {self.seconds!r}")
        if isinstance(self.paths, str):
            # A bare string would otherwise match character by character.
            raise TypeError("paths must be a tuple of paths, such as ('/batch',)")

    def matches(self, path: str) -> bool:
        """Return whether the fault applies to a request for ``path``.

        Parameters
        ----------
        path : str
            The request path, with or without the ``/v1`` base path.

        Returns
        -------
        bool
        """
        if self.paths is None:
            return True
        endpoint = endpoint_of(path)
        return any(endpoint_of(p) == endpoint for p in self.paths)


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the fake saw it.

    Attributes
    ----------
    path : str
        The request path as sent, without the query string, e.g. ``"/v1/batch"``.
    headers : dict of str to str
        The request headers, including ``Authorization``.
    body : bytes
        The body, gunzipped when it came with ``Content-Encoding: gzip``. For a
        ``"reset"`` fault only the part read before the reset; empty when the
        fake runs with ``keep_calls=False``.
    status : int
        The status answered, or 0 when no answer was sent (reset, hang).
    arrived : float
        :func:`time.monotonic` when the request arrived.
    accepted : bool
        True when the request's calls were accepted (answered 200 and not
        dropped for size).
    fault : str or None
        The kind of the injected fault that answered it, or None.
    """

    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    arrived: float
    accepted: bool
    fault: str | None

    @property
    def endpoint(self) -> str:
        """The path relative to the ``/v1`` base path, e.g. ``"/batch"``."""
        return endpoint_of(self.path)

    def json(self) -> Any:
        """Parse the body as JSON.

        Returns
        -------
        Any
            The decoded body.

        Raises
        ------
        orjson.JSONDecodeError
            If the body is not valid JSON.
        """
        return orjson.loads(self.body)
