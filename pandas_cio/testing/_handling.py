"""How the fake answers one request: faults, checks, refusals, records, the answer.

:class:`RequestHandling` is the request side of
:class:`~pandas_cio.testing.FakeCio`, which mixes it in: the steps its
docstring lists run here, in that order, on the server's handler threads.
The fake itself owns the lifecycle, the configuration and the records.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import random
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from pandas_cio.testing._api_checks import CALL_TYPES, call_problem
from pandas_cio.testing._http import Handler
from pandas_cio.testing._journeys import Journeys
from pandas_cio.testing._types import Fault, RecordedRequest, endpoint_of

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CALL_BYTES",
    "STRICT_HEADER",
    "FaultSlot",
    "Refusal",
    "RequestHandling",
]

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

_JSON_EMPTY = b"{}"


class _RequestError(Exception):
    """A request the fake refuses; carries the status and message of the answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class FaultSlot:
    """An injected fault and how many more times it may fire."""

    fault: Fault
    remaining: int | None


class RequestHandling:
    """The request steps of :class:`~pandas_cio.testing.FakeCio`, as a mixin.

    The attributes below are the fake's; they are declared here so that the
    steps type-check on their own.
    """

    api_key: str
    latency: float
    keep_calls: bool
    max_call_bytes: int
    max_body_bytes: int
    journeys: Journeys
    _random: random.Random
    _lock: threading.Lock
    _faults: list[FaultSlot]
    _refusals: list[Refusal]
    _model_journeys: bool
    _requests: list[RecordedRequest]
    _calls: list[dict[str, Any]]
    _message_ids: list[str]
    _accepted_calls: int
    _dropped_calls: int
    _dropped_bodies: int
    _stopping: threading.Event

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
