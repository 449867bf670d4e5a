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
import threading
from dataclasses import dataclass
from typing import Any

import requests
from pyrate_limiter import Duration, InMemoryBucket, Limiter, Rate
from requests_ratelimiter import LimiterAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry

__all__ = [
    "DEFAULT_RATE",
    "RETRY_STATUSES",
    "CioAdapter",
    "Delivery",
    "RateLimit",
    "default_retry",
    "make_limiter",
]

logger = logging.getLogger("pandas_cio.transport")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
AUTH_STATUSES = frozenset({401, 403})
_STOPPED = "not confirmed: the send was stopped before this request succeeded"


class CircuitOpen(Exception):  # noqa: N818
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
        The service answered 2xx.
    status : int
        The last HTTP status, or 0 when no response arrived.
    attempts : int
        Requests made, the first included.
    error : str or None
        A readable reason when not ``ok``.
    auth_failed : bool
        The service refused the credentials (401/403); sending must stop.
    """

    ok: bool
    status: int
    attempts: int
    error: str | None = None
    auth_failed: bool = False


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


def _describe(exc: BaseException) -> str:
    text = str(exc)
    # urllib3 messages repeat the pool repr; keep the informative tail.
    if "Caused by" in text:
        text = text.split("Caused by", 1)[1].strip(" ()")
    return f"{type(exc).__name__}: {text}"[:300]


class CioAdapter(LimiterAdapter):
    """An HTTPAdapter whose every attempt is rate limited and whose retries follow a Retry.

    requests-ratelimiter's adapter takes a token in ``send``; :meth:`deliver`
    calls ``send`` once per attempt, so retries are metered like first tries.

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

    def deliver(
        self,
        session: requests.Session,
        request: requests.PreparedRequest,
        timeout: Any,
        stop: threading.Event | None = None,
    ) -> Delivery:
        """Send ``request`` until it succeeds, is refused, or the policy gives up.

        Parameters
        ----------
        session : requests.Session
            The session the adapter is mounted on.
        request : requests.PreparedRequest
            The prepared POST.
        timeout : float or tuple
            Connect and read timeouts per attempt.
        stop : threading.Event, optional
            Set by the caller to abandon the request between attempts.

        Returns
        -------
        Delivery
            Never raises for network or HTTP failures.
        """
        stop = stop or threading.Event()
        retry = self.retry
        attempts = 0
        method, url = request.method or "POST", request.url or ""
        while True:
            attempts += 1
            try:
                response = session.send(request, timeout=timeout, allow_redirects=False)
            except requests.RequestException as exc:
                cause = _root_cause(exc)
                logger.debug(
                    "attempt %d to %s failed: %s", attempts, request.path_url, _describe(cause)
                )
                try:
                    retry = retry.increment(method, url, error=cause)
                except Exception:  # MaxRetryError or the re-raised cause: out of attempts
                    return Delivery(False, 0, attempts, _describe(cause))
                if not self._pause(retry, None, stop):
                    return Delivery(False, 0, attempts, _STOPPED)
                continue
            status = response.status_code
            if 200 <= status < 300:
                response.close()
                return Delivery(True, status, attempts)
            detail = response.text[:200].strip()
            response.close()
            if status in AUTH_STATUSES:
                return Delivery(
                    False,
                    status,
                    attempts,
                    f"HTTP {status}: the service refused the API key",
                    auth_failed=True,
                )
            has_retry_after = bool(response.headers.get("Retry-After"))
            if not retry.is_retry(method, status, has_retry_after):
                return Delivery(False, status, attempts, f"HTTP {status}: {detail}".strip())
            try:
                retry = retry.increment(method, url, response=response.raw)
            except MaxRetryError:
                return Delivery(False, status, attempts, f"HTTP {status} after {attempts} attempts")
            logger.debug(
                "attempt %d to %s answered %d; retrying", attempts, request.path_url, status
            )
            if not self._pause(retry, response.raw, stop):
                return Delivery(False, status, attempts, _STOPPED)
