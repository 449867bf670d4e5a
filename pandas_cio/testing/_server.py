"""A local fake of the Customer.io Data Pipelines API, served over real HTTP.

:class:`FakeCio` runs a :class:`http.server.ThreadingHTTPServer` on loopback in
a background thread and answers like the documented contract of the service:
the same endpoints, the same authentication, the same size limits, including
the service's habit of answering 200 while silently dropping data that is over
a limit or of a shape it refuses, and its strict mode (``X-Strict-Mode: 1``),
which answers 400 instead. Everything it sees is recorded, so a test can send
through any HTTP client and then assert on what arrived. Faults (error
statuses, connection resets, hangs) are injected with :class:`Fault`. What the
accepted calls do in Customer.io Journeys is modelled by
:class:`~pandas_cio.testing.Journeys`, at :attr:`FakeCio.journeys`.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
from types import TracebackType
from typing import Any, Self

from pandas_cio.testing._api_checks import CALL_TYPES
from pandas_cio.testing._handling import (
    MAX_BODY_BYTES,
    MAX_CALL_BYTES,
    STRICT_HEADER,
    FaultSlot,
    Refusal,
    RequestHandling,
)
from pandas_cio.testing._http import Server
from pandas_cio.testing._journeys import Journeys
from pandas_cio.testing._types import BASE_PATH, Fault, RecordedRequest

__all__ = ["CALL_TYPES", "STRICT_HEADER", "FakeCio", "Fault", "RecordedRequest", "Refusal"]

logger = logging.getLogger("pandas_cio.testing")

# serve_forever polls for shutdown at this interval; the default 0.5 s would make
# every stop() (so every test using the fixture) wait up to half a second.
_POLL_INTERVAL = 0.02


class FakeCio(RequestHandling):
    """A fake Customer.io Data Pipelines API on a local port.

    Start it (or use it as a context manager), point a client at :attr:`url`
    with :attr:`api_key`, send, then assert on :attr:`calls`,
    :attr:`requests`, :attr:`message_ids` and the drop counters.

    Each request goes through these steps, in this order:

    1. its arrival time is recorded;
    2. injected faults are tried; a fault answers without accepting anything;
    3. authentication is checked: HTTP Basic with the key as user name and an
       empty password, or ``Authorization: Bearer KEY``; otherwise 401;
    4. the body is read (``Content-Length`` or chunked) and gunzipped when it
       has ``Content-Encoding: gzip``; it must be a JSON object (strict JSON:
       NaN and Infinity are refused), and for ``/batch`` hold a ``batch``
       list; otherwise 400, in either mode;
    5. each call is checked: the reference spec's shape
       (:func:`~pandas_cio.testing._api_checks.call_problem`: a known
       ``type``, a ``userId`` or ``anonymousId`` where the spec needs one,
       ``event`` for track, objects for ``traits`` / ``properties`` /
       ``context``...), at most ``max_call_bytes`` (its compact JSON), and the
       test's refusal hooks (``refuse=`` and :meth:`refuse`); a body over
       ``max_body_bytes`` (uncompressed) refuses all its calls;
    6. in strict mode (the request has the header ``X-Strict-Mode: 1``) a
       request with any refused call answers 400 and accepts nothing, not even
       its good calls; the body is ``{"error": FIRST_REASON, "errors":
       [{"message": REASON}, ...]}`` (at most 20 listed, reasons name fields,
       never values; the real service's wording is not documented, so this
       shape is the fake's own). Without the header the request answers 200:
       refused calls are dropped (the size drops counted in
       :attr:`dropped_calls` and :attr:`dropped_bodies`), each recorded in
       ``journeys.dropped`` with ``by="pipelines_api"``, and the others are
       accepted;
    7. accepted calls go to :attr:`journeys`, the model of what Customer.io
       Journeys does with them;
    8. the fake sleeps :attr:`latency` seconds, then answers 200 ``{}``.

    All-or-nothing in strict mode is the safe reading of the service's
    contract (it documents a 400 for the request, no per-call result for
    ``/batch``): a client that splits a refused batch and re-sends the halves
    never gets a call recorded twice.

    Everything is recorded before the answer is sent, so once a client has its
    response the records already show the request. Latency comes after
    acceptance, as on a real slow network: a client that times out during the
    latency has still delivered its calls, which is what a test of retries and
    duplicate ``messageId`` values needs to see. Latency also delays error
    answers (400, 401, status faults), but not resets and hangs.

    Parameters
    ----------
    api_key : str
        The key the fake accepts.
    host : str
        Interface to listen on; keep the loopback default.
    port : int
        Port to listen on; 0 picks a free one.
    latency : float
        Seconds to wait before each answer. Settable at any time.
    keep_calls : bool
        False stores only message ids, counts and bodiless request records,
        to keep memory flat in benchmarks with millions of rows.
    seed : int
        Seed of the generator that decides whether a probabilistic fault fires.
    max_call_bytes, max_body_bytes : int
        The size limits, defaulting to the service's 32 KB and 500 KB.
    refuse : callable or None
        A test hook: called with each call, returns a reason (the service
        refuses the call) or None. More can be added with :meth:`refuse`.
    journeys : bool or None
        Model what lands in Journeys (:attr:`journeys`). None, the default,
        follows ``keep_calls``, so that benchmarks keep memory flat.

    Attributes
    ----------
    journeys : Journeys
        What the accepted calls did in Customer.io Journeys, and what was
        dropped on the way; empty when modelling is off.

    Examples
    --------
    >>> import requests
    >>> with FakeCio() as fake:
    ...     r = requests.post(f"{fake.url}/track", auth=(fake.api_key, ""),
    ...                       json={"userId": "1", "event": "Signed Up"})
    ...     r.status_code, fake.calls[0]["type"], fake.journeys.events("1")[0].name
    (200, 'track', 'Signed Up')

    Strict mode, and a test that makes the service refuse chosen calls:

    >>> with FakeCio(refuse=lambda call: "no" if call.get("event") == "Bad" else None) as fake:
    ...     r = requests.post(f"{fake.url}/track", auth=(fake.api_key, ""),
    ...                       headers={"X-Strict-Mode": "1"},
    ...                       json={"userId": "1", "event": "Bad"})
    ...     r.status_code, r.json()["error"], fake.calls
    (400, 'no', [])
    """

    def __init__(
        self,
        api_key: str = "fake-test-key",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        keep_calls: bool = True,
        seed: int = 0,
        max_call_bytes: int = MAX_CALL_BYTES,
        max_body_bytes: int = MAX_BODY_BYTES,
        refuse: Refusal | None = None,
        journeys: bool | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must be a non-empty string")
        self.api_key = api_key
        self.host = host
        self.port = port
        self.latency = latency
        self.keep_calls = keep_calls
        self.max_call_bytes = max_call_bytes
        self.max_body_bytes = max_body_bytes
        self._seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._faults: list[FaultSlot] = []
        self._refusals: list[Refusal] = [] if refuse is None else [refuse]
        self._model_journeys = keep_calls if journeys is None else journeys
        self.journeys = Journeys()
        self._requests: list[RecordedRequest] = []
        self._calls: list[dict[str, Any]] = []
        self._message_ids: list[str] = []
        self._accepted_calls = 0
        self._dropped_calls = 0
        self._dropped_bodies = 0
        self._connections_opened = 0
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        # The key stays out of the repr, as everywhere in pandas_cio.
        state = self.url if self._server is not None else "stopped"
        return f"<FakeCio {state}>"

    # Lifecycle

    @property
    def url(self) -> str:
        """Base URL of the running fake, e.g. ``"http://127.0.0.1:PORT/v1"``."""
        if self._server is None:
            raise RuntimeError("FakeCio is not running; call start() first")
        host, port = self._server.server_address[:2]
        if not isinstance(host, str):
            host = host.decode()
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}{BASE_PATH}"

    def start(self) -> Self:
        """Start serving in a background thread.

        Returns
        -------
        FakeCio
            The fake itself, so ``fake = FakeCio().start()`` works.
        """
        if self._server is not None:
            raise RuntimeError("FakeCio is already running")
        self._stopping.clear()
        self._server = Server((self.host, self.port), self._handle, self._track_connection)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name="pandas_cio-fake",
            daemon=True,
        )
        self._thread.start()
        logger.debug("fake Customer.io API listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection, without waiting for hung requests.

        Safe to call more than once.
        """
        server, self._server = self._server, None
        if server is None:
            return
        # Wake handlers sleeping for latency or a hang fault.
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            # shutdown() rather than close(): the handler thread still owns the
            # socket, and closing it here could race with a reused descriptor.
            # It ends kept-alive connections, so clients do not keep talking to
            # a stopped fake.
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Faults and records

    def inject(self, *faults: Fault) -> None:
        """Add faults, tried after those already injected.

        Parameters
        ----------
        *faults : Fault
            The faults to add.
        """
        with self._lock:
            self._faults.extend(FaultSlot(f, f.count) for f in faults)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self._faults.clear()

    def refuse(self, predicate: Refusal) -> None:
        """Make the service refuse the calls for which ``predicate`` returns a reason.

        A refused call answers 400 in strict mode and is dropped silently
        otherwise, like a call whose shape the service refuses.

        Parameters
        ----------
        predicate : callable
            Called with each call (a dict, as sent); returns the reason, which
            the 400 body carries, or None to accept the call.

        Examples
        --------
        >>> fake = FakeCio()
        >>> fake.refuse(lambda call: "blocked" if call.get("userId") == "u7" else None)
        """
        with self._lock:
            self._refusals.append(predicate)

    def clear_refusals(self) -> None:
        """Remove every refusal hook, including the one given as ``refuse=``."""
        with self._lock:
            self._refusals.clear()

    def reset(self) -> None:
        """Forget every record, counter and the Journeys model; keep faults, refusals; re-seed."""
        self.journeys.reset()
        with self._lock:
            self._requests.clear()
            self._calls.clear()
            self._message_ids.clear()
            self._accepted_calls = 0
            self._dropped_calls = 0
            self._dropped_bodies = 0
            self._connections_opened = 0
            self._random.seed(self._seed)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request seen, in arrival order, including faulted and refused ones."""
        with self._lock:
            return sorted(self._requests, key=lambda r: r.arrived)

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every accepted call, in the order accepted, batch items flattened.

        A call sent to a single endpoint gets ``type`` from the path when it
        lacks one. The list is a copy; the dicts in it are the recorded ones.
        """
        with self._lock:
            return list(self._calls)

    @property
    def message_ids(self) -> list[str]:
        """``messageId`` of each accepted call that had one, in the order accepted."""
        with self._lock:
            return list(self._message_ids)

    @property
    def accepted_calls(self) -> int:
        """Number of accepted calls, counted even with ``keep_calls=False``."""
        with self._lock:
            return self._accepted_calls

    @property
    def dropped_calls(self) -> int:
        """Calls silently dropped for being over ``max_call_bytes``."""
        with self._lock:
            return self._dropped_calls

    @property
    def dropped_bodies(self) -> int:
        """Requests silently dropped whole for being over ``max_body_bytes``."""
        with self._lock:
            return self._dropped_bodies

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far; fewer than requests means keep-alive works."""
        with self._lock:
            return self._connections_opened

    def max_requests_in_window(self, seconds: float) -> int:
        """Return the most requests that arrived within any window of ``seconds``.

        Every request counts, faulted and refused ones included, as they do
        against the service's rate limit (3000 requests per 3 seconds).

        Parameters
        ----------
        seconds : float
            Length of the window; a window is half-open, so two requests
            exactly ``seconds`` apart are not in the same window.

        Returns
        -------
        int
            The largest count; 0 when no request arrived.
        """
        if seconds <= 0:
            raise ValueError(f"seconds must be > 0, not {seconds!r}")
        with self._lock:
            times = sorted(r.arrived for r in self._requests)
        best = start = 0
        for end, t in enumerate(times):
            while t - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    # Connections, tracked from handler threads so that stop() can end them

    def _track_connection(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
                self._connections_opened += 1
            else:
                self._connections.discard(conn)
