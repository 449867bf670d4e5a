"""Security: the key never leaks, plain HTTP is refused, TLS is verified, logs hold no bodies.

The key scan drives the library through every path that produces text a user
or a log collector could see (reprs, successful and failing sends, refused
keys, unreachable services, interrupts, configuration errors) with logging at
DEBUG for every logger and every warning recorded, then searches all of it
for the key, raw and in its HTTP Basic encoding.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import logging
import re
import socket
import ssl
import threading
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import responses
from frame_cases import fast_retry
from hypothesis import example, given
from hypothesis import strategies as st
from loopback import loopback_certificate

import pandas_cio
from pandas_cio import ApiKey, Client, ConfigurationError
from pandas_cio.delivery.auth import check_base_url
from pandas_cio.outcome.progress import Progress
from pandas_cio.testing import FakeCio, messy

PACKAGE = Path(pandas_cio.__file__).resolve().parent
BEARER_KEY = "sk_us_Zq7SECRETbearerXk2"
LEGACY_KEY = "legacySECRETkey9f3"
# Personal data in a trait: it must never reach a log record.
TRAIT_VALUE = "jane.doe.PRIVATE@example.com"
USER_ID = "user-PRIVATE-4711"


def secret_forms(key: str) -> list[str]:
    """The key as it could appear in text: raw, and base64 in a Basic header."""
    basic = base64.b64encode(f"{key}:".encode()).decode()
    return [key, basic, basic.rstrip("=")]


def assert_clean(text: str, key: str, where: str) -> None:
    """No form of the key occurs in ``text``."""
    for form in secret_forms(key):
        assert form not in text, f"the API key leaked into {where}"


def people(n: int = 300) -> pd.DataFrame:
    """People with an e-mail trait (personal data)."""
    return pd.DataFrame(
        {
            "id": [f"{USER_ID}-{i}" for i in range(n)],
            "email": [TRAIT_VALUE] * n,
            "plan": ["pro"] * n,
        }
    )


def unused_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every record at DEBUG, pandas_cio and urllib3 included."""
    for name in ("", "pandas_cio", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def record_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Everything a handler could write for each record: message, args, traceback."""
    formatter = logging.Formatter()
    texts = []
    for record in caplog.records:
        parts = [record.getMessage(), repr(record.args)]
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
        texts.append("\n".join(parts))
    return texts


def exception_texts(exc: BaseException) -> str:
    """str, repr and the full traceback of an exception and its causes."""
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


def frame_text(result: pd.DataFrame) -> str:
    """Every cell, the index and the attrs of a result frame."""
    return "\n".join(
        [result.to_csv(), repr(result.to_dict()), repr(result.attrs), result.to_string()]
    )


@contextlib.contextmanager
def echo_server() -> Iterator[str]:
    """A loopback server answering 400 with the whole request echoed in a JSON error."""

    class Echo(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            echoed = f"{self.requestline} {dict(self.headers)!r} {body.decode('utf-8', 'replace')}"
            answer = json.dumps({"error": echoed}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


# The key


@pytest.mark.parametrize("key", [BEARER_KEY, LEGACY_KEY], ids=["bearer", "legacy-basic"])
def test_api_key_never_leaks(
    key: str,
    everything_logged: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reprs, DEBUG logs, warnings, exceptions, results and recorded requests never show the key."""
    texts: list[tuple[str, str]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with FakeCio(api_key=key) as fake:
            fake.inject(*messy.flaky(rate=0.3))
            with Client(
                key, base_url=fake.url, retry=fast_retry(8), max_batch_bytes=3_000
            ) as client:
                texts += [
                    ("repr(client)", repr(client)),
                    ("str(client)", str(client)),
                    ("repr(api_key)", repr(client.api_key)),
                    ("str(api_key)", str(client.api_key)),
                    ("repr(adapter)", repr(client._adapter)),
                    ("repr(fake)", repr(fake)),
                    ("repr(ApiKey)", repr(ApiKey(key))),
                ]
                # A send through faults and retries, and a dry run.
                result = people().cio.identify(user_id="id", client=client)
                texts.append(("result frame", frame_text(result)))
                dry = people(5).cio.identify(user_id="id", dry_run=True)
                texts.append(("dry-run result", frame_text(dry)))

                # An interrupted send.
                fake.clear_faults()

                def interrupt(self: Progress, rows: int) -> None:
                    raise KeyboardInterrupt

                with monkeypatch.context() as patch:
                    patch.setattr(Progress, "update", interrupt)
                    with pytest.raises(pandas_cio.InterruptedSendError) as interrupted:
                        people().cio.identify(user_id="id", client=client)
                texts.append(("InterruptedSendError", exception_texts(interrupted.value)))
                texts.append(("interrupted result", frame_text(interrupted.value.result)))
            requests = fake.requests

        # The service refuses the key.
        with FakeCio(api_key="another-key") as other, Client(key, base_url=other.url) as client:
            with pytest.raises(pandas_cio.AuthenticationError) as refused:
                people().cio.identify(user_id="id", client=client)
            texts.append(("AuthenticationError", exception_texts(refused.value)))
            texts.append(("refused result", frame_text(refused.value.result)))
            requests += other.requests

        # Nobody listens.
        down = f"http://127.0.0.1:{unused_port()}/v1"
        with Client(key, base_url=down, retry=fast_retry(1)) as client:
            texts.append(
                ("unreachable", frame_text(people(5).cio.identify(user_id="id", client=client)))
            )

        # A server that echoes the whole request (headers, body) in its error body.
        with echo_server() as echo_url, Client(key, base_url=echo_url, retry=0) as client:
            echoed = people(20).cio.identify(user_id="id", client=client)
            texts.append(("echoed result", frame_text(echoed)))
            texts.append(("echoed report", str(echoed.cio.report())))
            # A 400 is split to single calls in strict mode: each ends rejected, not sent.
            assert (echoed["status"] == "rejected").all()
            assert all(TRAIT_VALUE not in e for e in echoed["error"])

        # Configuration errors raised with the key in hand.
        for options in (
            {"base_url": "http://example.com/v1"},
            {"base_url": "http://evil.example\\@127.0.0.1/v1"},
            {"region": "eu" if key.startswith("sk_us_") else "mars"},
            {"workers": 0},
        ):
            with pytest.raises(ConfigurationError) as bad:
                Client(key, **options)
            texts.append((f"ConfigurationError {options}", exception_texts(bad.value)))

    texts += [(f"log record {i}", t) for i, t in enumerate(record_texts(everything_logged))]
    texts += [(f"warning {w.category.__name__}", str(w.message)) for w in caught]
    captured = capsys.readouterr()
    texts += [("stdout", captured.out), ("stderr", captured.err)]
    for request in requests:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        texts.append((f"request headers {request.path}", repr(headers)))
        texts.append((f"request body {request.path}", request.body.decode("utf-8", "replace")))

    assert len(everything_logged.records) > 0  # DEBUG logging really was on
    for where, text in texts:
        assert_clean(text, key, where)
    # The key did travel, in the one place it must.
    assert {r.headers["Authorization"] for r in requests} == {ApiKey(key).authorization}


def test_redirects_are_not_followed() -> None:
    """A 3xx never sends the request (and its Authorization header) somewhere else."""
    with responses.RequestsMock() as mock:
        mock.post(
            "https://cdp.customer.io/v1/batch",
            status=307,
            headers={"Location": "http://attacker.example/v1/batch"},
        )
        with Client(BEARER_KEY) as client:
            delivery = client.post("/batch", b'{"batch":[]}')
        assert len(mock.calls) == 1
    assert (delivery.ok, delivery.status) == (False, 307)


# Plain HTTP and TLS


@pytest.mark.parametrize(
    "url",
    [
        "http://cdp.customer.io/v1",
        "http://10.0.0.5/v1",
        "http://0.0.0.0:8080/v1",
        "http://localhost.attacker.example/v1",
        "http://127.0.0.1.nip.io/v1",
        "HTTP://example.com/v1",
        "ftp://127.0.0.1/v1",
        "cdp.customer.io/v1",
    ],
)
def test_plain_http_is_refused_except_loopback(url: str) -> None:
    """http:// to anything but a loopback host raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="refusing base_url"):
        Client(BEARER_KEY, base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/v1",
        "http://127.8.0.1/v1",
        "http://localhost:1/v1",
        "http://[::1]:8080/v1",
        "https://cdp-eu.customer.io/v1",
    ],
)
def test_loopback_http_and_any_https_are_accepted(url: str) -> None:
    """Loopback hosts may use http://; https:// is always accepted."""
    assert check_base_url(url) == url


def test_tls_verification_stays_on_in_code() -> None:
    """The session verifies certificates, and no module turns verification off."""
    with Client(BEARER_KEY) as client:
        assert client._session.verify is True
        assert client._session.trust_env is False
    forbidden = re.compile(
        r"verify\s*=\s*False|CERT_NONE|_create_unverified_context|check_hostname\s*=\s*False"
        r"|disable_warnings"
    )
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if forbidden.search(line)
    ]
    assert offenders == []


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS server on loopback with a self-signed certificate; yields its URL and hits."""
    cert, key = loopback_certificate(tmp_path)
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/v1", hits
    finally:
        server.shutdown()
        server.server_close()


def test_untrusted_certificate_is_refused(self_signed_server: tuple[str, list[str]]) -> None:
    """Against a self-signed certificate every row fails with a TLS reason; nothing is sent."""
    url, hits = self_signed_server
    with Client(BEARER_KEY, base_url=url, retry=fast_retry(2)) as client:
        result = people(50).cio.identify(user_id="id", client=client)
    assert (result["status"] == "failed").all()
    assert result["error"].str.contains("CERTIFICATE_VERIFY_FAILED|SSLError").all()
    assert hits == []


# Request bodies and logs


def test_logs_never_carry_bodies_or_trait_values(
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    """With DEBUG on everywhere, through retries, resets and errors, no record holds a value."""
    with (
        FakeCio() as fake,
        Client(
            fake.api_key, base_url=fake.url, retry=fast_retry(8), max_batch_bytes=3_000
        ) as client,
    ):
        fake.inject(*messy.flaky(rate=0.4))
        result = people().cio.identify(user_id="id", client=client)
        fake.clear_faults()
        fake.inject(*messy.outage(400))
        failed = people(20).cio.identify(user_id="id", client=client)
    assert (result["status"] == "sent").all()
    # A 400 for every request: each call is isolated by splitting and rejected.
    assert failed["status"].isin(["failed", "rejected"]).all()
    texts = record_texts(everything_logged)
    assert any("retrying" in t for t in texts)  # the retry path was logged
    for text in texts:
        assert TRAIT_VALUE not in text and USER_ID not in text
        assert '"batch"' not in text and '"traits"' not in text
    above_debug = [r for r in everything_logged.records if r.levelno > logging.DEBUG]
    for record in above_debug:
        assert "@" not in record.getMessage()


# Hostile configuration: URLs the parsers read differently, keys that break headers


BYPASS_URLS = [
    "http://evil.example\\@127.0.0.1/v1",
    "http://evil.example%5C@127.0.0.1/v1",
    "http://127.0.0.1@evil.example/v1",
    "http://127.0.0.1:80@evil.example/v1",
    "https://user:pass@cdp.customer.io/v1",
    "http://127.0.0.1/v1?next=http://evil.example",
    "http://127.0.0.1/v1#@evil.example",
    "http://127.0.0.1\t/v1",
    "http://127.0.0.1/v1\n",
    " https://cdp.customer.io/v1",
    "https://cdp.customer.io\\.evil.example/v1",
    "https://cdp.customer.io:0/v1",
    "https:///v1",
    "http:/127.0.0.1/v1",
]


@pytest.mark.parametrize("url", BYPASS_URLS)
def test_ambiguous_base_urls_are_refused_in_the_constructor(url: str) -> None:
    """User info, backslashes, queries, fragments, whitespace: refused by Client(), not the send."""
    with pytest.raises(ConfigurationError, match="refusing base_url") as refused:
        Client(BEARER_KEY, base_url=url)
    assert_clean(exception_texts(refused.value), BEARER_KEY, "the refusal")
    assert "pass" not in str(refused.value)  # the URL's password is not repeated


def test_the_backslash_bypass_sends_nothing_anywhere() -> None:
    """The evil.example\\@127.0.0.1 URL makes no connection: nothing listens, nothing is tried."""
    attempts: list[tuple[str, int]] = []
    original = socket.create_connection

    def spy(address: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(address)
        return original(address, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "create_connection", spy)
        with pytest.raises(ConfigurationError):
            Client(BEARER_KEY, base_url="http://evil.example\\@127.0.0.1/v1")
    assert attempts == []


@pytest.mark.parametrize(
    "separator",
    ["\n", "\r\nX-Injected: 1", "\t", " ", "\u00e9", "\x00"],
    ids=["newline", "header-injection", "tab", "space", "non-ascii", "nul"],
)
def test_keys_that_break_headers_are_refused_without_showing_them(separator: str) -> None:
    """Control characters, spaces, non-ASCII: refused at Client(), the key not in the text."""
    key = f"sk_us_SECRETpartONE{separator}SECRETpartTWO"
    with pytest.raises(ConfigurationError, match="copy the key again") as refused:
        Client(key)
    text = exception_texts(refused.value)
    assert "SECRETpartONE" not in text and "SECRETpartTWO" not in text


def test_the_cli_never_prints_a_key_with_a_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CIO_API_KEY with a newline: exit 2, a message, and no piece of the key on stdout/stderr."""
    from pandas_cio.cli import main as cli

    path = tmp_path / "people.csv"
    people(3).to_csv(path, index=False)
    key = "sk_us_SECRETpartONE\nSECRETpartTWO"
    monkeypatch.setenv("CIO_API_KEY", key)
    monkeypatch.delenv("CIO_REGION", raising=False)
    status = cli.main(
        ["identify", str(path), "--user-id", "id", "--base-url", "http://127.0.0.1:9/v1"]
    )
    out, err = capsys.readouterr()
    assert status == 2 and "API key" in err
    assert "SECRETpartONE" not in out + err and "SECRETpartTWO" not in out + err


URL_PIECES = st.sampled_from(
    ["http://", "https://", "127.0.0.1", "localhost", "evil.example", "cdp.customer.io",
     "@", "\\", ":", ":8080", "/", "/v1", "?", "#", "%5C", "%40", " ", "\t", "[::1]", ".", "user"]
)  # fmt: skip


@given(st.lists(URL_PIECES, min_size=1, max_size=8).map("".join))
@example("http://127.0.0.1:8080/v1")
@example("https://cdp.customer.io/v1")
@example("http://[::1]/v1")
@example("http://localhost/v1")
def test_an_accepted_base_url_means_one_host_to_every_parser(url: str) -> None:
    """Whatever check_base_url accepts, urllib3 and urlsplit read the same host, and plain
    http goes only to loopback."""
    try:
        accepted = check_base_url(url)
    except ConfigurationError:
        return
    from urllib.parse import urlsplit

    from urllib3.util import parse_url

    host = (parse_url(accepted).host or "").strip("[]").lower()
    assert host and host == (urlsplit(accepted).hostname or "")
    if accepted.startswith("http://"):
        assert host in ("localhost", "::1") or host.startswith("127.")


@given(
    key=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=6, max_size=40),
    before=st.text(max_size=60),
    after=st.text(max_size=60),
    form=st.sampled_from(["raw", "bearer", "basic", "basic-unpadded", "prefix", "suffix"]),
)
def test_redaction_removes_every_form_of_the_key(
    key: str, before: str, after: str, form: str
) -> None:
    """The key, Bearer KEY, Basic's base64 (padded or not) and 8+ character pieces never survive."""
    from pandas_cio.delivery.redact import Redactor

    basic = base64.b64encode(f"{key}:".encode()).decode()
    shown = {
        "raw": key,
        "bearer": f"Bearer {key}",
        "basic": f"Basic {basic}",
        "basic-unpadded": basic.rstrip("="),
        "prefix": key[:8],
        "suffix": key[-8:],
    }[form]
    text = Redactor(key).clean(before + shown + after, limit=10_000)
    assert key not in text and basic.rstrip("=") not in text
    if len(key) >= 8:
        assert key[:8] not in text and key[-8:] not in text
