"""The one description of a client: every option of :class:`~pandas_cio.Client`, validated once.

A :class:`ClientSettings` is frozen and picklable. A client is built from it
(``Client(...)`` makes one from its arguments, ``Client.from_settings(s)``
takes one), ``client.settings`` gives it back, and ``dataclasses.replace``
copies it with changes, validating again. Spark ships it to executors, so an
option added here reaches every executor without any other change: there is
no second list of fields to forget.

The key may be left out (``api_key=None``): such settings say everything but
who sends, and :meth:`Client.from_settings` adds the key when a client is
made. Its repr hides the key, and the user info of proxy URLs.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from urllib3.util.retry import Retry

from ..errors import ConfigurationError
from ..prepare.batching import ENVELOPE_BYTES, MAX_BATCH_BYTES, MAX_CALL_BYTES
from .auth import REGION_URLS, ApiKey, check_base_url, resolve_region
from .breaker import DEFAULT_BREAKER, Breaker
from .transport import DEFAULT_RATE, RateLimit, default_retry

if TYPE_CHECKING:
    from .client import Client

__all__ = [
    "BASE_URL_VARIABLE",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WORKERS",
    "ClientSettings",
    "env_base_url",
]

DEFAULT_TIMEOUT = (5.0, 30.0)
# The most requests in flight; a send tunes the number below it to the link
# (pandas_cio.delivery.concurrency), so the cap is set for a slow link: 32 requests of
# 500 KB at 200 ms carry 80 MB/s, more than two cores encode.
DEFAULT_WORKERS = 32
_PROXY_USERINFO = re.compile(r"//[^/@]*@")
BASE_URL_VARIABLE = "CIO_BASE_URL"
"""The environment variable that points clients without ``base_url=`` elsewhere."""


def env_base_url() -> str | None:
    """The base URL in ``CIO_BASE_URL``, checked as ``base_url=`` is; None when unset or empty.

    It lets scripts, notebooks and examples that make their clients without
    ``base_url=`` be pointed at the local fake or a proxy unchanged.

    Raises
    ------
    ConfigurationError
        The variable holds a URL :func:`~pandas_cio.delivery.auth.check_base_url`
        refuses; the message names ``CIO_BASE_URL``.
    """
    value = os.environ.get(BASE_URL_VARIABLE, "").strip()
    return check_base_url(value, name=BASE_URL_VARIABLE) if value else None


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _timeouts(timeout: Any) -> tuple[float, float]:
    pair = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    if len(pair) != 2 or not all(
        isinstance(t, int | float) and not isinstance(t, bool) and t > 0 for t in pair
    ):
        raise ConfigurationError(
            f"timeout={timeout!r}: give seconds above 0, or a (connect, read) pair of them"
        )
    return float(pair[0]), float(pair[1])


@dataclass(frozen=True, repr=False)
class ClientSettings:
    """Every option of a :class:`~pandas_cio.Client`; see its parameters for each meaning.

    Values are normalised on creation (and by ``dataclasses.replace``): a
    ``(requests, seconds)`` tuple becomes a :class:`~pandas_cio.RateLimit`, an
    int retry count the default policy, a proxies mapping a sorted tuple of
    pairs, ``breaker=True`` the default :class:`~pandas_cio.delivery.breaker.Breaker`;
    with a key, the region and the base URL are resolved. Without
    ``base_url=``, the base URL is ``CIO_BASE_URL`` when that is set (for any
    region, which is still checked against the key), else the region's.

    Examples
    --------
    >>> import dataclasses
    >>> from pandas_cio.delivery.settings import ClientSettings
    >>> s = ClientSettings(api_key="pk_eu_example", workers=4)
    >>> s.region, s.base_url
    ('eu', 'https://cdp-eu.customer.io/v1')
    >>> dataclasses.replace(s, gzip=True).workers
    4
    >>> "pk_eu_example" in repr(s)
    False
    """

    api_key: ApiKey | None = None
    region: str | None = None
    base_url: str | None = None
    rate_limit: RateLimit = DEFAULT_RATE
    retry: Retry = field(default_factory=default_retry)
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT
    attempt_timeout: float | None = None
    workers: int = DEFAULT_WORKERS
    gzip: bool = False
    max_batch_bytes: int = MAX_BATCH_BYTES
    max_call_bytes: int = MAX_CALL_BYTES
    ca_bundle: str | None = None
    proxies: tuple[tuple[str, str], ...] = ()
    strict: bool = True
    breaker: Breaker | None = DEFAULT_BREAKER
    adaptive: bool = True

    def __post_init__(self) -> None:
        self._normalise_identity()
        self._normalise_network()
        self._normalise_sizes()

    def _normalise_identity(self) -> None:
        key: Any = self.api_key
        if isinstance(key, str):
            key = ApiKey(key)
            _set(self, "api_key", key)
        elif key is not None and not isinstance(key, ApiKey):
            raise ConfigurationError("api_key= must be a string (or None for CIO_API_KEY)")
        if key is not None:
            _set(self, "region", resolve_region(self.region, key))
        elif self.region is not None:
            region = str(self.region).lower()
            if region not in REGION_URLS:
                raise ConfigurationError(f"region must be 'us' or 'eu', not {self.region!r}")
            _set(self, "region", region)
        if self.base_url is not None:
            _set(self, "base_url", check_base_url(self.base_url))
        elif self.region is not None:
            # CIO_BASE_URL replaces the region's URL whatever chose the region
            # (region=, the key, CIO_REGION): a script pointed at the fake must
            # not reach the real service because it says region="eu". Only an
            # explicit base_url= wins over it.
            _set(self, "base_url", env_base_url() or REGION_URLS[self.region])

    def _normalise_network(self) -> None:
        rate: Any = self.rate_limit
        if rate is None:
            rate = DEFAULT_RATE
        elif isinstance(rate, tuple):
            rate = RateLimit(*rate)
        elif not isinstance(rate, RateLimit):
            raise ConfigurationError("rate_limit= must be a RateLimit or (requests, seconds)")
        _set(self, "rate_limit", rate)
        retry: Any = self.retry
        if retry is None or (isinstance(retry, int) and not isinstance(retry, bool)):
            if retry is not None and retry < 0:
                raise ConfigurationError(f"retry={retry}: give 0 or more retries")
            retry = default_retry() if retry is None else default_retry(retry)
        elif not isinstance(retry, Retry):
            raise ConfigurationError("retry= must be a number of retries or a urllib3 Retry")
        elif retry.allowed_methods is not None and "POST" not in retry.allowed_methods:
            # urllib3 leaves POST out by default, which would turn every retry
            # off without a word; calls carry messageIds, so POST is safe here.
            retry = retry.new(allowed_methods=frozenset(retry.allowed_methods) | {"POST"})
        _set(self, "retry", retry)
        _timeouts(self.timeout)
        if self.attempt_timeout is not None and not (
            isinstance(self.attempt_timeout, int | float) and self.attempt_timeout > 0
        ):
            raise ConfigurationError(
                f"attempt_timeout={self.attempt_timeout!r}: give seconds above 0, or None "
                "for the connect plus read timeout"
            )
        proxies: Any = self.proxies
        if proxies is None:
            proxies = ()
        elif isinstance(proxies, Mapping):
            proxies = tuple(sorted(proxies.items()))
        if not all(
            isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            for pair in proxies
        ):
            raise ConfigurationError('proxies= must map schemes to URLs: {"https": "http://..."}')
        _set(self, "proxies", tuple(proxies))
        breaker: Any = self.breaker
        if breaker is True:
            breaker = DEFAULT_BREAKER
        elif breaker is False:
            breaker = None
        elif breaker is not None and not isinstance(breaker, Breaker):
            raise ConfigurationError("breaker= must be a Breaker, True (default) or False (off)")
        _set(self, "breaker", breaker)
        if self.ca_bundle is not None and not isinstance(self.ca_bundle, str):
            _set(self, "ca_bundle", str(self.ca_bundle))  # a Path is fine

    def _normalise_sizes(self) -> None:
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ConfigurationError("workers must be at least 1")
        if not ENVELOPE_BYTES < self.max_batch_bytes <= MAX_BATCH_BYTES:
            raise ConfigurationError(
                f"max_batch_bytes must be in {ENVELOPE_BYTES + 1}..{MAX_BATCH_BYTES}"
            )
        if not 0 < self.max_call_bytes <= MAX_CALL_BYTES:
            raise ConfigurationError(f"max_call_bytes must be in 1..{MAX_CALL_BYTES}")
        # A call must also fit in a body with its envelope; a larger one would
        # make the packer raise mid-send instead of marking the row too_large.
        _set(
            self, "max_call_bytes", min(self.max_call_bytes, self.max_batch_bytes - ENVELOPE_BYTES)
        )

    @property
    def timeouts(self) -> tuple[float, float]:
        """The (connect, read) timeouts of each socket operation."""
        return _timeouts(self.timeout)

    @property
    def deadline(self) -> float:
        """Seconds one attempt may take in all: ``attempt_timeout``, else connect plus read."""
        if self.attempt_timeout is not None:
            return float(self.attempt_timeout)
        return sum(self.timeouts)

    def without_key(self) -> ClientSettings:
        """These settings with the key left out (safe to pickle into a plan or a log)."""
        return dataclasses.replace(self, api_key=None)

    @classmethod
    def from_client(cls, client: Client) -> ClientSettings:
        """A client's settings without its key (as shipped to Spark executors)."""
        return client.settings.without_key()

    def __repr__(self) -> str:
        shown = []
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.name == "proxies":
                value = tuple((s, _PROXY_USERINFO.sub("//<hidden>@", u)) for s, u in value)
            shown.append(f"{item.name}={value!r}")
        return f"ClientSettings({', '.join(shown)})"
