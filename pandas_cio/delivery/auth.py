"""API keys, regions and base URLs.

Keys that start with ``pk_us_``, ``sk_us_``, ``pk_eu_`` or ``sk_eu_`` (in any
case) are sent as given as ``Authorization: Bearer`` and name their region; any
other key is a legacy key, sent as HTTP Basic with the key as user name and an empty password. The
key itself lives only inside :class:`ApiKey`, whose repr and str hide it.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from typing import Literal
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from ..errors import ConfigurationError

__all__ = ["REGION_URLS", "ApiKey", "Region", "check_base_url", "resolve_region"]

Region = Literal["us", "eu"]
REGION_URLS: dict[str, str] = {
    "us": "https://cdp.customer.io/v1",
    "eu": "https://cdp-eu.customer.io/v1",
}
# Keys are tokens of printable ASCII: anything else (a newline from a
# copied file, a non-breaking space) would make every request fail inside
# http.client with the header, key included, in the exception's text.
_KEY_CHARACTER = re.compile(r"[\x21-\x7e]")
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
        secret = secret.strip()
        bad = next((i for i, ch in enumerate(secret) if not _KEY_CHARACTER.match(ch)), None)
        if bad is not None:
            # Never the key itself, not even the offending character: only where it is.
            raise ConfigurationError(
                f"the API key holds a character that cannot go in an HTTP header (a control "
                f"character such as a newline, a space or a non-ASCII character) at position "
                f"{bad + 1} of {len(secret)}; copy the key again from Customer.io, without it"
            )
        self._secret = secret

    @classmethod
    def from_env(cls, key: str | None, variable: str = "CIO_API_KEY") -> ApiKey:
        """Return the given key, or the one in the environment variable."""
        if key is None:
            key = os.environ.get(variable)
            if not key:
                raise ConfigurationError(
                    f"no API key: send with client=pandas_cio.Client(key), set the "
                    f"{variable} environment variable, or pass dry_run=True to check "
                    "the rows without sending"
                )
        return cls(key)

    @property
    def region(self) -> str | None:
        """The region a prefixed key names, or None for a legacy key."""
        # Case-insensitive: a key copied as SK_EU_... still names the EU region.
        folded = self._secret[:6].lower()
        return _PREFIX_REGION.get(folded)

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
        kind = "legacy" if self.region is None else self._secret[:6].rstrip("_").lower()
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
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# What a base URL may hold: a DNS name or an IP address (IPv6 in brackets), an
# optional port, and a plain path. No user info, query, fragment, backslash,
# percent-escape or whitespace: those are where parsers disagree about the
# host (urlsplit and urllib3 read "http://a\\@127.0.0.1/" differently), and
# a base URL never needs them.
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
_PATH = re.compile(r"(?:/[A-Za-z0-9._~-]*)*")
_FIX = "give it as https://host[:port]/path, like https://cdp.customer.io/v1"


def _shown(url: object) -> str:
    """The URL as the user typed it, safe to show: secrets masked, odd characters escaped.

    Everything between the scheme and the last ``@`` is user info (possibly
    ``user:password``) and becomes ``***``; a query or fragment, where tokens
    travel, keeps only its ``?``/``#``. ``repr`` escapes control characters,
    whitespace and backslashes, so the bad character is visible.
    """
    if not isinstance(url, str):
        return f"<{type(url).__name__}>"
    start = url.find("://") + 3 if "://" in url else 0
    at = url.rfind("@")
    hidden = ""
    if at >= start:
        url = f"{url[:start]}***{url[at:]}"
        hidden = " (the part before '@' is hidden as ***: it may hold credentials)"
    for mark in "?#":
        cut = url.find(mark, start)
        if cut >= 0 and url[cut + 1 :]:
            url = f"{url[: cut + 1]}***"
    return repr(url) + hidden


def _refuse(problem: str, name: str, url: object) -> ConfigurationError:
    return ConfigurationError(f"refusing {name}={_shown(url)}: {problem}; {_FIX}")


def check_base_url(url: str, *, name: str = "base_url") -> str:
    """Refuse base URLs that could send the key somewhere else or in clear text.

    The URL is read with the parser the transport itself uses
    (:func:`urllib3.util.parse_url`), and must be a plain
    ``https://host[:port]/path``; plain ``http://`` is allowed only for
    loopback hosts (the local fake service). The error shows the URL with
    its user info (which could hold a password) and any query or fragment
    masked, and control characters and whitespace escaped.

    Parameters
    ----------
    url : str
        The base URL as given.
    name : str
        Where it was given, for the error: ``"base_url"`` (the argument) or
        ``"CIO_BASE_URL"`` (the environment variable).

    Returns
    -------
    str
        The URL without a trailing slash.

    Raises
    ------
    ConfigurationError
        The URL is not a plain http(s) URL, holds user info, a query, a
        fragment, a backslash, whitespace or control characters, or asks for
        plain http to a host that is not loopback.
    """
    if not isinstance(url, str) or not url:
        raise _refuse("it must be a non-empty string", name, url)
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise _refuse("it holds whitespace or a control character", name, url)
    for char, what in (
        ("\\", "a backslash"),
        ("@", "user info ('@')"),
        ("?", "a query ('?')"),
        ("#", "a fragment ('#')"),
        ("%", "a percent-escape"),
    ):
        if char in url:
            raise _refuse(f"it holds {what}", name, url)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in ("https", "http"):
        raise _refuse(
            "the scheme must be https:// (plain http:// only for loopback), "
            f"not {scheme or 'missing'}",
            name,
            url,
        )
    try:
        parts = parse_url(url)
    except LocationParseError:
        raise _refuse("it cannot be parsed", name, url) from None
    host = parts.host or ""
    if (
        not _HOST.fullmatch(host)
        or parts.auth
        or parts.query is not None
        or parts.fragment is not None
    ):
        raise _refuse("the host is not a plain name or address", name, url)
    if parts.port is not None and not 0 < parts.port < 65536:
        raise _refuse("the port must be in 1..65535", name, url)
    if not _PATH.fullmatch(parts.path or ""):
        raise _refuse("the path may hold only letters, digits and . _ ~ - /", name, url)
    # Belt and braces: the standard library must agree on the host.
    if (urlsplit(url).hostname or "") != host.lower().strip("[]") and (
        urlsplit(url).hostname or ""
    ) != host.lower():
        raise _refuse("parsers disagree about its host", name, url)
    if scheme == "http" and not _is_loopback(host):
        raise ConfigurationError(
            f"refusing {name}={_shown(url)}: the API key would travel in clear text; "
            "use https:// (plain http:// is only for loopback hosts, such as the local fake)"
        )
    return url.rstrip("/")
