"""The client: credentials, region, one throttled session, concurrent delivery.

A :class:`Client` owns a ``requests.Session`` with a
:class:`~pandas_cio.delivery.transport.CioAdapter`
mounted on it and a small pool of worker threads that share the adapter's rate
limiter. It is a context manager and never a module global: make one per job
(or let the accessor make a short-lived one from the environment). Everything
it is configured with is one :class:`~pandas_cio.delivery.settings.ClientSettings`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import zlib
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any

import requests
from urllib3.util.retry import Retry

from .._version import __version__
from ..closing import Closing
from ..errors import ConfigurationError
from ..prepare.batching import MAX_BATCH_BYTES, MAX_CALL_BYTES, Batch
from .auth import ApiKey
from .breaker import Breaker
from .redact import Redactor
from .sender import _Send
from .settings import DEFAULT_TIMEOUT, DEFAULT_WORKERS, ClientSettings
from .transport import AttemptObserver, CioAdapter, Delivery, RateLimit, make_limiter

__all__ = ["DEFAULT_TIMEOUT", "DEFAULT_WORKERS", "Client"]

logger = logging.getLogger("pandas_cio.delivery.client")

_GZIP_LEVEL = 1


class Client(Closing):
    """A connection to the Customer.io Data Pipelines API.

    Parameters
    ----------
    api_key : str, optional
        The API key; when None, ``CIO_API_KEY`` from the environment. Keys with
        control characters, spaces or non-ASCII characters are refused here.
    region : {"us", "eu"}, optional
        Data centre; when None, taken from the key's prefix, then
        ``CIO_REGION``, then ``"us"``.
    base_url : str, optional
        Override the endpoint (for the local fake service): a plain
        ``https://host[:port]/path``, without user info, query, fragment,
        backslashes or whitespace. Plain ``http://`` only for loopback hosts.
        When None, ``CIO_BASE_URL`` from the environment (checked the same
        way; it replaces the region's URL even with ``region=``), else the
        region's URL.
    rate_limit : RateLimit or (int, float), optional
        Requests allowed per window, retries included. Default 3,000 per 3 s.
    retry : urllib3.util.Retry or int, optional
        Retry policy, or the number of retries for the default policy (6).
        POST is added to a policy's allowed methods if missing (urllib3 leaves
        it out by default); pass ``retry=0`` for no retries. 4xx answers other
        than 429 are never retried.
    timeout : float or (float, float)
        Connect and read timeout of each socket operation, in seconds.
    attempt_timeout : float, optional
        Deadline of one whole attempt (connect, send, full answer), in
        seconds; it holds against a server that trickles its answer. Default:
        connect plus read timeout (35 s).
    workers : int
        The most requests in flight at once (default 32). With ``adaptive``
        the send starts with 16 and grows the number while the link takes
        more, and cuts it on 429s, timeouts and rising latency (see
        :mod:`pandas_cio.delivery.concurrency`); the rate limit holds throughout.
    adaptive : bool
        Tune the requests in flight to the link (default True); False keeps
        ``workers`` in flight throughout.
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
    strict : bool
        Ask for the service's strict mode (``X-Strict-Mode: 1``): calls it
        cannot use are answered 400 instead of 200-and-dropped. Default True.
    breaker : Breaker or bool
        When a send gives up on a service that looks down (see
        :class:`~pandas_cio.delivery.breaker.Breaker`); True for the defaults, False
        to retry every batch to the end.

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
        attempt_timeout: float | None = None,
        workers: int = DEFAULT_WORKERS,
        gzip: bool = False,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        max_call_bytes: int = MAX_CALL_BYTES,
        ca_bundle: str | None = None,
        proxies: Mapping[str, str] | None = None,
        strict: bool = True,
        breaker: Breaker | bool = True,
        adaptive: bool = True,
    ) -> None:
        settings = ClientSettings(
            api_key=ApiKey.from_env(api_key),
            region=region,
            base_url=base_url,
            rate_limit=rate_limit,  # type: ignore[arg-type]  # normalised by the settings
            retry=retry,  # type: ignore[arg-type]
            timeout=timeout,
            attempt_timeout=attempt_timeout,
            workers=workers,
            gzip=gzip,
            max_batch_bytes=max_batch_bytes,
            max_call_bytes=max_call_bytes,
            ca_bundle=ca_bundle,
            proxies=proxies,  # type: ignore[arg-type]
            strict=strict,
            breaker=breaker,  # type: ignore[arg-type]
            adaptive=adaptive,
        )
        self._open(settings)

    @classmethod
    def from_settings(cls, settings: ClientSettings, key: ApiKey | str | None = None) -> Client:
        """Make a client from settings, with ``key`` (default: theirs, else ``CIO_API_KEY``).

        Parameters
        ----------
        settings : ClientSettings
            The whole description of the client, e.g. another client's
            :attr:`settings` changed with ``dataclasses.replace``, or the
            key-less settings a Spark executor receives.
        key : ApiKey or str, optional
            The key to send with, replacing the settings' own.

        Returns
        -------
        Client
        """
        if key is not None:
            settings = dataclasses.replace(
                settings, api_key=key if isinstance(key, ApiKey) else ApiKey(key)
            )
        if settings.api_key is None:
            settings = dataclasses.replace(settings, api_key=ApiKey.from_env(None))
        client = cls.__new__(cls)
        client._open(settings)
        return client

    def _open(self, settings: ClientSettings) -> None:
        assert settings.api_key is not None and settings.region is not None
        if settings.base_url is None:  # pragma: no cover - resolved with the key
            raise ConfigurationError("the settings have no base_url")
        self._settings = settings
        self._key: ApiKey = settings.api_key
        self._adapter = CioAdapter(
            make_limiter(settings.rate_limit), settings.retry, pool_maxsize=settings.workers
        )
        self._session = requests.Session()
        self._session.mount("https://", self._adapter)
        self._session.mount("http://", self._adapter)
        # No settings from the environment: a ~/.netrc entry would replace the
        # Authorization header. Proxies and a CA bundle are explicit instead.
        self._session.trust_env = False
        if settings.ca_bundle is not None:
            self._session.verify = settings.ca_bundle  # still verified, against this CA
        if settings.proxies:
            self._session.proxies.update(dict(settings.proxies))
        headers = {
            "Authorization": self._key.authorization,
            "Content-Type": "application/json",
            "User-Agent": f"pandas-cio/{__version__} requests/{requests.__version__}",
        }
        if settings.strict:
            headers["X-Strict-Mode"] = "1"
        self._session.headers.update(headers)
        self._closed = False

    @property
    def settings(self) -> ClientSettings:
        """Everything this client was made with (copy it with ``dataclasses.replace``)."""
        return self._settings

    @property
    def region(self) -> str:
        """``"us"`` or ``"eu"``."""
        assert self._settings.region is not None
        return self._settings.region

    @property
    def base_url(self) -> str:
        """The endpoint, without a trailing slash."""
        assert self._settings.base_url is not None
        return self._settings.base_url

    @property
    def rate_limit(self) -> RateLimit:
        """Requests allowed per window, retries included."""
        return self._settings.rate_limit

    @property
    def retry(self) -> Retry:
        """The retry policy of each request."""
        return self._settings.retry

    @property
    def timeout(self) -> float | tuple[float, float]:
        """Connect and read timeout, as given."""
        return self._settings.timeout

    @property
    def workers(self) -> int:
        """The most requests in flight at once."""
        return self._settings.workers

    @property
    def gzip(self) -> bool:
        """Whether bodies are compressed."""
        return self._settings.gzip

    @property
    def max_batch_bytes(self) -> int:
        """Largest request body."""
        return self._settings.max_batch_bytes

    @property
    def max_call_bytes(self) -> int:
        """Largest single call."""
        return self._settings.max_call_bytes

    def __repr__(self) -> str:
        return (
            f"Client(region={self.region!r}, base_url={self.base_url!r}, "
            f"rate_limit={self.rate_limit.requests}/{self.rate_limit.seconds:g}s, "
            f"workers={self.workers}, api_key={self._key!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError(
            "a Client holds open connections and is not picklable; "
            "pass client.settings (a ClientSettings) instead"
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

    def _deliver(
        self,
        path: str,
        body: bytes,
        stop: threading.Event | None,
        observer: AttemptObserver | None = None,
        retry: Retry | None = None,
    ) -> Delivery:
        if self._closed:
            raise ConfigurationError("this client is closed")
        return self._adapter.deliver(
            self._session,
            self._prepare(path, body),
            self._settings.timeouts,
            stop,
            deadline=self._settings.deadline,
            redactor=Redactor(self._key.reveal(), body),
            observer=observer,
            retry=retry,
        )

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
        return self._deliver(path, body, stop)

    def send_batches(
        self,
        batches: Iterable[Batch],
        stop: threading.Event | None = None,
        settled: Callable[[Batch, Delivery], None] | None = None,
    ) -> Generator[tuple[Batch, Delivery], None, None]:
        """Send batches concurrently; yield each with its outcome as it completes.

        At most twice the tuned in-flight limit (so at most ``2 * workers``)
        batches are pulled from ``batches`` ahead of their delivery, so a
        lazily encoded frame streams through in bounded memory. Once ``stop``
        is set (by the caller, or because the generator is closed early or
        the consumer raised, such as KeyboardInterrupt), no
        batch is started; requests in flight get half a second to finish,
        then their connections are cut, and workers still busy after that are
        abandoned: the generator ends within about a second. Requests that
        finished but were never yielded go to ``settled``; batches whose
        answer never came are not confirmed.

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

        Raises
        ------
        CircuitOpen
            The circuit breaker gave up on the service (see
            :mod:`pandas_cio.delivery.breaker`); every request made was yielded first.
        """
        return _Send(self, batches, stop or threading.Event(), settled).run()
