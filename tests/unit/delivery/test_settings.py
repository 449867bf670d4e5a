"""ClientSettings: the one description of a client, validated once, copied with replace."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import pandas_cio  # noqa: F401  # registers df.cio
from pandas_cio import Client, ConfigurationError, RateLimit
from pandas_cio.delivery.breaker import DEFAULT_BREAKER, Breaker
from pandas_cio.delivery.settings import ClientSettings
from pandas_cio.testing import FakeCio

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
    with Client.from_settings(keyless, KEY) as client:
        assert client.api_key.reveal() == KEY


def test_settings_without_a_key_take_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """from_settings with no key reads CIO_API_KEY, as Client() does."""
    monkeypatch.setenv("CIO_API_KEY", "legacy-env-key")
    with Client.from_settings(ClientSettings(workers=2)) as client:
        assert client.api_key.reveal() == "legacy-env-key" and client.workers == 2


# CIO_BASE_URL: the environment's base URL, checked as base_url= is.

HOSTILE_BASE_URLS = [
    "http://evil.example\\@127.0.0.1/v1",  # a backslash: parsers disagree about the host
    "https://user:hunter2@cdp.customer.io/v1",  # user info
    "http://cdp.customer.io/v1",  # the key in clear text to a host that is not loopback
    "https://cdp.customer.io/v1?next=evil.example",  # a query
    "ftp://127.0.0.1/v1",  # not http(s)
]


def test_cio_base_url_points_a_client_without_base_url_at_it(
    monkeypatch: pytest.MonkeyPatch, cio_fake: FakeCio
) -> None:
    """Client() and a send with no client= go to CIO_BASE_URL, so a script reaches the fake."""
    monkeypatch.setenv("CIO_API_KEY", cio_fake.api_key)
    monkeypatch.setenv("CIO_BASE_URL", cio_fake.url + "/")
    with Client() as client:
        assert client.base_url == cio_fake.url
    people = pd.DataFrame({"id": ["u1", "u2"], "plan": ["pro", "free"]})
    result = people.cio.identify(user_id="id")
    assert (result["status"] == "sent").all()
    assert sorted(call["userId"] for call in cio_fake.calls) == ["u1", "u2"]


def test_an_explicit_base_url_wins_over_cio_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """base_url= is used as given, and a bad CIO_BASE_URL beside it is not even read."""
    monkeypatch.setenv("CIO_BASE_URL", "http://cdp.customer.io/v1")
    with Client(KEY, base_url="https://proxy.example/v1") as client:
        assert client.base_url == "https://proxy.example/v1"


def test_cio_base_url_replaces_the_url_of_any_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """region=, the key's prefix and CIO_REGION choose the region; CIO_BASE_URL the endpoint."""
    monkeypatch.setenv("CIO_BASE_URL", "https://proxy.example/v1")
    monkeypatch.setenv("CIO_REGION", "eu")
    with Client(KEY, region="eu") as client:
        assert (client.region, client.base_url) == ("eu", "https://proxy.example/v1")
    with Client("legacy-key") as client:
        assert (client.region, client.base_url) == ("eu", "https://proxy.example/v1")
    with pytest.raises(ConfigurationError, match="region 'eu'"):
        Client(KEY, region="us")  # the region is still checked against the key


def test_an_empty_cio_base_url_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """CIO_BASE_URL= (empty, or blank) leaves the region's URL."""
    for value in ("", "  "):
        monkeypatch.setenv("CIO_BASE_URL", value)
        with Client(KEY) as client:
            assert client.base_url == "https://cdp-eu.customer.io/v1"


@pytest.mark.parametrize("url", HOSTILE_BASE_URLS)
def test_a_hostile_cio_base_url_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """Every URL base_url= refuses is refused from CIO_BASE_URL too, by that name, unrepeated."""
    with pytest.raises(ConfigurationError, match="refusing base_url="):
        Client(KEY, base_url=url)
    monkeypatch.setenv("CIO_BASE_URL", url)
    for make in (lambda: Client(KEY), lambda: Client.from_settings(ClientSettings(workers=2), KEY)):
        with pytest.raises(ConfigurationError, match="refusing CIO_BASE_URL=") as caught:
            make()
        assert "base_url=" not in str(caught.value) and "hunter2" not in str(caught.value)


def test_a_hostile_cio_base_url_stops_a_send_before_any_request(
    monkeypatch: pytest.MonkeyPatch, cio_fake: FakeCio
) -> None:
    """A send without client= and a refused CIO_BASE_URL raises before connecting anywhere."""
    monkeypatch.setenv("CIO_API_KEY", cio_fake.api_key)
    monkeypatch.setenv("CIO_BASE_URL", f"http://evil.example\\@{cio_fake.url[len('http://') :]}")
    with pytest.raises(ConfigurationError, match="CIO_BASE_URL"):
        pd.DataFrame({"id": ["u1"]}).cio.identify(user_id="id")
    assert cio_fake.calls == []


def test_settings_resolved_with_cio_base_url_keep_it_without_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The driver resolves CIO_BASE_URL; its keyless settings carry it to executors without it."""
    monkeypatch.setenv("CIO_BASE_URL", "https://proxy.example/v1")
    with Client(KEY) as client:
        shipped = pickle.dumps(ClientSettings.from_client(client))
    monkeypatch.delenv("CIO_BASE_URL")
    with Client.from_settings(pickle.loads(shipped), KEY) as executor_client:
        assert executor_client.base_url == "https://proxy.example/v1"


def test_the_cli_without_base_url_sends_to_cio_base_url(
    monkeypatch: pytest.MonkeyPatch,
    cio_fake: FakeCio,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pandas-cio identify with only the two environment lines set reaches the fake."""
    from pandas_cio.cli import main as cli

    people = tmp_path / "people.csv"
    people.write_text("id,plan\nu1,pro\nu2,free\n", encoding="utf-8")
    monkeypatch.setenv("CIO_API_KEY", cio_fake.api_key)
    monkeypatch.setenv("CIO_BASE_URL", cio_fake.url)
    assert cli.main(["identify", str(people), "--user-id", "id"]) == 0
    assert sorted(call["userId"] for call in cio_fake.calls) == ["u1", "u2"]
    monkeypatch.setenv("CIO_BASE_URL", "http://cdp.customer.io/v1")
    assert cli.main(["identify", str(people), "--user-id", "id"]) == 2
    assert "CIO_BASE_URL" in capsys.readouterr().err


URL_PIECES = st.sampled_from(
    ["http://", "https://", "127.0.0.1", "localhost", "evil.example", "cdp.customer.io",
     "@", "\\", ":", ":8080", "/", "/v1", "?", "#", "%40", " ", "\t", "[::1]", "user"]
)  # fmt: skip


def _outcome(make: Any) -> str:
    """The base URL settings resolve to, or the refusal with its source's name taken out."""
    try:
        return f"url {make().base_url}"
    except ConfigurationError as refused:
        return "refused " + str(refused).replace("CIO_BASE_URL=", "NAME=").replace(
            "base_url=", "NAME="
        )


@given(st.lists(URL_PIECES, min_size=1, max_size=7).map("".join))
@example("http://evil.example\\@127.0.0.1/v1")
@example("http://127.0.0.1:8080/v1")
def test_cio_base_url_is_refused_or_kept_exactly_as_base_url_is(url: str) -> None:
    """For any value, CIO_BASE_URL gives what base_url= gives: the same URL or the same refusal."""
    assume(url == url.strip())  # the variable's surrounding blanks are dropped, as a shell does
    explicit = _outcome(lambda: ClientSettings(api_key=KEY, base_url=url))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIO_BASE_URL", url)
        from_env = _outcome(lambda: ClientSettings(api_key=KEY))
    assert from_env == explicit
