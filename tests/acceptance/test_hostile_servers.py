"""Hostile and broken servers on 127.0.0.1, spoken to over raw sockets.

Each server here is a few lines of socket code that does one bad thing: it
trickles its answer a byte at a time, echoes the request (key and values) in
an error body, answers with a captive portal's HTML page, or refuses a body
as too large while asking to be retried. The client must end every attempt
in bounded time, keep the key and the frame's values out of every text, and
count as delivered only what the service itself confirmed.
"""

from __future__ import annotations

import base64
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
import pandas as pd
import pytest
from loopback import fails_after

import pandas_cio
import pandas_cio.cli.main
from pandas_cio import ApiKey, Client
from pandas_cio.delivery.breaker import Breaker
from pandas_cio.delivery.transport import CircuitOpen, Delivery, default_retry
from pandas_cio.prepare.batching import Batch, pack
from pandas_cio.testing import FakeCio, Fault

KEY = "sk_us_HOSTILEsecret0042"
LEGACY = "legacyHOSTILEsecret77"
EMAIL = "jane.PRIVATE.doe@example.com"
# A hang of the code under test fails the test instead of CI.
HANG_SECONDS = 30

Handler = Callable[[socket.socket, bytes], None]


class RawServer:
    """A loopback TCP server that reads one HTTP request per connection and hands it on."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.requests: list[bytes] = []
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The base URL to give a client."""
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = read_request(conn)
                self.requests.append(request)
                self.handler(conn, request)
            except OSError:
                pass

    def close(self) -> None:
        """Stop accepting and close the listening socket."""
        self.closed.set()
        self.sock.close()


def read_request(conn: socket.socket) -> bytes:
    """Read headers and a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def answer(status: str, body: bytes, content_type: str, extra: str = "") -> bytes:
    """A complete HTTP/1.1 response."""
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
    ).encode() + body


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], RawServer]]:
    """Start raw servers; close them after the test."""
    started: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        server = RawServer(handler)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def hang_guard() -> Iterator[None]:
    """Fail the test if the code under test hangs."""
    with fails_after(HANG_SECONDS, "the code under test"):
        yield


def secret_forms(key: str) -> list[str]:
    """Every way the key could show: raw, Bearer, Basic base64, and pieces of them."""
    basic = base64.b64encode(f"{key}:".encode()).decode()
    forms = [key, f"Bearer {key}", basic, basic.rstrip("=")]
    return forms + [form[i : i + 10] for form in (key, basic) for i in range(len(form) - 9)]


def key_sent(key: str) -> bytes:
    """The Authorization header's value as it goes on the wire."""
    return ApiKey(key).authorization.encode()


def people(n: int = 40) -> pd.DataFrame:
    """People with personal data in a trait."""
    return pd.DataFrame({"id": [f"user-{i}" for i in range(n)], "email": [EMAIL] * n})


def no_retry() -> object:
    """A policy without retries (one attempt per batch)."""
    return default_retry(0)


# A server that trickles


def trickle(conn: socket.socket, request: bytes) -> None:
    """Answer 200 one byte every 0.2 s: each read is quick, the answer takes a minute."""
    for byte in answer("200 OK", b"{}" + b" " * 300, "application/json"):
        conn.sendall(bytes([byte]))
        time.sleep(0.2)


def test_a_trickling_server_fails_the_attempt_at_its_deadline(
    serve: Callable[[Handler], RawServer], hang_guard: None
) -> None:
    """A byte every 0.2 s never trips the read timeout; the attempt deadline ends it."""
    server = serve(trickle)
    with Client(KEY, base_url=server.url, retry=no_retry(), attempt_timeout=1.0) as client:
        delivery = client.post("/batch", b'{"batch":[]}')
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, 0, 1)
    assert delivery.error == "AttemptTimeout: no complete answer within 1 s"
    assert delivery.unavailable


def test_a_trickling_server_fails_every_row_of_a_send(
    serve: Callable[[Handler], RawServer], hang_guard: None
) -> None:
    """A whole send against a trickling server ends, every row failed with the reason."""
    server = serve(trickle)
    deadline, attempts = 0.5, 2
    with Client(
        KEY,
        base_url=server.url,
        retry=default_retry(attempts - 1),
        attempt_timeout=deadline,
        workers=2,
    ) as client:
        started = time.monotonic()
        result = people(10).cio.identify(user_id="id", client=client)
        elapsed = time.monotonic() - started
    assert (result["status"] == "failed").all()
    assert result["error"].str.startswith("AttemptTimeout").all()
    assert (result["attempts"] == attempts).all()
    # The bound: the deadline per attempt, times the attempts, plus a margin for
    # the backoff between them (at most backoff_factor plus jitter, 1 s) and the frame's
    # own work (1.5 s). Without the attempt deadline this send takes a minute per attempt.
    assert elapsed < deadline * attempts + 1.0 + 1.5, f"the send took {elapsed:.1f} s"


def test_the_default_attempt_deadline_is_connect_plus_read() -> None:
    """Without attempt_timeout= the deadline is the connect plus the read timeout."""
    with Client(KEY, timeout=(2.0, 7.0)) as client:
        assert client.settings.deadline == 9.0
    with Client(KEY, attempt_timeout=4) as client:
        assert client.settings.deadline == 4.0
    with pytest.raises(pandas_cio.ConfigurationError, match="attempt_timeout="):
        Client(KEY, attempt_timeout=0)


def test_ctrl_c_ends_a_send_whose_workers_are_stuck_in_a_trickle(
    serve: Callable[[Handler], RawServer], hang_guard: None
) -> None:
    """SIGINT while every worker reads a trickle: the send raises at once, rows not confirmed."""
    server = serve(trickle)
    main = threading.main_thread().ident
    assert main is not None

    interrupted_at: list[float] = []

    def interrupt_when_stuck() -> None:
        while len(server.requests) < 4:
            time.sleep(0.01)
        time.sleep(0.2)
        interrupted_at.append(time.monotonic())
        signal.pthread_kill(main, signal.SIGINT)

    trigger = threading.Thread(target=interrupt_when_stuck, daemon=True)
    # The default deadline (35 s) is past the guard: only the stop can end these in time.
    with Client(KEY, base_url=server.url, workers=4, max_batch_bytes=2_000) as client:
        trigger.start()
        with pytest.raises(pandas_cio.InterruptedSendError) as info:
            people(200).cio.identify(user_id="id", client=client)
        returned_at = time.monotonic()
        trigger.join()
    # The issue says within a second of Ctrl-C; 1.5 s leaves room for a loaded machine.
    assert returned_at - interrupted_at[0] < 1.5, f"{returned_at - interrupted_at[0]:.2f} s"
    result = info.value.result
    assert (result["status"] == "failed").all()
    assert result["error"].str.startswith("not confirmed").all()
    assert [t for t in threading.enumerate() if t.name.startswith("pandas_cio_")] == []


# A server that echoes the request


def echo(status: str) -> Handler:
    """Answer ``status`` with the whole request (headers, key, body) in a JSON error."""

    def handler(conn: socket.socket, request: bytes) -> None:
        text = request.decode("latin-1")
        body = orjson.dumps({"error": f"bad request: {text}"})
        conn.sendall(answer(status, body, "application/json"))

    return handler


@pytest.mark.parametrize("key", [KEY, LEGACY], ids=["bearer", "basic"])
@pytest.mark.parametrize("status", ["400 Bad Request", "500 Internal Server Error"])
def test_an_echoing_server_leaks_neither_key_nor_values(
    serve: Callable[[Handler], RawServer],
    key: str,
    status: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """No form of the key, no trait value in errors, report, log records or the CLI's output."""
    caplog.set_level(logging.DEBUG, logger="pandas_cio")
    server = serve(echo(status))
    with Client(key, base_url=server.url, retry=no_retry()) as client:
        result = people().cio.identify(user_id="id", client=client)
    report = result.cio.report()
    # The same send from the command line, verbose, with the key and URL from the environment.
    source, out = tmp_path / "people.csv", tmp_path / "result.csv"
    people().to_csv(source, index=False)
    monkeypatch.setenv("CIO_API_KEY", key)
    monkeypatch.setenv("CIO_BASE_URL", server.url)
    monkeypatch.delenv("CIO_REGION", raising=False)
    code = pandas_cio.cli.main.main(
        ["identify", str(source), "--user-id", "id", "--retries", "0", "--out", str(out), "-v"]
    )
    printed = capsys.readouterr()
    assert code == 1 and out.exists()
    assert len(server.requests) > 1 and all(key_sent(key) in r for r in server.requests)
    logged = [caplog.text, *(r.getMessage() for r in caplog.records)]
    logged += [repr(r.args) for r in caplog.records] + [str(r.exc_info) for r in caplog.records]
    assert caplog.text.count("cio.identify:") == 2  # both sends' records were captured
    scanned = [printed.out, printed.err, out.read_text(encoding="utf-8"), *logged]
    for text in scanned:
        for form in secret_forms(key):
            assert form not in text
        assert EMAIL not in text and "user-1" not in text
    # The echo really held the key and the values.
    assert ApiKey(key).authorization.encode() in server.requests[0]
    assert EMAIL.encode() in server.requests[0]
    # A 400 is split down to single calls (strict mode) and each ends rejected.
    expected = "rejected" if status.startswith("400") else "failed"
    assert (result["status"] == expected).all()
    errors = list(result["error"].astype(str))
    for text in [*errors, str(report), repr(report)]:
        for form in secret_forms(key):
            assert form not in text
        assert EMAIL not in text and "user-1" not in text
    assert all(f"HTTP {status[:3]}" in e and len(e) <= 240 for e in errors)


def test_redaction_keeps_the_service_words() -> None:
    """A plain service message survives redaction, values and key removed, capped."""
    from pandas_cio.delivery.redact import Redactor

    body = orjson.dumps({"batch": [{"type": "identify", "userId": "u-77", "traits": {"e": EMAIL}}]})
    redactor = Redactor(KEY, body)
    text = redactor.clean(f"traits.e {EMAIL} is not valid; key Bearer {KEY[:12]}\n" + "x" * 500)
    assert text.startswith("traits.e [redacted] is not valid; key Bearer [redacted]")
    assert EMAIL not in text and KEY[:12] not in text
    assert len(text) <= 120 and "\n" not in text


# Answers that are not the service's


def captive_portal(conn: socket.socket, request: bytes) -> None:
    """Answer 200 with a login page, as a hotel or airport network does."""
    page = b"<html><body><h1>Please log in to use the Wi-Fi</h1></body></html>"
    conn.sendall(answer("200 OK", page, "text/html"))


def test_a_captive_portal_200_is_not_a_delivery(serve: Callable[[Handler], RawServer]) -> None:
    """An HTML 200 marks the rows failed with a readable reason, never sent."""
    server = serve(captive_portal)
    with Client(KEY, base_url=server.url, retry=no_retry()) as client:
        result = people().cio.identify(user_id="id", client=client)
    assert (result["status"] == "failed").all()
    error = result["error"].iloc[0]
    assert error.startswith("HTTP 200 with a body that is not the service's JSON (text/html)")
    assert "captive portal" in error and "log in" not in error


@pytest.mark.parametrize("body", [b"", b"[]", b'"ok"'], ids=["empty", "array", "string"])
def test_a_2xx_needs_a_json_object_body(serve: Callable[[Handler], RawServer], body: bytes) -> None:
    """The service answers {} (reference spec); anything else is not a confirmation."""
    server = serve(lambda conn, request: conn.sendall(answer("200 OK", body, "application/json")))
    with Client(KEY, base_url=server.url, retry=no_retry()) as client:
        delivery = client.post("/batch", b'{"batch":[]}')
    assert not delivery.ok and delivery.status == 200


def too_large(conn: socket.socket, request: bytes) -> None:
    """Answer 413 with a Retry-After, which urllib3 alone would retry."""
    conn.sendall(
        answer(
            "413 Payload Too Large",
            b'{"error":"too big"}',
            "application/json",
            "Retry-After: 1\r\n",
        )
    )


def test_413_with_retry_after_is_not_retried(serve: Callable[[Handler], RawServer]) -> None:
    """A body the service finds too large stays too large: one attempt, a clear reason."""
    server = serve(too_large)
    with Client(KEY, base_url=server.url) as client:
        delivery = client.post("/batch", b'{"batch":[]}')
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, 413, 1)
    assert len(server.requests) == 1
    assert delivery.error is not None and delivery.error.startswith("HTTP 413")


# Strict mode


def strict_refusal(conn: socket.socket, request: bytes) -> None:
    """Answer 400 with a message, as strict mode does for a call it cannot use."""
    conn.sendall(
        answer("400 Bad Request", b'{"error":"batch[0]: userId is required"}', "application/json")
    )


def test_strict_mode_is_asked_for_and_a_400_comes_back_unretried(
    serve: Callable[[Handler], RawServer],
) -> None:
    """X-Strict-Mode: 1 by default; a 400 is one attempt with the service's message."""
    server = serve(strict_refusal)
    with Client(KEY, base_url=server.url) as client:
        delivery = client.post("/batch", b'{"batch":[]}')
    assert b"\r\nX-Strict-Mode: 1\r\n" in server.requests[0]
    assert delivery == Delivery(
        False, 400, 1, "HTTP 400: the service refused the request: batch[0]: userId is required"
    )
    with Client(KEY, base_url=server.url, strict=False) as client:
        client.post("/batch", b'{"batch":[]}')
    assert b"X-Strict-Mode" not in server.requests[1]


# The circuit breaker


def many_batches(rows: int) -> list[Batch]:
    """Identify calls of about 250 bytes packed into 500 KB bodies (about 2,000 per batch)."""
    pad = "x" * 200
    calls = (
        (
            i,
            orjson.dumps(
                {"type": "identify", "messageId": f"m{i}", "userId": f"u{i}", "traits": {"p": pad}}
            ),
        )
        for i in range(rows)
    )
    return list(pack(calls))


def unused_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def acceptance_guard() -> Iterator[None]:
    """The issue's bound for a dead service: the call returns within 60 s."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError("the send against a dead service did not end within 60 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def drain(client: Client, batches: list[Batch]) -> tuple[list[tuple[Batch, Delivery]], str | None]:
    """Run send_batches to its end; the outcomes and the breaker's reason, if it opened."""
    seen: list[tuple[Batch, Delivery]] = []
    try:
        for outcome in client.send_batches(batches, settled=lambda b, d: seen.append((b, d))):
            seen.append(outcome)
    except CircuitOpen as opened:
        return seen, opened.reason
    return seen, None


@pytest.mark.slow
def test_a_refusing_service_trips_the_breaker_with_the_defaults(acceptance_guard: None) -> None:
    """Connection refused, 200,000 rows, default settings: under 60 s and 300 requests."""
    batches = many_batches(200_000)
    assert len(batches) > 90
    url = f"http://127.0.0.1:{unused_port()}/v1"
    with Client(KEY, base_url=url) as client:
        seen, reason = drain(client, batches)
    assert reason is not None
    assert "the service looked down" in reason and "re-send the rows" in reason
    assert "ledger=" in reason
    assert all(not d.ok for _, d in seen)
    assert sum(d.attempts for _, d in seen) <= 300
    # Stopped early: most batches were never pulled, let alone sent.
    assert len({b.number for b, _ in seen}) < len(batches) // 2


@pytest.mark.slow
def test_retry_after_60_trips_the_breaker_and_the_next_send_goes_through(
    acceptance_guard: None,
) -> None:
    """503 with Retry-After: 60 on every request: the send ends early; a recovered service works."""
    batches = many_batches(200_000)
    with FakeCio(api_key=KEY) as fake, Client(KEY, base_url=fake.url) as client:
        fake.inject(Fault(status=503, retry_after="60"))
        seen, reason = drain(client, batches)
        assert reason is not None and "HTTP 503" in reason
        assert len(fake.requests) <= 300 and fake.message_ids == []
        assert sum(d.attempts for _, d in seen) == len(fake.requests)
        # The breaker belongs to one send: once the service is back, the next one uses it.
        fake.clear_faults()
        again, reason = drain(client, batches[:3])
    assert reason is None and [d.ok for _, d in again] == [True] * 3


def test_consecutive_failed_batches_open_the_circuit() -> None:
    """Batches failing after their retries, failed_batches in a row, stop the send."""
    url = f"http://127.0.0.1:{unused_port()}/v1"
    breaker = Breaker(failed_batches=3, probe_after=None)
    with Client(KEY, base_url=url, retry=0, workers=1, breaker=breaker) as client:
        seen, reason = drain(client, many_batches(20_000))
    # The three, and at most the one batch already in the worker's hands (which can
    # fail in the same tick, and then counts in the reason).
    assert 3 <= len(seen) <= 4 and {d.attempts for _, d in seen} == {1}
    assert reason is not None
    assert "3 batches in a row failed" in reason or "4 batches in a row failed" in reason
    assert all(d.unavailable and not d.ok for _, d in seen)


def test_a_probe_that_succeeds_resumes_the_send() -> None:
    """The service comes back while the circuit is open: the probe passes, every batch is sent."""
    batches = many_batches(12_000)
    breaker = Breaker(failed_batches=2, probe_after=0.05)
    with (
        FakeCio(api_key=KEY) as fake,
        Client(KEY, base_url=fake.url, retry=0, workers=1, breaker=breaker) as client,
    ):
        fake.inject(Fault(status=503, count=2))
        seen, reason = drain(client, batches)
        messages = len(set(fake.message_ids))
    assert reason is None
    assert sorted(b.number for b, _ in seen) == [b.number for b in batches]
    assert [d.ok for _, d in seen].count(False) == 2
    assert messages == sum(len(b.positions) for b, d in seen if d.ok)


def test_answers_of_the_service_itself_keep_the_circuit_closed(
    serve: Callable[[Handler], RawServer],
) -> None:
    """Strict-mode 400s are the service working: they never open the circuit."""
    server = serve(strict_refusal)
    breaker = Breaker(failed_batches=1, probe_after=None)
    with Client(KEY, base_url=server.url, workers=1, breaker=breaker) as client:
        seen, reason = drain(client, many_batches(8_000))
    assert reason is None and {d.status for _, d in seen} == {400}


def test_the_breaker_can_be_turned_off() -> None:
    """breaker=False retries every batch to the end, as before."""
    url = f"http://127.0.0.1:{unused_port()}/v1"
    with Client(KEY, base_url=url, retry=0, workers=2, breaker=False) as client:
        assert client.settings.breaker is None
        seen, reason = drain(client, many_batches(30_000))
    assert reason is None and len(seen) == len(many_batches(30_000))
    with pytest.raises(pandas_cio.ConfigurationError, match="failed_batches"):
        Breaker(failed_batches=0)


RESUME = (
    "To resume, re-send the rows whose status is not 'sent' with their messageIds, so rows "
    "that did arrive are not duplicated (identify, objects and events with timestamp= keep "
    "them by themselves; pass message_id= for the others), or re-run with the same ledger="
)


def padded_people(n: int) -> pd.DataFrame:
    """People whose identify calls are about 250 bytes: 200,000 make about 100 batches."""
    return pd.DataFrame({"id": [f"user-{i}" for i in range(n)], "p": ["x" * 200] * n})


def test_the_breaker_reason_says_not_sent_once() -> None:
    """Rows the breaker kept from the service read 'not sent: the service looked down...' once."""
    url = f"http://127.0.0.1:{unused_port()}/v1"
    breaker = Breaker(failed_batches=2, probe_after=None)
    with (
        Client(KEY, base_url=url, retry=0, workers=1, breaker=breaker) as client,
        pytest.raises(pandas_cio.ServiceUnavailableError) as info,
    ):
        padded_people(20_000).cio.identify(user_id="id", client=client)
    result = info.value.result
    unsent = result.loc[result["attempts"] == 0, "error"]
    assert len(unsent) > 0
    # Two open the circuit; a third already in the worker's hands may fail in the same tick.
    assert unsent.nunique() == 1
    assert unsent.iloc[0] in {
        f"not sent: the service looked down, so the send stopped ({n} batches in a row "
        f"failed after all their retries). {RESUME}"
        for n in (2, 3)
    }


def connections_counted(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Count every TCP connection urllib3 tries (each refused attempt is one)."""
    import urllib3.util.connection

    tried: list[object] = []
    original = urllib3.util.connection.create_connection

    def counting(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        tried.append(address)
        return original(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counting)
    return tried


def assert_stopped_by_the_breaker(
    info: pytest.ExceptionInfo[pandas_cio.ServiceUnavailableError], elapsed: float, rows: int
) -> None:
    """Within the issue's 60 s, every row failed, the rows never tried with the breaker's reason."""
    assert elapsed < 60, f"the send took {elapsed:.1f} s"
    result = info.value.result
    assert len(result) == rows and (result["status"] == "failed").all()
    reason = str(info.value).split(". The exception's .result")[0]
    assert reason.startswith("the service looked down, so the send stopped (")
    assert reason.endswith(RESUME)
    unsent = result.loc[result["attempts"] == 0, "error"]
    # The breaker stopped the send early: most rows were never tried.
    assert len(unsent) > rows * 0.9
    assert set(unsent) == {f"not sent: {reason}"}
    tried = result.loc[result["attempts"] > 0, "error"]
    assert tried.str.contains("refused|HTTP 503|circuit breaker", regex=True).all()


@pytest.mark.slow
def test_a_refused_port_stops_a_frame_send_and_the_service_back_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """df.cio.identify, 200,000 rows, connection refused, default settings: the acceptance."""
    port = unused_port()
    tried = connections_counted(monkeypatch)
    frame = padded_people(200_000)
    with Client(KEY, base_url=f"http://127.0.0.1:{port}/v1") as client:
        started = time.monotonic()
        with pytest.raises(pandas_cio.ServiceUnavailableError) as info:
            frame.cio.identify(user_id="id", client=client)
        elapsed = time.monotonic() - started
        assert_stopped_by_the_breaker(info, elapsed, len(frame))
        assert 0 < len(tried) <= 300
        assert int(
            info.value.result["attempts"].groupby(info.value.result["batch"]).max().sum()
        ) == len(tried)
        # The service comes back on the same port: the next send on the same client uses it.
        with FakeCio(api_key=KEY, port=port) as fake:
            again = frame.head(500).cio.identify(user_id="id", client=client)
            assert (again["status"] == "sent").all() and len(set(fake.message_ids)) == 500


@pytest.mark.slow
def test_retry_after_60_stops_a_frame_send_and_the_service_back_is_used() -> None:
    """df.cio.identify, 200,000 rows, 503 with Retry-After: 60 on every request: the acceptance."""
    frame = padded_people(200_000)
    with FakeCio(api_key=KEY) as fake, Client(KEY, base_url=fake.url) as client:
        fake.inject(Fault(status=503, retry_after="60"))
        started = time.monotonic()
        with pytest.raises(pandas_cio.ServiceUnavailableError) as info:
            frame.cio.identify(user_id="id", client=client)
        elapsed = time.monotonic() - started
        assert_stopped_by_the_breaker(info, elapsed, len(frame))
        assert 0 < len(fake.requests) <= 300 and fake.message_ids == []
        fake.clear_faults()
        again = frame.head(500).cio.identify(user_id="id", client=client)
    assert (again["status"] == "sent").all() and len(set(fake.message_ids)) == 500


def test_one_failed_batch_is_one_batch_in_the_reason() -> None:
    """A breaker opened by one failed batch says "1 batch", not "1 batches in a row"."""
    from pandas_cio.delivery.breaker import Breaker, Circuit

    circuit = Circuit(Breaker(failed_batches=1))
    circuit.batch_ended(False, True)
    assert circuit.why_open() == "1 batch failed after all its retries"
