"""The client: credentials, region, one throttled session, concurrent delivery.

A :class:`Client` owns a ``requests.Session`` with a :class:`~pandas_cio.transport.CioAdapter`
mounted on it and a small pool of worker threads that share the adapter's rate
limiter. It is a context manager and never a module global: make one per job
(or let the accessor make a short-lived one from the environment).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import zlib
from collections.abc import Callable, Generator, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any

import requests
from urllib3.util.retry import Retry

from . import __version__
from .auth import REGION_URLS, ApiKey, check_base_url, resolve_region
from .batching import ENVELOPE_BYTES, MAX_BATCH_BYTES, MAX_CALL_BYTES, Batch
from .errors import ConfigurationError
from .transport import DEFAULT_RATE, CioAdapter, Delivery, RateLimit, default_retry, make_limiter

__all__ = ["Client"]

logger = logging.getLogger("pandas_cio.client")

DEFAULT_TIMEOUT = (5.0, 30.0)
# Eight requests in flight keep a 2-core machine busy encoding while the
# network waits; raise it for high-latency links (the rate limit still holds).
DEFAULT_WORKERS = 8
_GZIP_LEVEL = 1


def _sent_at() -> str:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.isoformat(timespec="milliseconds") + "Z"


class Client:
    """A connection to the Customer.io Data Pipelines API.

    Parameters
    ----------
    api_key : str, optional
        The API key; when None, ``CIO_API_KEY`` from the environment.
    region : {"us", "eu"}, optional
        Data centre; when None, taken from the key's prefix, then
        ``CIO_REGION``, then ``"us"``.
    base_url : str, optional
        Override the endpoint (for the local fake service). Plain ``http://``
        is refused except for loopback hosts.
    rate_limit : RateLimit or (int, float), optional
        Requests allowed per window, retries included. Default 3,000 per 3 s.
    retry : urllib3.util.Retry or int, optional
        Retry policy, or the number of retries for the default policy (6).
        POST is added to a policy's allowed methods if missing (urllib3 leaves
        it out by default); pass ``retry=0`` for no retries.
    timeout : float or (float, float)
        Connect and read timeout of each attempt, in seconds.
    workers : int
        Requests in flight at once.
    gzip : bool
        Compress request bodies (saves bandwidth, costs CPU).
    max_batch_bytes : int
        Largest request body; never above the service's limit.
    max_call_bytes : int
        Largest single call; never above the service's limit, and lowered to
        fit in ``max_batch_bytes`` with the body's envelope.
    ca_bundle : str, optional
        Path to a CA bundle to verify the service's certificate against (for
        a TLS-inspecting corporate proxy). Verification is never turned off.
    proxies : Mapping[str, str], optional
        Proxies by scheme, as in requests (``{"https": "http://proxy:3128"}``).
        Environment proxy variables are not read.

    Examples
    --------
    >>> from pandas_cio import Client
    >>> from pandas_cio.testing import FakeCio
    >>> with FakeCio() as fake, Client(fake.api_key, base_url=fake.url) as client:
    ...     client.region
    'us'
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        region: str | None = None,
        base_url: str | None = None,
        rate_limit: RateLimit | tuple[int, float] | None = None,
        retry: Retry | int | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        workers: int = DEFAULT_WORKERS,
        gzip: bool = False,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        max_call_bytes: int = MAX_CALL_BYTES,
        ca_bundle: str | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> None:
        self._key = ApiKey.from_env(api_key)
        self.region = resolve_region(region, self._key)
        self.base_url = check_base_url(base_url or REGION_URLS[self.region])
        if isinstance(rate_limit, tuple):
            rate_limit = RateLimit(*rate_limit)
        self.rate_limit = rate_limit or DEFAULT_RATE
        if retry is None or isinstance(retry, int):
            retry = default_retry() if retry is None else default_retry(retry)
        elif retry.allowed_methods is not None and "POST" not in retry.allowed_methods:
            # urllib3 leaves POST out by default, which would turn every retry
            # off without a word; calls carry messageIds, so POST is safe here.
            retry = retry.new(allowed_methods=frozenset(retry.allowed_methods) | {"POST"})
        self.retry = retry
        self.timeout = timeout
        if workers < 1:
            raise ConfigurationError("workers must be at least 1")
        self.workers = workers
        self.gzip = gzip
        if not ENVELOPE_BYTES < max_batch_bytes <= MAX_BATCH_BYTES:
            raise ConfigurationError(
                f"max_batch_bytes must be in {ENVELOPE_BYTES + 1}..{MAX_BATCH_BYTES}"
            )
        if not 0 < max_call_bytes <= MAX_CALL_BYTES:
            raise ConfigurationError(f"max_call_bytes must be in 1..{MAX_CALL_BYTES}")
        self.max_batch_bytes = max_batch_bytes
        # A call must also fit in a body with its envelope; a larger one would
        # make the packer raise mid-send instead of marking the row too_large.
        self.max_call_bytes = min(max_call_bytes, max_batch_bytes - ENVELOPE_BYTES)
        self._adapter = CioAdapter(make_limiter(self.rate_limit), retry, pool_maxsize=workers)
        self._session = requests.Session()
        self._session.mount("https://", self._adapter)
        self._session.mount("http://", self._adapter)
        # No settings from the environment: a ~/.netrc entry would replace the
        # Authorization header. Proxies and a CA bundle are explicit instead.
        self._session.trust_env = False
        if ca_bundle is not None:
            self._session.verify = ca_bundle  # still verified, against this CA
        if proxies:
            self._session.proxies.update(proxies)
        self._session.headers.update(
            {
                "Authorization": self._key.authorization,
                "Content-Type": "application/json",
                "User-Agent": f"pandas-cio/{__version__} requests/{requests.__version__}",
            }
        )
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"Client(region={self.region!r}, base_url={self.base_url!r}, "
            f"rate_limit={self.rate_limit.requests}/{self.rate_limit.seconds:g}s, "
            f"workers={self.workers}, api_key={self._key!r})"
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError(
            "a Client holds open connections and is not picklable; "
            "pass its settings (see pandas_cio.spark) instead"
        )

    @property
    def api_key(self) -> ApiKey:
        """The key, wrapped so that it never prints."""
        return self._key

    def close(self) -> None:
        """Close the connections. The client cannot send afterwards."""
        if not self._closed:
            self._closed = True
            self._session.close()
            self._adapter.limiter.close()  # stops the limiter's leak thread

    def _prepare(self, path: str, body: bytes) -> requests.PreparedRequest:
        headers = {}
        if self.gzip:
            # Level 1: a 500 KB body of calls shrinks 4.4x in 4.7 ms, against
            # 5.3x in 10.5 ms at the default level 6 (measured, see the README's
            # Performance section): the faster level saves the CPU the sender
            # needs for encoding. wbits 31: gzip framing.
            compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, 31)
            body = compressor.compress(body) + compressor.flush()
            headers["Content-Encoding"] = "gzip"
        request = requests.Request("POST", self.base_url + path, data=body, headers=headers)
        return self._session.prepare_request(request)

    def post(self, path: str, body: bytes, stop: threading.Event | None = None) -> Delivery:
        """POST one raw JSON body to ``path`` (e.g. ``"/batch"``) and return the outcome.

        Parameters
        ----------
        path : str
            Endpoint path below the base URL.
        body : bytes
            The JSON body.
        stop : threading.Event, optional
            Abandon the request between attempts when set.

        Returns
        -------
        Delivery
        """
        if self._closed:
            raise ConfigurationError("this client is closed")
        request = self._prepare(path, body)
        return self._adapter.deliver(self._session, request, self.timeout, stop)

    def send_batches(
        self,
        batches: Iterable[Batch],
        stop: threading.Event | None = None,
        settled: Callable[[Batch, Delivery], None] | None = None,
    ) -> Generator[tuple[Batch, Delivery], None, None]:
        """Send batches concurrently; yield each with its outcome as it completes.

        At most ``2 * workers`` batches are pulled from ``batches`` ahead of
        their delivery, so a lazily encoded frame streams through in bounded
        memory. Closing the generator early (or an exception in the consumer,
        such as KeyboardInterrupt) sets ``stop``, cancels batches not started
        and waits for the requests in flight to give up. Requests in flight
        may still reach the service then; their outcomes go to ``settled``.

        Parameters
        ----------
        batches : iterable of Batch
            The bodies to send.
        stop : threading.Event, optional
            Shared stop flag; one is made when not given.
        settled : callable, optional
            Called as ``settled(batch, delivery)``, after the workers have
            stopped, for every batch whose request finished but was never
            yielded because the consumer stopped early. Without it, rows the
            service did receive could be reported as not sent.

        Yields
        ------
        (Batch, Delivery)
        """
        stop = stop or threading.Event()
        pending: dict[Future[Delivery], Batch] = {}
        source = iter(batches)
        exhausted = False
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="pandas_cio") as pool:
                try:
                    while True:
                        while not exhausted and len(pending) < 2 * self.workers:
                            batch = next(source, None)
                            if batch is None:
                                exhausted = True
                                break
                            body = batch.body(_sent_at())
                            pending[pool.submit(self.post, "/batch", body, stop)] = batch
                        if not pending:
                            return
                        done, _ = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            yield pending.pop(future), future.result()
                finally:
                    stop.set()
                    for future in pending:
                        future.cancel()
        finally:
            # The pool has joined its workers: report what they finished unseen.
            if settled is not None:
                for future, batch in pending.items():
                    if future.done() and not future.cancelled() and future.exception() is None:
                        settled(batch, future.result())
