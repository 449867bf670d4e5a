"""ClientSettings: the one description of a client, validated once, copied with replace."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from pandas_cio import Client, ConfigurationError, RateLimit
from pandas_cio.breaker import DEFAULT_BREAKER, Breaker
from pandas_cio.settings import ClientSettings

KEY = "pk_eu_settings-secret-4242"
PROXIES = {"https": "http://proxy-user:proxy-pass@127.0.0.1:3128"}


def test_every_constructor_option_is_a_settings_field() -> None:
    """Client() takes exactly the settings' fields: no option can be left out of a copy again."""
    options = [
        name for name, p in inspect.signature(Client.__init__).parameters.items() if name != "self"
    ]
    fields = [f.name for f in dataclasses.fields(ClientSettings)]
    assert options == fields


def test_a_client_made_from_its_settings_is_configured_alike(tmp_path: object) -> None:
    """from_settings(client.settings) keeps ca_bundle, proxies, strict and the rest."""
    with Client(
        KEY, ca_bundle="/etc/ssl/corp.pem", proxies=PROXIES, gzip=True, strict=False, workers=3
    ) as client:
        settings = client.settings
        with Client.from_settings(settings) as copy:
            assert copy.settings == settings
            assert copy._session.verify == "/etc/ssl/corp.pem"
            assert copy._session.proxies == PROXIES
            assert "X-Strict-Mode" not in copy._session.headers
            assert (copy.region, copy.workers, copy.gzip) == ("eu", 3, True)


def test_settings_validate_again_when_replaced() -> None:
    """dataclasses.replace re-checks: a bad value fails there, naming the option."""
    settings = ClientSettings(api_key=KEY)
    with pytest.raises(ConfigurationError, match="workers"):
        dataclasses.replace(settings, workers=0)
    with pytest.raises(ConfigurationError, match="refusing base_url"):
        dataclasses.replace(settings, base_url="http://evil.example\\@127.0.0.1/v1")
    with pytest.raises(ConfigurationError, match="belongs to region 'eu'"):
        dataclasses.replace(settings, region="us")
    assert dataclasses.replace(settings, rate_limit=(10, 1.0)).rate_limit == RateLimit(10, 1.0)


def test_settings_normalise_their_values() -> None:
    """Tuples, counts, mappings and booleans become the library's own types."""
    settings = ClientSettings(
        api_key=KEY, retry=2, proxies={"https": "http://p:1", "http": "http://p:2"}, breaker=True
    )
    assert settings.retry.total == 2 and "POST" in settings.retry.allowed_methods
    assert settings.proxies == (("http", "http://p:2"), ("https", "http://p:1"))
    assert settings.breaker is DEFAULT_BREAKER
    assert ClientSettings(breaker=False).breaker is None
    assert ClientSettings(breaker=Breaker(failed_batches=3)).breaker == Breaker(3)
    assert settings.base_url == "https://cdp-eu.customer.io/v1"


def test_settings_hide_the_key_and_proxy_passwords_but_pickle_whole() -> None:
    """repr shows neither the key nor a proxy's password; pickling keeps both."""
    settings = ClientSettings(api_key=KEY, proxies=PROXIES)
    assert KEY not in repr(settings) and "proxy-pass" not in repr(settings)
    loaded = pickle.loads(pickle.dumps(settings))
    assert loaded.api_key is not None and loaded.api_key.reveal() == KEY
    assert dict(loaded.proxies) == PROXIES
    keyless = settings.without_key()
    assert keyless.api_key is None and KEY.encode() not in pickle.dumps(keyless)
    with keyless.connect(KEY) as client:
        assert client.api_key.reveal() == KEY


def test_settings_without_a_key_take_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """from_settings with no key reads CIO_API_KEY, as Client() does."""
    monkeypatch.setenv("CIO_API_KEY", "legacy-env-key")
    with Client.from_settings(ClientSettings(workers=2)) as client:
        assert client.api_key.reveal() == "legacy-env-key" and client.workers == 2
