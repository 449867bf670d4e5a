"""Unit tests of pandas_cio.delivery.transport and pandas_cio.delivery.client with ``responses``.

Nothing here touches a socket or waits for real: ``responses`` answers every
request, and every pause between attempts goes through the ``stop`` event,
which these tests replace with :class:`RecordingStop` (its ``wait`` records the
delay and returns at once).
"""

from __future__ import annotations

import email.utils
import gzip
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import requests
import responses
from urllib3.exceptions import (
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from pandas_cio import Client, ConfigurationError, RateLimit
from pandas_cio.delivery.transport import (
    RETRY_STATUSES,
    Delivery,
    _describe,
    _root_cause,
    default_retry,
    make_limiter,
)
from pandas_cio.prepare.batching import ENVELOPE_BYTES, Batch

BASE = "https://cdp.customer.io/v1"
BATCH_URL = f"{BASE}/batch"
KEY = "pk_us_unit-test-secret"
BODY = b'{"batch":[{"type":"identify","userId":"u1"}],"sentAt":"2026-01-01T00:00:00.000Z"}'


class RecordingStop(threading.Event):
    """A stop flag whose waits return at once, recording each requested delay."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        """Record the delay instead of sleeping."""
        self.waits.append(timeout)
        return self.is_set()


def policy(total: int = 3, **changes: Any) -> Retry:
    """The default policy without jitter, so backoffs are exact."""
    return default_retry(total).new(backoff_jitter=0.0, **changes)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """A responses mock that fails on requests nobody registered."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def client() -> Iterator[Client]:
    """A client with a 3-retry policy and no jitter."""
    with Client(KEY, retry=policy(3)) as made:
        yield made


def counting_tokens(client: Client) -> list[int]:
    """Count tokens taken from the client's limiter (one per attempt)."""
    taken: list[int] = []
    limiter = client._adapter.limiter
    original = limiter.try_acquire

    def spy(*args: Any, **kwargs: Any) -> Any:
        taken.append(1)
        return original(*args, **kwargs)

    limiter.try_acquire = spy
    return taken


def connection_error(reason: Exception) -> requests.ConnectionError:
    """A requests ConnectionError wrapping urllib3's MaxRetryError, as requests raises it."""
    return requests.ConnectionError(MaxRetryError(None, BATCH_URL, reason=reason))  # type: ignore[arg-type]


def raised_from(wrapper: type[requests.RequestException], cause: Exception) -> Exception:
    """Wrap a urllib3 error the way requests' adapter does: raised while handling it."""
    try:
        try:
            raise cause
        except Exception as exc:
            raise wrapper(exc)  # noqa: B904 - the implicit context is the point
    except requests.RequestException as wrapped:
        return wrapped


# Deliveries


def test_success_is_one_attempt_and_one_token(rsps: responses.RequestsMock, client: Client) -> None:
    """A 200 is delivered at the first attempt, taking exactly one limiter token."""
    rsps.post(BATCH_URL, json={})
    tokens = counting_tokens(client)
    delivery = client.post("/batch", BODY, RecordingStop())
    assert delivery == Delivery(ok=True, status=200, attempts=1)
    assert len(tokens) == 1
    assert rsps.calls[0].request.body == BODY


def test_retries_follow_exponential_backoff_and_meter_every_attempt(
    rsps: responses.RequestsMock, client: Client
) -> None:
    """503, 500, 502 then 200: four attempts, four tokens, backoffs 0, 1 s, 2 s."""
    for status in (503, 500, 502):
        rsps.post(BATCH_URL, status=status)
    rsps.post(BATCH_URL, json={})
    tokens = counting_tokens(client)
    stop = RecordingStop()
    delivery = client.post("/batch", BODY, stop)
    assert (delivery.ok, delivery.attempts) == (True, 4)
    assert len(tokens) == 4 == len(rsps.calls)
    # The first retry is immediate (urllib3 backs off from the second on).
    assert stop.waits == [1.0, 2.0]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured(
    rsps: responses.RequestsMock, client: Client, status: int
) -> None:
    """Retry-After: 7 makes the next attempt wait 7 s, whatever the backoff says."""
    rsps.post(BATCH_URL, status=status, headers={"Retry-After": "7"})
    rsps.post(BATCH_URL, json={})
    stop = RecordingStop()
    assert client.post("/batch", BODY, stop).ok
    assert stop.waits == [7]


def test_retry_after_http_date_is_honoured(rsps: responses.RequestsMock, client: Client) -> None:
    """Retry-After as an HTTP date 20 s ahead makes the next attempt wait about 20 s."""
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    rsps.post(BATCH_URL, status=429, headers={"Retry-After": when})
    rsps.post(BATCH_URL, json={})
    stop = RecordingStop()
    assert client.post("/batch", BODY, stop).ok
    (waited,) = stop.waits
    assert waited is not None and 18 <= waited <= 20


def test_retry_after_is_capped(rsps: responses.RequestsMock, client: Client) -> None:
    """An hour-long Retry-After is capped at the policy's retry_after_max (60 s)."""
    rsps.post(BATCH_URL, status=429, headers={"Retry-After": "3600"})
    rsps.post(BATCH_URL, json={})
    stop = RecordingStop()
    assert client.post("/batch", BODY, stop).ok
    assert stop.waits == [60]


@pytest.mark.parametrize("header", ["1.5", "soon", ""])
def test_unreadable_retry_after_falls_back_to_backoff(
    rsps: responses.RequestsMock, header: str
) -> None:
    """A Retry-After urllib3 cannot parse is ignored (backoff applies); it never raises."""
    rsps.post(BATCH_URL, status=503, json={})
    rsps.post(BATCH_URL, status=503, headers={"Retry-After": header})
    rsps.post(BATCH_URL, json={})
    stop = RecordingStop()
    with Client(KEY, retry=policy(3)) as client:
        delivery = client.post("/batch", BODY, stop)
    assert (delivery.ok, delivery.attempts) == (True, 3)
    assert stop.waits == [1.0]


def test_retries_run_out_with_a_readable_reason(
    rsps: responses.RequestsMock, client: Client
) -> None:
    """Four 503s with three retries: not ok, the last status, four attempts, the reason."""
    rsps.post(BATCH_URL, status=503)
    delivery = client.post("/batch", BODY, RecordingStop())
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, 503, 4)
    assert delivery.error == "HTTP 503 after 4 attempts"
    assert len(rsps.calls) == 4


def test_client_errors_are_not_retried(rsps: responses.RequestsMock, client: Client) -> None:
    """A 400 is final at once, and its reason carries the service's message."""
    rsps.post(BATCH_URL, status=400, json={"error": "batch[0] must be an object"})
    delivery = client.post("/batch", BODY, RecordingStop())
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, 400, 1)
    assert delivery.error is not None
    assert delivery.error.startswith("HTTP 400") and "batch[0]" in delivery.error


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_stops_without_retry(
    rsps: responses.RequestsMock, client: Client, status: int
) -> None:
    """401 and 403 are never retried and flag auth_failed."""
    rsps.post(BATCH_URL, status=status, json={"error": "no"})
    delivery = client.post("/batch", BODY, RecordingStop())
    assert (delivery.auth_failed, delivery.attempts, delivery.status) == (True, 1, status)
    assert "refused the API key" in (delivery.error or "")
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    ("error", "name"),
    [
        (connection_error(NewConnectionError(None, "Connection refused")), "NewConnectionError"),  # type: ignore[arg-type]
        (
            raised_from(requests.ReadTimeout, ReadTimeoutError(None, BATCH_URL, "timed out")),  # type: ignore[arg-type]
            "ReadTimeoutError",
        ),
        (
            raised_from(requests.ConnectionError, ProtocolError("aborted", ConnectionResetError())),
            "ProtocolError",
        ),
    ],
)
def test_network_errors_are_retried_then_reported(
    rsps: responses.RequestsMock, client: Client, error: Exception, name: str
) -> None:
    """Refused connections, timeouts and resets are retried, then named in the reason."""
    rsps.post(BATCH_URL, body=error)
    delivery = client.post("/batch", BODY, RecordingStop())
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, 0, 4)
    assert delivery.error is not None and delivery.error.startswith(name)
    assert len(rsps.calls) == 4


def test_network_error_then_success(rsps: responses.RequestsMock, client: Client) -> None:
    """A reset followed by a 200 is a delivery in two attempts."""
    rsps.post(BATCH_URL, body=raised_from(requests.ConnectionError, ProtocolError("reset")))
    rsps.post(BATCH_URL, json={})
    delivery = client.post("/batch", BODY, RecordingStop())
    assert (delivery.ok, delivery.attempts) == (True, 2)


def test_stop_during_a_wait_abandons_the_request(
    rsps: responses.RequestsMock, client: Client
) -> None:
    """A stop set while waiting to retry ends the delivery with no further attempt."""
    rsps.post(BATCH_URL, status=503)
    stop = RecordingStop()
    stop.wait = lambda timeout=None: True  # type: ignore[method-assign]  # set while waiting
    rsps.post(BATCH_URL, status=503)
    calls_before = len(rsps.calls)
    delivery = client.post("/batch", BODY, stop)
    assert delivery.ok is False
    # First attempt, an immediate first retry (no wait), then the wait is cut short.
    assert len(rsps.calls) - calls_before == 2
    assert "stopped" in (delivery.error or "")


def test_policy_without_post_still_retries(rsps: responses.RequestsMock) -> None:
    """A Retry without POST (urllib3's default) gets POST added, so a 503 is retried."""
    rsps.post(BATCH_URL, status=503)
    rsps.post(BATCH_URL, json={})
    policy = Retry(total=3, status_forcelist=RETRY_STATUSES, backoff_factor=0)
    with Client(KEY, retry=policy) as client:
        delivery = client.post("/batch", BODY, RecordingStop())
    assert (delivery.ok, delivery.attempts) == (True, 2)


def test_debug_log_of_retries_names_path_not_body(
    rsps: responses.RequestsMock, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Retry log records carry the path and status only, never the body."""
    rsps.post(BATCH_URL, status=503)
    rsps.post(BATCH_URL, body=raised_from(requests.ConnectionError, ProtocolError("reset")))
    rsps.post(BATCH_URL, json={})
    with caplog.at_level(logging.DEBUG, logger="pandas_cio"):
        assert client.post("/batch", BODY, RecordingStop()).ok
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("pandas_cio")]
    assert len(messages) == 2
    assert all("/v1/batch" in m and "u1" not in m and "identify" not in m for m in messages)


# Helpers of the transport


def test_root_cause_and_describe_give_a_short_reason() -> None:
    """The urllib3 reason is dug out of requests' wrapper and its pool repr trimmed."""
    reason = NewConnectionError(None, "Failed to establish a new connection: refused")  # type: ignore[arg-type]
    wrapped = connection_error(reason)
    assert _root_cause(wrapped) is reason
    text = _describe(requests.ConnectionError("HTTPSConnectionPool(...): Caused by X('boom')"))
    assert text == "ConnectionError: X('boom'"
    assert len(_describe(RuntimeError("x" * 1000))) == 300


def test_rate_limit_rejects_nonsense_and_pads_the_window() -> None:
    """RateLimit validates its fields; the limiter's window is seconds plus margin."""
    for bad in ((0, 1.0), (10, 0.0), (10, 1.0, -1.0)):
        with pytest.raises(ValueError, match="invalid rate limit"):
            RateLimit(*bad)
    limiter = make_limiter(RateLimit(5, 1.0, 0.25))
    try:
        (rate,) = limiter.bucket_factory.get(limiter.bucket_factory.wrap_item("cio")).rates
        assert (rate.limit, rate.interval) == (5, 1_250)
    finally:
        limiter.close()


def test_default_retry_covers_post_and_the_retryable_statuses() -> None:
    """POST is retried on 429 and 5xx, Retry-After respected, no exception on status."""
    retry = default_retry(6)
    assert retry.total == retry.connect == retry.read == retry.status == 6
    assert "POST" in retry.allowed_methods
    assert set(retry.status_forcelist) == {429, 500, 502, 503, 504}
    assert retry.respect_retry_after_header and not retry.raise_on_status


# The client


def test_client_headers_and_tls_settings(rsps: responses.RequestsMock) -> None:
    """Bearer auth for prefixed keys, JSON content type, TLS verified, no environment."""
    rsps.post(BATCH_URL, json={})
    with Client(KEY) as client:
        assert client._session.verify is True
        assert client._session.trust_env is False
        client.post("/batch", BODY)
    headers = rsps.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("pandas-cio/")


def test_gzip_bodies_decompress_to_the_original(rsps: responses.RequestsMock) -> None:
    """gzip=True compresses the body and says so in Content-Encoding."""
    rsps.post(BATCH_URL, json={})
    with Client(KEY, gzip=True) as client:
        assert client.post("/batch", BODY).ok
    request = rsps.calls[0].request
    assert request.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(request.body) == BODY


@pytest.mark.parametrize(
    "options",
    [
        {"workers": 0},
        {"max_batch_bytes": 0},
        {"max_batch_bytes": 500_001},
        {"max_call_bytes": 32_001},
        {"base_url": "http://example.com/v1"},
    ],
)
def test_client_refuses_bad_settings(options: dict[str, Any]) -> None:
    """Settings that could lose data or leak the key raise ConfigurationError."""
    with pytest.raises(ConfigurationError):
        Client(KEY, **options)


def test_calls_never_exceed_what_fits_in_a_batch() -> None:
    """Small batches lower the call limit, so a big row is too_large instead of a crash."""
    with Client(KEY, max_batch_bytes=300) as client:
        assert client.max_call_bytes == 300 - ENVELOPE_BYTES
    with Client(KEY) as client:
        assert client.max_call_bytes == 32_000
    with pytest.raises(ConfigurationError, match="max_batch_bytes"):
        Client(KEY, max_batch_bytes=ENVELOPE_BYTES)


def test_client_settings_are_normalised() -> None:
    """A (requests, seconds) tuple becomes a RateLimit; an int becomes the default policy."""
    with Client(KEY, rate_limit=(10, 2.0), retry=2) as client:
        assert client.rate_limit == RateLimit(10, 2.0)
        assert client.retry.total == 2 and "POST" in client.retry.allowed_methods


def test_closed_client_refuses_to_send() -> None:
    """post() on a closed client raises instead of reopening connections."""
    client = Client(KEY)
    client.close()
    client.close()  # idempotent
    with pytest.raises(ConfigurationError, match="closed"):
        client.post("/batch", BODY)


def batches(n: int) -> list[Batch]:
    """n one-call batches."""
    out = []
    for i in range(n):
        call = orjson.dumps({"type": "identify", "userId": f"u{i}"})
        out.append(Batch(i, (i,), (call,), len(call) + 46))
    return out


def test_send_batches_yields_each_batch_once(rsps: responses.RequestsMock) -> None:
    """Every batch comes back exactly once with its delivery; bodies carry sentAt."""
    rsps.post(BATCH_URL, json={})
    with Client(KEY, workers=3) as client:
        outcomes = list(client.send_batches(batches(10)))
    assert sorted(b.number for b, _ in outcomes) == list(range(10))
    assert all(d.ok for _, d in outcomes)
    bodies = [orjson.loads(c.request.body) for c in rsps.calls]
    assert sorted(b["batch"][0]["userId"] for b in bodies) == [f"u{i}" for i in range(10)]
    assert all(len(b["sentAt"]) == 24 and b["sentAt"].endswith("Z") for b in bodies)


def test_closing_send_batches_early_stops_and_settles_the_rest(
    rsps: responses.RequestsMock,
) -> None:
    """Closing the generator sets stop, sends nothing new, and settles what finished unseen."""
    rsps.post(BATCH_URL, json={})
    settled: list[tuple[Batch, Delivery]] = []
    stop = threading.Event()
    with Client(KEY, workers=2) as client:
        outcomes = client.send_batches(
            batches(50), stop, settled=lambda b, d: settled.append((b, d))
        )
        first = next(outcomes)
        outcomes.close()
    assert stop.is_set()
    seen = {first[0].number} | {b.number for b, _ in settled}
    # Everything that reached the server is either yielded or settled; at most
    # 2 * workers batches were ever pulled from the source.
    assert len(rsps.calls) == len(seen) <= 4
    assert all(d.ok for _, d in settled)


# What counts as the service's answer


def test_a_2xx_that_is_not_a_json_object_is_not_ok(rsps: responses.RequestsMock) -> None:
    """An HTML 200 is a failure with a readable reason, not retried, flagged unavailable."""
    rsps.post(BATCH_URL, body="<html>Sign in to the network</html>", content_type="text/html")
    with Client(KEY, retry=policy(3)) as client:
        delivery = client.post("/batch", BODY, RecordingStop())
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, 200, 1)
    assert delivery.unavailable and "not the service's JSON (text/html)" in (delivery.error or "")
    assert "Sign in" not in (delivery.error or "")


@pytest.mark.parametrize("retry_after", [None, "1"])
def test_413_is_never_retried(rsps: responses.RequestsMock, retry_after: str | None) -> None:
    """urllib3 retries 413 when Retry-After is present; the client never does."""
    headers = {"Retry-After": retry_after} if retry_after else {}
    rsps.post(BATCH_URL, status=413, json={"error": "too large"}, headers=headers)
    with Client(KEY, retry=policy(3)) as client:
        delivery = client.post("/batch", BODY, RecordingStop())
    assert (delivery.status, delivery.attempts) == (413, 1) and len(rsps.calls) == 1
    assert (delivery.error or "").startswith("HTTP 413: the service refused the request body")


def test_strict_mode_header_is_sent_by_default(rsps: responses.RequestsMock) -> None:
    """X-Strict-Mode: 1 unless strict=False."""
    rsps.post(BATCH_URL, json={})
    with Client(KEY) as client:
        client.post("/batch", BODY)
    with Client(KEY, strict=False) as client:
        client.post("/batch", BODY)
    assert rsps.calls[0].request.headers["X-Strict-Mode"] == "1"
    assert "X-Strict-Mode" not in rsps.calls[1].request.headers


@pytest.mark.parametrize("gzip_bodies", [False, True], ids=["plain", "gzip"])
def test_error_texts_lose_the_key_and_the_body_values(
    rsps: responses.RequestsMock, gzip_bodies: bool
) -> None:
    """An answer echoing the header and a value keeps neither, even for compressed bodies."""
    body = b'{"batch":[{"type":"identify","userId":"person-8812","traits":{"phone":"+15551234"}}]}'
    echo = f"Authorization: Bearer {KEY} rejected userId person-8812 phone +15551234 " * 5
    rsps.post(BATCH_URL, status=400, json={"message": echo})
    with Client(KEY, gzip=gzip_bodies) as client:
        delivery = client.post("/batch", body, RecordingStop())
    error = delivery.error or ""
    assert error.startswith("HTTP 400: the service refused the request: Authorization: Bearer")
    assert KEY not in error and "person-8812" not in error and "+15551234" not in error
    assert "[redacted]" in error and len(error) <= 200


def test_service_message_reads_common_error_shapes() -> None:
    """error, message and errors members; any other object as JSON; non-objects are None."""
    from pandas_cio.delivery.redact import service_message

    assert service_message(b'{"error":"bad"}') == "bad"
    assert service_message(b'{"errors":[{"field":"userId"}]}') == '[{"field":"userId"}]'
    assert service_message(b'{"status":"x"}') == '{"status":"x"}'
    assert service_message(b"{}") == ""
    assert service_message(b"<html>") is None and service_message(b"[1]") is None
