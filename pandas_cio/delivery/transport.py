"""The HTTP layer: one adapter that meters every attempt and retries by policy.

urllib3 normally runs its retries inside ``urlopen``, below the adapter, where
a rate limiter mounted on the session or adapter never sees them. The service's
limit (3,000 requests per 3 seconds) counts every request, retries included, so
:class:`CioAdapter` drives urllib3's :class:`~urllib3.util.Retry` policy itself:
each attempt takes a token from the shared limiter, then the immutable ``Retry``
decides whether to try again and how long to wait (honouring ``Retry-After``).
This is also the one place where lower-level exceptions become a
:class:`Delivery` outcome.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from pyrate_limiter import Duration, InMemoryBucket, Limiter, Rate
from requests_ratelimiter import LimiterAdapter
from urllib3.exceptions import (
    InvalidHeader,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from .deadline import Watchdog, watch_pools
from .redact import Redactor, service_message

__all__ = [
    "DEFAULT_RATE",
    "RETRY_STATUSES",
    "AttemptObserver",
    "CioAdapter",
    "CircuitOpen",
    "Delivery",
    "RateLimit",
    "default_retry",
    "make_limiter",
]

logger = logging.getLogger("pandas_cio.delivery.transport")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
AUTH_STATUSES = frozenset({401, 403})
_STOPPED = "not confirmed: the send was stopped before this request succeeded"
# What urllib3 would retry because of a Retry-After header (its
# RETRY_AFTER_STATUS_CODES holds 413): a body the service finds too large
# stays too large, so no 4xx but 429 is ever retried.
_NEVER_RETRIED = frozenset(range(400, 500)) - {429}


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` requests in any window of ``seconds`` seconds.

    Attributes
    ----------
    requests : int
        Requests allowed per window.
    seconds : float
        Window length.
    margin : float
        Seconds added to the window on the client side. Requests can reach
        the server in a different order and spacing than they left the
        client (connection set-up, scheduling), so the client keeps its window
        a little longer than the server's to stay under the limit as counted
        there.
    """

    requests: int = 3000
    seconds: float = 3.0
    margin: float = 0.25

    def __post_init__(self) -> None:
        if self.requests < 1 or self.seconds <= 0 or self.margin < 0:
            raise ValueError(f"invalid rate limit {self!r}")


DEFAULT_RATE = RateLimit()


def make_limiter(rate: RateLimit) -> Limiter:
    """Return a limiter enforcing ``rate`` (a sliding window over an in-memory log)."""
    interval = int((rate.seconds + rate.margin) * Duration.SECOND)
    return Limiter(InMemoryBucket([Rate(rate.requests, interval)]), buffer_ms=5)


def default_retry(total: int = 6) -> Retry:
    """Return the default retry policy.

    POST is retried (urllib3 does not by default) because every call carries a
    deterministic messageId, so the service drops a repeat of a call it has.
    Backoff is exponential from 0.5 s with up to 0.5 s of jitter, capped at
    30 s; ``Retry-After`` is honoured up to 60 s.
    """
    return Retry(
        total=total,
        connect=total,
        read=total,
        status=total,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"POST"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.5,
        backoff_jitter=0.5,
        backoff_max=30.0,
        respect_retry_after_header=True,
        retry_after_max=60,
        raise_on_status=False,
        raise_on_redirect=False,
    )


@dataclass(frozen=True)
class Delivery:
    """What happened to one request after all its attempts.

    Attributes
    ----------
    ok : bool
        The service confirmed the request: a 2xx answer whose body is a JSON
        object, as the service documents for every endpoint.
    status : int
        The last HTTP status, or 0 when no response arrived.
    attempts : int
        Requests made, the first included.
    error : str or None
        A readable reason when not ``ok``: the library's own words and the
        HTTP status; any part of the server's answer is redacted (no key, no
        value of the request body) and at most a hundred or so characters.
    auth_failed : bool
        The service refused the credentials (401/403); sending must stop.
    unavailable : bool
        The failure looks like the service being down or unreachable
        (network errors, timeouts, 429, 5xx, an answer that is not the
        service's); such failures count towards the circuit breaker.
    stopped : bool
        The send was stopped before this request was confirmed (its rows are
        not confirmed; the service may or may not have them).
    """

    ok: bool
    status: int
    attempts: int
    error: str | None = None
    auth_failed: bool = False
    unavailable: bool = False
    stopped: bool = False


class CircuitOpen(Exception):  # noqa: N818 - the name the pipeline and client agreed on
    """The circuit breaker stopped a send: the service looked down.

    Raised by :meth:`pandas_cio.Client.send_batches` after the outcomes of
    every request it made were yielded (or settled); batches not yielded were
    never confirmed. The pipeline turns it into a :class:`~pandas_cio.SendError`
    with the partial result.

    Attributes
    ----------
    reason : str
        A readable sentence for the rows that were not sent: that the service
        looked down, how many batches failed, and how to resume.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AttemptObserver(Protocol):
    """Told about every attempt's end (the circuit breaker listens)."""

    def attempt_ended(self, started: float, alive: bool) -> None:
        """``alive``: the service itself answered (2xx or a JSON 4xx), whatever it said."""


def _root_cause(exc: BaseException) -> Exception:
    """Find the urllib3 exception under a requests exception (for Retry.increment)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MaxRetryError) and seen.reason is not None:
            return seen.reason
        for arg in getattr(seen, "args", ()):
            if isinstance(arg, MaxRetryError) and arg.reason is not None:
                return arg.reason
        if type(seen).__module__.startswith("urllib3"):
            return seen  # type: ignore[return-value]
        seen = seen.__cause__ or seen.__context__
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))


def _address(exc: BaseException) -> str:
    """host:port of the connection an urllib3 error is about, or "" when it names none."""
    # vars(), not the attributes: urllib3 2 warns on the deprecated .pool property.
    conn = vars(exc).get("conn") or vars(exc).get("pool")
    host, port = getattr(conn, "host", None), getattr(conn, "port", None)
    if not host:
        return ""
    return f"{host}:{port}" if port else str(host)


def _plain_words(exc: BaseException) -> str | None:
    """Readable words for the connection errors whose text is mostly a repr."""
    address = _address(exc)
    if isinstance(exc, NameResolutionError):
        named = re.search(r"Failed to resolve '([^']*)'", str(exc))
        host = named.group(1) if named else address.rsplit(":", 1)[0]
        return f"cannot resolve the host name {host}" if host else "cannot resolve the host name"
    if isinstance(exc, NewConnectionError):
        tail = str(exc).rsplit("Failed to establish a new connection: ", 1)[-1]
        where = f" by {address}" if address else ""
        if "refused" in tail.lower():
            return f"connection refused{where}"
        return f"cannot connect to {address or 'the service'}: {tail}"
    return None


def _describe(exc: BaseException) -> str:
    # The class name stays first: logs and tests group reasons by it.
    words = _plain_words(exc)
    if words is not None:
        return f"{type(exc).__name__}: {words}"[:300]
    text = str(exc)
    # urllib3 messages repeat the pool repr; keep the informative tail.
    if "Caused by" in text:
        text = text.split("Caused by", 1)[1].strip(" ()")
    return f"{type(exc).__name__}: {text}"[:300]


def _status_error(status: int, message: str | None, redactor: Redactor) -> str:
    """The library's words for a non-2xx answer, with the service's redacted message."""
    if status == 400:
        words = "HTTP 400: the service refused the request"
    elif status == 413:
        words = "HTTP 413: the service refused the request body as too large (not retried)"
    else:
        words = f"HTTP {status}"
    if message is None:
        return f"{words} (the answer is not the service's JSON)"
    detail = redactor.clean(message)
    return f"{words}: {detail}" if detail else words


def _foreign_answer(response: requests.Response) -> str:
    kind = (response.headers.get("Content-Type") or "no content type").split(";")[0].strip()
    return (
        f"HTTP {response.status_code} with a body that is not the service's JSON ({kind[:40]}): "
        "something else answered (a captive portal, a proxy or a wrong base_url=); "
        "not counted as delivered"
    )


class CioAdapter(LimiterAdapter):
    """An HTTPAdapter whose every attempt is rate limited, deadlined and retried by a Retry.

    requests-ratelimiter's adapter takes a token in ``send``; :meth:`deliver`
    calls ``send`` once per attempt, so retries are metered like first tries.
    Every attempt also runs under a :class:`~pandas_cio.delivery.deadline.Watchdog`
    ticket: past its deadline (connect, send and the full answer together) its
    socket is cut.

    Parameters
    ----------
    limiter : pyrate_limiter.Limiter
        Shared by every worker; one token per attempt.
    retry : urllib3.util.Retry
        The retry policy; copied per request (it is immutable).
    pool_maxsize : int
        Connections kept per host; at least the number of workers.
    """

    def __init__(self, limiter: Limiter, retry: Retry, pool_maxsize: int = 10) -> None:
        self.watchdog = Watchdog()
        # One bucket for the whole client (not per host), no bucket filling on
        # 429 (Retry-After already paces that request), and no retries inside
        # the base adapter: attempts happen in deliver(), each through send().
        super().__init__(
            limiter=limiter,
            per_host=False,
            bucket_name="cio",
            limit_statuses=(),
            pool_connections=1,
            pool_maxsize=pool_maxsize,
            max_retries=0,
        )
        self.retry = retry

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Build the pool manager, with pools that bind connections to deadline tickets."""
        super().init_poolmanager(*args, **kwargs)
        watch_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """Build (once) the manager for ``proxy``, with deadline-bound pools."""
        return watch_pools(super().proxy_manager_for(proxy, **proxy_kwargs))

    def close(self) -> None:
        """Close the connections and stop the watchdog."""
        self.watchdog.close()
        super().close()

    def _pause(self, retry: Retry, response: Any, stop: threading.Event) -> bool:
        """Wait as the policy says (Retry-After first); False when told to stop."""
        delay = None
        if response is not None and retry.respect_retry_after_header:
            try:
                delay = retry.get_retry_after(response)
            except InvalidHeader:  # "1.5", "soon": urllib3 reads only seconds or a date
                delay = None
        if delay is None:
            delay = retry.get_backoff_time()
        return not stop.wait(delay) if delay > 0 else not stop.is_set()

    def _attempt(
        self,
        session: requests.Session,
        request: requests.PreparedRequest,
        timeout: Any,
        deadline: float,
        stop: threading.Event,
    ) -> tuple[requests.Response | None, BaseException | None, bool]:
        """One attempt under a deadline ticket: (response, error, timed out)."""
        ticket = self.watchdog.arm(deadline, stop)
        try:
            response = session.send(request, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return None, exc, ticket.expired
        finally:
            self.watchdog.disarm(ticket)
        return response, None, False

    def deliver(
        self,
        session: requests.Session,
        request: requests.PreparedRequest,
        timeout: Any,
        stop: threading.Event | None = None,
        *,
        deadline: float = 35.0,
        redactor: Redactor | None = None,
        observer: AttemptObserver | None = None,
        retry: Retry | None = None,
    ) -> Delivery:
        """Send ``request`` until it succeeds, is refused, or the policy gives up.

        Parameters
        ----------
        session : requests.Session
            The session the adapter is mounted on.
        request : requests.PreparedRequest
            The prepared POST.
        timeout : float or tuple
            Connect and read timeouts of each socket operation.
        stop : threading.Event, optional
            Set by the caller to abandon the request; it ends waits between
            attempts at once, and :meth:`abort` cuts attempts in flight.
        deadline : float
            Seconds one attempt may take, from connecting to the last byte
            of the answer.
        redactor : Redactor, optional
            Removes the key and the body's values from texts of the answer.
        observer : AttemptObserver, optional
            Told when each attempt ends and whether the service answered.
        retry : urllib3.util.Retry, optional
            A policy for this request instead of the adapter's.

        Returns
        -------
        Delivery
            Never raises for network or HTTP failures.
        """
        stop = stop or threading.Event()
        redactor = redactor or Redactor(None)
        retry = retry if retry is not None else self.retry
        attempts = 0
        method, url = request.method or "POST", request.url or ""
        while True:
            attempts += 1
            started = time.monotonic()
            response, exc, timed_out = self._attempt(session, request, timeout, deadline, stop)
            if response is None:
                if stop.is_set():
                    return Delivery(False, 0, attempts, _STOPPED, stopped=True)
                if observer is not None:
                    observer.attempt_ended(started, alive=False)
                if timed_out:
                    cause: Exception = ReadTimeoutError(
                        None,  # type: ignore[arg-type]
                        url,
                        f"no complete answer within {deadline:g} s (attempt_timeout=)",
                    )
                    reason = f"AttemptTimeout: no complete answer within {deadline:g} s"
                else:
                    assert exc is not None
                    cause = _root_cause(exc)
                    reason = redactor.clean(_describe(cause), limit=300)
                logger.debug("attempt %d to %s failed: %s", attempts, request.path_url, reason)
                try:
                    retry = retry.increment(method, url, error=cause)
                except Exception:  # MaxRetryError or the re-raised cause: out of attempts
                    return Delivery(False, 0, attempts, reason, unavailable=True)
                if not self._pause(retry, None, stop):
                    return Delivery(False, 0, attempts, _STOPPED, stopped=True)
                continue
            status = response.status_code
            body = response.content
            message = service_message(body)
            response.close()
            alive = message is not None and status < 500 and status != 429
            if observer is not None:
                observer.attempt_ended(started, alive=alive)
            if 200 <= status < 300:
                if message is None:
                    return Delivery(
                        False, status, attempts, _foreign_answer(response), unavailable=True
                    )
                return Delivery(True, status, attempts)
            if status in AUTH_STATUSES:
                return Delivery(
                    False,
                    status,
                    attempts,
                    f"HTTP {status}: the service refused the API key",
                    auth_failed=True,
                )
            error = _status_error(status, message, redactor)
            has_retry_after = bool(response.headers.get("Retry-After"))
            if status in _NEVER_RETRIED or not retry.is_retry(method, status, has_retry_after):
                return Delivery(False, status, attempts, error, unavailable=not alive)
            try:
                retry = retry.increment(method, url, response=response.raw)
            except MaxRetryError:
                return Delivery(
                    False,
                    status,
                    attempts,
                    f"HTTP {status} after {attempts} attempt{'s' if attempts != 1 else ''}",
                    unavailable=True,
                )
            logger.debug(
                "attempt %d to %s answered %d; retrying", attempts, request.path_url, status
            )
            if not self._pause(retry, response.raw, stop):
                return Delivery(False, status, attempts, _STOPPED, stopped=True)
