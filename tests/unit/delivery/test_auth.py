"""Tests of keys, regions and base URLs."""

from __future__ import annotations

import base64

import pytest

from pandas_cio import Client
from pandas_cio.delivery.auth import ApiKey, check_base_url, resolve_region
from pandas_cio.errors import ConfigurationError


@pytest.mark.parametrize(
    ("key", "region"),
    [("pk_us_abc", "us"), ("sk_us_abc", "us"), ("pk_eu_abc", "eu"), ("sk_eu_abc", "eu")],
)
def test_prefixed_keys_are_bearer_and_name_their_region(key: str, region: str) -> None:
    """Prefixed keys go as Bearer and choose the region."""
    api_key = ApiKey(key)
    assert api_key.authorization == f"Bearer {key}"
    assert resolve_region(None, api_key) == region


def test_legacy_keys_are_basic_with_empty_password() -> None:
    """A legacy key is the Basic user name with an empty password."""
    header = ApiKey("legacy123").authorization
    assert header.startswith("Basic ")
    assert base64.b64decode(header[6:]) == b"legacy123:"


def test_key_is_hidden_in_repr_and_str() -> None:
    """Neither repr nor str of a key or a client shows the secret."""
    key = ApiKey("sk_eu_supersecret")
    assert "supersecret" not in repr(key) and "supersecret" not in str(key)
    with Client("sk_eu_supersecret") as client:
        assert "supersecret" not in repr(client)
        assert client.base_url == "https://cdp-eu.customer.io/v1"


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """CIO_API_KEY and CIO_REGION are read when no arguments are given."""
    monkeypatch.setenv("CIO_API_KEY", "legacy-env-key")
    monkeypatch.setenv("CIO_REGION", "eu")
    with Client() as client:
        assert client.region == "eu"
        assert client.api_key.reveal() == "legacy-env-key"


def test_missing_key_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a key the error names the environment variable."""
    monkeypatch.delenv("CIO_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="CIO_API_KEY"):
        Client()


def test_region_conflicting_with_key_prefix() -> None:
    """An EU key with region='us' is a mistake worth stopping."""
    with pytest.raises(ConfigurationError, match="belongs to region 'eu'"):
        resolve_region("us", ApiKey("pk_eu_x"))


@pytest.mark.parametrize(
    "url", ["http://example.com/v1", "ftp://127.0.0.1/v1", "http://10.0.0.5/v1", "nohost"]
)
def test_unsafe_base_urls_are_refused(url: str) -> None:
    """Plain http is allowed only for loopback; other schemes never."""
    with pytest.raises(ConfigurationError):
        check_base_url(url)


@pytest.mark.parametrize(
    "url", ["https://cdp.customer.io/v1/", "http://127.0.0.1:8080/v1", "http://localhost/v1"]
)
def test_safe_base_urls_are_kept(url: str) -> None:
    """https anywhere and http on loopback are accepted (trailing slash removed)."""
    assert check_base_url(url) == url.rstrip("/")


def test_client_is_not_picklable() -> None:
    """A client holds connections; pickling it is refused with a hint."""
    import pickle

    with Client("k") as client, pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(client)


def test_api_key_pickles_without_showing_itself() -> None:
    """ApiKey survives pickling (for Spark) and still hides the secret."""
    import pickle

    key = pickle.loads(pickle.dumps(ApiKey("pk_us_s3cr3t")))
    assert key.reveal() == "pk_us_s3cr3t"
    assert "s3cr3t" not in repr(key)


def test_user_retry_policy_gets_post() -> None:
    """A urllib3 Retry without POST would silently never retry; POST is added."""
    from urllib3.util.retry import Retry

    with Client("k", retry=Retry(total=3)) as client:
        assert client.retry.allowed_methods is not None
        assert "POST" in client.retry.allowed_methods
        assert client.retry.total == 3


def test_ca_bundle_and_proxies_are_explicit() -> None:
    """A CA bundle keeps verification on against that CA; proxies come only from arguments."""
    with Client("k", ca_bundle="/etc/ssl/certs/ca.pem", proxies={"https": "http://p:3128"}) as c:
        assert c._session.verify == "/etc/ssl/certs/ca.pem"
        assert c._session.proxies == {"https": "http://p:3128"}
        assert c._session.trust_env is False
    with Client("k") as plain:
        assert plain._session.verify is True


_FIX_TEXT = "give it as https://host[:port]/path, like https://cdp.customer.io/v1"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://cdp.customer.io\\.evil.example/v1",
            "refusing base_url='https://cdp.customer.io\\\\.evil.example/v1': it holds a "
            f"backslash; {_FIX_TEXT}",
        ),
        (
            "https://cdp.customer.io/v1\n",
            "refusing base_url='https://cdp.customer.io/v1\\n': it holds whitespace or a "
            f"control character; {_FIX_TEXT}",
        ),
        (
            "https://bob:hunter2@cdp.customer.io/v1",
            "refusing base_url='https://***@cdp.customer.io/v1' (the part before '@' is hidden "
            f"as ***: it may hold credentials): it holds user info ('@'); {_FIX_TEXT}",
        ),
        (
            "http://evil.example\\@127.0.0.1/v1",
            "refusing base_url='http://***@127.0.0.1/v1' (the part before '@' is hidden as ***: "
            f"it may hold credentials): it holds a backslash; {_FIX_TEXT}",
        ),
        (
            "https://cdp.customer.io/v1?token=s3cret",
            f"refusing base_url='https://cdp.customer.io/v1?***': it holds a query ('?'); "
            f"{_FIX_TEXT}",
        ),
        (
            "http://cdp.customer.io/v1",
            "refusing base_url='http://cdp.customer.io/v1': the API key would travel in clear "
            "text; use https:// (plain http:// is only for loopback hosts, such as the local fake)",
        ),
    ],
    ids=["backslash", "newline", "password", "bypass", "query", "http-remote"],
)
def test_a_refused_base_url_is_shown_escaped_and_without_secrets(url: str, message: str) -> None:
    """The refusal shows what was typed (repr-escaped), never user info or a query's value."""
    with pytest.raises(ConfigurationError) as refused:
        check_base_url(url)
    assert str(refused.value) == message
    assert "hunter2" not in message and "bob" not in message and "s3cret" not in message
    with pytest.raises(ConfigurationError) as from_env:
        check_base_url(url, name="CIO_BASE_URL")
    assert str(from_env.value) == message.replace("base_url=", "CIO_BASE_URL=", 1)
