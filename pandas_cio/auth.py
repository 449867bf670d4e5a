"""API keys, regions and base URLs.

Keys that start with ``pk_us_``, ``sk_us_``, ``pk_eu_`` or ``sk_eu_`` are sent
as ``Authorization: Bearer`` and name their region; any other key is a legacy
key, sent as HTTP Basic with the key as user name and an empty password. The
key itself lives only inside :class:`ApiKey`, whose repr and str hide it.
"""

from __future__ import annotations

import base64
import ipaddress
import os
from typing import Literal
from urllib.parse import urlsplit

from .errors import ConfigurationError

__all__ = ["REGION_URLS", "ApiKey", "Region", "check_base_url", "resolve_region"]

Region = Literal["us", "eu"]
REGION_URLS: dict[str, str] = {
    "us": "https://cdp.customer.io/v1",
    "eu": "https://cdp-eu.customer.io/v1",
}
_PREFIX_REGION = {"pk_us_": "us", "sk_us_": "us", "pk_eu_": "eu", "sk_eu_": "eu"}


class ApiKey:
    """An API key that never shows itself in a repr, str, log or traceback.

    Parameters
    ----------
    secret : str
        The key.
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        if not isinstance(secret, str) or not secret.strip():
            raise ConfigurationError("the API key is empty")
        self._secret = secret.strip()

    @classmethod
    def from_env(cls, key: str | None, variable: str = "CIO_API_KEY") -> ApiKey:
        """Return the given key, or the one in the environment variable."""
        if key is None:
            key = os.environ.get(variable)
            if not key:
                raise ConfigurationError(
                    f"no API key: pass api_key= or set the {variable} environment variable"
                )
        return cls(key)

    @property
    def region(self) -> str | None:
        """The region a prefixed key names, or None for a legacy key."""
        return next((r for p, r in _PREFIX_REGION.items() if self._secret.startswith(p)), None)

    @property
    def authorization(self) -> str:
        """The value of the Authorization header for this key."""
        if self.region is not None:
            return f"Bearer {self._secret}"
        token = base64.b64encode(f"{self._secret}:".encode()).decode()
        return f"Basic {token}"

    def reveal(self) -> str:
        """Return the key itself (for passing on to another process only)."""
        return self._secret

    def __repr__(self) -> str:
        kind = "legacy" if self.region is None else self._secret[:6].rstrip("_")
        return f"ApiKey(<{kind} key hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[type[ApiKey], tuple[str]]:
        # Pickling (Spark broadcasts) must still work; the secret never shows in text.
        return (ApiKey, (self._secret,))


def resolve_region(region: str | None, key: ApiKey) -> str:
    """Decide the region from the argument, the key's prefix or ``CIO_REGION``."""
    chosen = region or key.region or os.environ.get("CIO_REGION") or "us"
    chosen = chosen.lower()
    if chosen not in REGION_URLS:
        raise ConfigurationError(f"region must be 'us' or 'eu', not {chosen!r}")
    if key.region is not None and key.region != chosen:
        raise ConfigurationError(
            f"the API key belongs to region {key.region!r} but region {chosen!r} was asked for"
        )
    return chosen


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Refuse base URLs that would send the key in clear text.

    Plain ``http://`` is allowed only for loopback hosts (the local fake
    service); everything else must be ``https://``.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http" and _is_loopback(host):
        return url.rstrip("/")
    raise ConfigurationError(
        f"refusing base_url {parts.scheme}://{host}: use https:// (plain http only for loopback)"
    )
