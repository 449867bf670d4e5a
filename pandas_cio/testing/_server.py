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

import base64
import binascii
import contextlib
import gzip
import logging
import random
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import orjson

from pandas_cio.testing._api_checks import CALL_TYPES, call_problem
from pandas_cio.testing._http import Handler, Server
from pandas_cio.testing._journeys import Journeys
from pandas_cio.testing._types import BASE_PATH, Fault, RecordedRequest, endpoint_of

__all__ = ["CALL_TYPES", "STRICT_HEADER", "FakeCio", "Fault", "RecordedRequest", "Refusal"]

logger = logging.getLogger("pandas_cio.testing")

#: A test hook deciding that the service refuses a call: the reason, or None to accept it.
Refusal = Callable[[dict[str, Any]], "str | None"]

#: The header that turns on the service's strict mode; its value is ``"1"``.
STRICT_HEADER = "X-Strict-Mode"

# A strict-mode 400 lists at most this many reasons, so that a refused batch of
# thousands of calls does not answer with a body as large as the request.
_MAX_LISTED_ERRORS = 20

#: The documented limits: one call at most 32 KB, one request body at most 500 KB.
MAX_CALL_BYTES = 32 * 1024
MAX_BODY_BYTES = 500 * 1024

# A "reset" fault reads this much of the body before it aborts, so that a
# client sending a large body is typically still writing when the reset hits.
_RESET_READ_BYTES = 1024

# serve_forever polls for shutdown at this interval; the default 0.5 s would make
# every stop() (so every test using the fixture) wait up to half a second.
_POLL_INTERVAL = 0.02

_JSON_EMPTY = b"{}"


class _RequestError(Exception):
    """A request the fake refuses; carries the status and message of the answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _FaultSlot:
    """An injected fault and how many more times it may fire."""

    fault: Fault
    remaining: int | None


class FakeCio:
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
        self._faults: list[_FaultSlot] = []
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
            self._faults.extend(_FaultSlot(f, f.count) for f in faults)

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

    # Request handling, called from handler threads

    def _track_connection(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
                self._connections_opened += 1
            else:
                self._connections.discard(conn)

    def _pick_fault(self, path: str) -> Fault | None:
        with self._lock:
            for slot in self._faults:
                if slot.remaining == 0 or not slot.fault.matches(path):
                    continue
                p = slot.fault.probability
                # Draw only for real chances, so adding a certain fault does not
                # shift the sequence that decides the probabilistic ones.
                if p < 1.0 and not (p > 0.0 and self._random.random() < p):
                    continue
                if slot.remaining is not None:
                    slot.remaining -= 1
                return slot.fault
        return None

    def _record(
        self,
        handler: Handler,
        path: str,
        body: bytes,
        status: int,
        arrived: float,
        *,
        accepted: bool = False,
        fault: str | None = None,
        calls: list[dict[str, Any]] | None = None,
        dropped_calls: int = 0,
        dropped_body: bool = False,
        refused: list[tuple[Any, str]] | None = None,
        context: Any = None,
    ) -> None:
        record = RecordedRequest(
            path=path,
            headers=dict(handler.headers.items()),
            body=body if self.keep_calls else b"",
            status=status,
            arrived=arrived,
            accepted=accepted,
            fault=fault,
        )
        ids = [c["messageId"] for c in calls or () if isinstance(c.get("messageId"), str)]
        with self._lock:
            self._requests.append(record)
            if calls:
                self._accepted_calls += len(calls)
                self._message_ids.extend(ids)
                if self.keep_calls:
                    self._calls.extend(calls)
            self._dropped_calls += dropped_calls
            self._dropped_bodies += int(dropped_body)
            # Under the fake's lock, so the model sees calls in the order accepted.
            if self._model_journeys:
                for call, reason in refused or ():
                    self.journeys.refused(call, reason)
                if calls:
                    self.journeys.ingest(calls, context=context)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _handle(self, handler: Handler) -> None:
        arrived = time.monotonic()
        path = handler.path.split("?", 1)[0]
        fault = self._pick_fault(path)

        if fault is not None and fault.kind == "reset":
            partial = handler.read_body(limit=_RESET_READ_BYTES)
            self._record(handler, path, partial, 0, arrived, fault="reset")
            handler.abort()
            return

        raw = handler.read_body()
        body_error: _RequestError | None = None
        try:
            body = _decompress(raw, handler.headers.get("Content-Encoding", ""))
        except _RequestError as exc:
            body, body_error = raw, exc

        if fault is not None:
            if fault.kind == "hang":
                self._record(handler, path, body, 0, arrived, fault="hang")
                self._sleep(fault.seconds)
                handler.drop()
                return
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            self._record(handler, path, body, fault.status, arrived, fault="status")
            self._sleep(self.latency)
            handler.answer(fault.status, _error_body("injected fault"), headers)
            return

        try:
            if handler.command != "POST":
                raise _RequestError(405, f"method {handler.command} not allowed")
            endpoint = endpoint_of(path)
            if path == endpoint or endpoint.strip("/") not in CALL_TYPES | {"batch"}:
                raise _RequestError(404, f"no endpoint at {path}")
            if not self._authorized(handler.headers.get("Authorization")):
                raise _RequestError(401, "missing or invalid API key")
            if body_error is not None:
                raise body_error
            calls, context = _parse_calls(endpoint.strip("/"), body)
        except _RequestError as exc:
            self._record(handler, path, body, exc.status, arrived)
            self._sleep(self.latency)
            handler.answer(exc.status, _error_body(exc.message))
            return

        strict = handler.headers.get(STRICT_HEADER, "").strip().lower() in ("1", "true")
        body_over = len(body) > self.max_body_bytes
        refused, oversized = self._refused(calls, body_over)
        if strict and refused:
            self._record(handler, path, body, 400, arrived)
            self._sleep(self.latency)
            handler.answer(400, _strict_error_body([reason for _, reason in refused]))
            return
        if body_over:
            self._record(handler, path, body, 200, arrived, dropped_body=True, refused=refused)
        else:
            refused_ids = {id(call) for call, _ in refused}
            kept = [c for c in calls if id(c) not in refused_ids]
            self._record(
                handler,
                path,
                body,
                200,
                arrived,
                accepted=True,
                calls=kept,
                dropped_calls=oversized,
                refused=refused,
                context=context,
            )
        self._sleep(self.latency)
        handler.answer(200, _JSON_EMPTY)

    def _refused(self, calls: list[Any], body_over: bool) -> tuple[list[tuple[Any, str]], int]:
        """The calls the service refuses, with reasons, and how many were over the size limit."""
        if body_over:
            too_big = f"request body over {self.max_body_bytes} bytes"
            return [(call, too_big) for call in calls], 0
        with self._lock:
            hooks = list(self._refusals)
        refused: list[tuple[Any, str]] = []
        oversized = 0
        for call in calls:
            reason: str | None = call_problem(call)
            if reason is None and len(orjson.dumps(call)) > self.max_call_bytes:
                reason = f"call over {self.max_call_bytes} bytes"
                oversized += 1
            for hook in hooks:
                if reason is not None:
                    break
                reason = hook(call)
            if reason is not None:
                refused.append((call, reason))
        return refused, oversized

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            return credentials.strip() == self.api_key
        if scheme.lower() == "basic":
            # Compare decoded credentials so that padding or case in the scheme
            # name does not matter; the password must be empty.
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            return decoded == f"{self.api_key}:"
        return False


def _decompress(raw: bytes, encoding: str) -> bytes:
    """Undo ``Content-Encoding``; the service accepts gzip."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding == "gzip":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise _RequestError(400, "body is not valid gzip") from exc
    raise _RequestError(415, f"unsupported Content-Encoding {encoding!r}")


def _parse_calls(endpoint: str, body: bytes) -> tuple[list[Any], Any]:
    """Return a body's calls and the batch's own context, or raise a 400 ``_RequestError``.

    Only the request as a whole is checked here; each call's shape is checked
    by :func:`call_problem`, which refuses per call (400 only in strict mode).
    """
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _RequestError(400, f"invalid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise _RequestError(400, "body must be a JSON object")
    if endpoint != "batch":
        # A single endpoint names the call type; a conflicting "type" is a bug
        # in the sender, so refuse it rather than guess.
        if payload.setdefault("type", endpoint) != endpoint:
            raise _RequestError(400, f"type {payload['type']!r} sent to /{endpoint}")
        return [payload], None
    batch = payload.get("batch")
    if not isinstance(batch, list):
        raise _RequestError(400, "/batch body must hold a 'batch' list")
    return batch, payload.get("context")


def _error_body(message: str) -> bytes:
    return orjson.dumps({"error": message})


def _strict_error_body(reasons: list[str]) -> bytes:
    """The strict-mode 400 body: the first reason, and the distinct reasons listed."""
    distinct = list(dict.fromkeys(reasons))[:_MAX_LISTED_ERRORS]
    return orjson.dumps({"error": reasons[0], "errors": [{"message": r} for r in distinct]})
