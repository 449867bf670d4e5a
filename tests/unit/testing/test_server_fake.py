"""Tests of pandas_cio.testing.FakeCio, driven by plain requests rather than the library."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import requests

from pandas_cio.testing import FakeCio, Fault

pytest_plugins = ["pytester"]

KEY = "fake-test-key"


@pytest.fixture
def fake() -> Iterator[FakeCio]:
    """A running fake with the default key."""
    with FakeCio(KEY) as running:
        yield running


def post(
    fake: FakeCio,
    endpoint: str,
    payload: Any = None,
    *,
    data: bytes | None = None,
    auth: tuple[str, str] | None = (KEY, ""),
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> requests.Response:
    """POST JSON (or raw bytes) to an endpoint of the fake, with Basic auth by default."""
    body = data if data is not None else orjson.dumps(payload)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return requests.post(
        fake.url + endpoint, data=body, auth=auth, headers=all_headers, timeout=timeout
    )


def track(i: int, **extra: Any) -> dict[str, Any]:
    """A small track call with messageId ``m{i}``."""
    return {"type": "track", "userId": str(i), "event": "Clicked", "messageId": f"m{i}", **extra}


# Authentication


def test_basic_auth_accepted(fake: FakeCio) -> None:
    """Basic auth with the key as user name and an empty password is accepted."""
    response = post(fake, "/track", track(1))
    assert (response.status_code, response.json()) == (200, {})
    assert fake.message_ids == ["m1"]


def test_bearer_auth_accepted(fake: FakeCio) -> None:
    """A Bearer token equal to the key is accepted, whatever the key's prefix."""
    response = post(fake, "/track", track(1), auth=None, headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    ("auth", "headers"),
    [
        ((KEY + "x", ""), None),
        ((KEY, "secret"), None),
        (None, None),
        (None, {"Authorization": "Bearer nope"}),
    ],
)
def test_bad_auth_is_401_and_records_no_calls(
    fake: FakeCio, auth: tuple[str, str] | None, headers: dict[str, str] | None
) -> None:
    """A wrong, missing or password-carrying key gets 401 and nothing is accepted."""
    response = post(fake, "/track", track(1), auth=auth, headers=headers)
    assert response.status_code == 401
    assert "error" in response.json()
    assert fake.calls == [] and fake.message_ids == []
    [record] = fake.requests
    assert (record.status, record.accepted) == (401, False)


# Endpoints and bodies


def test_batch_is_flattened(fake: FakeCio) -> None:
    """Calls of a /batch body are recorded one by one, in order."""
    batch = {"batch": [track(1), {"type": "identify", "userId": "2", "messageId": "m2"}]}
    assert post(fake, "/batch", {**batch, "sentAt": "2024-01-01T00:00:00Z"}).status_code == 200
    assert [c["type"] for c in fake.calls] == ["track", "identify"]
    assert fake.message_ids == ["m1", "m2"]
    assert fake.requests[0].endpoint == "/batch"


# The smallest call of each type that the reference spec's shape allows.
MINIMAL = {
    "identify": {"userId": "1"},
    "track": {"userId": "1", "event": "Clicked"},
    "page": {"userId": "1"},
    "screen": {"userId": "1"},
    "group": {"userId": "1"},
    "alias": {"userId": "1", "previousId": "0"},
}


@pytest.mark.parametrize("endpoint", sorted(MINIMAL))
def test_single_endpoint_fills_type(fake: FakeCio, endpoint: str) -> None:
    """A single-call endpoint records its body with ``type`` taken from the path."""
    assert post(fake, f"/{endpoint}", MINIMAL[endpoint]).status_code == 200
    assert fake.calls == [{**MINIMAL[endpoint], "type": endpoint}]


def test_refused_shapes_are_400_404_405(fake: FakeCio) -> None:
    """Conflicting types, a body that is no batch, unknown paths and GET are refused."""
    assert post(fake, "/track", {"type": "identify"}).status_code == 400
    assert post(fake, "/batch", [track(1)]).status_code == 400
    assert post(fake, "/nope", {}).status_code == 404
    assert requests.get(fake.url + "/track", auth=(KEY, ""), timeout=5).status_code == 405
    assert fake.calls == []


def test_gzip_body_accepted(fake: FakeCio) -> None:
    """A gzip body with Content-Encoding gzip is decompressed and accepted."""
    raw = orjson.dumps({"batch": [track(1), track(2)]})
    response = post(fake, "/batch", data=gzip.compress(raw), headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200
    assert fake.message_ids == ["m1", "m2"]
    assert fake.requests[0].body == raw


@pytest.mark.parametrize("data", [b"{not json", b'{"userId": NaN}', b'{"x": Infinity}'])
def test_invalid_json_is_400(fake: FakeCio, data: bytes) -> None:
    """Malformed JSON, NaN and Infinity get 400 with a JSON error body."""
    response = post(fake, "/track", data=data)
    assert response.status_code == 400
    assert "error" in response.json()
    assert fake.calls == []


# Size limits


def test_call_over_32kb_dropped_silently(fake: FakeCio) -> None:
    """A call over 32 KB is dropped and counted while the answer is still 200."""
    big = track(1, properties={"blob": "x" * (32 * 1024)})
    response = post(fake, "/batch", {"batch": [big, track(2)]})
    assert (response.status_code, response.json()) == (200, {})
    assert fake.dropped_calls == 1
    assert fake.message_ids == ["m2"]


def test_call_exactly_at_limit_accepted() -> None:
    """A call whose compact JSON is exactly the limit is kept."""
    call = track(1, properties={"blob": ""})
    size = len(orjson.dumps(call))
    with FakeCio(KEY, max_call_bytes=size) as fake:
        post(fake, "/batch", {"batch": [call, track(2, properties={"blob": "x"})]})
        assert (fake.message_ids, fake.dropped_calls) == (["m1"], 1)


def test_body_over_500kb_dropped_silently(fake: FakeCio) -> None:
    """A body over 500 KB is answered 200 but nothing in it is accepted."""
    calls = [track(i, properties={"blob": "x" * 10_000}) for i in range(60)]
    response = post(fake, "/batch", {"batch": calls})
    assert (response.status_code, response.json()) == (200, {})
    assert fake.dropped_bodies == 1
    assert fake.calls == [] and fake.dropped_calls == 0
    assert fake.requests[0].accepted is False


def test_body_limit_measured_uncompressed(fake: FakeCio) -> None:
    """A gzip body small on the wire but over 500 KB unpacked is dropped."""
    raw = orjson.dumps({"batch": [track(i, properties={"b": "x" * 10_000}) for i in range(60)]})
    data = gzip.compress(raw)
    assert len(data) < 500 * 1024 < len(raw)
    assert post(fake, "/batch", data=data, headers={"Content-Encoding": "gzip"}).status_code == 200
    assert (fake.dropped_bodies, fake.calls) == (1, [])


# Faults


def test_status_fault_with_retry_after(fake: FakeCio) -> None:
    """A status fault answers its status and Retry-After and accepts nothing."""
    fake.inject(Fault(status=429, retry_after="1"))
    response = post(fake, "/batch", {"batch": [track(1)]})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert "error" in response.json()
    assert fake.calls == []
    assert fake.requests[0].fault == "status"


def test_probability_fault_reproducible_with_seed() -> None:
    """The same seed gives the same sequence of fired faults."""

    def statuses(seed: int) -> list[int]:
        with FakeCio(KEY, seed=seed) as fake:
            fake.inject(Fault(status=503, probability=0.5))
            return [post(fake, "/track", track(i)).status_code for i in range(20)]

    first = statuses(7)
    assert first == statuses(7)
    assert set(first) == {200, 503}


def test_fault_count_and_paths_respected(fake: FakeCio) -> None:
    """A fault fires at most ``count`` times and only on its paths."""
    fake.inject(Fault(status=500, count=2, paths=("/batch",)))
    assert post(fake, "/track", track(0)).status_code == 200
    codes = [post(fake, "/batch", {"batch": [track(i)]}).status_code for i in range(1, 5)]
    assert codes == [500, 500, 200, 200]
    assert fake.message_ids == ["m0", "m3", "m4"]


def test_reset_fault_gives_connection_error(fake: FakeCio) -> None:
    """A reset fault makes requests raise ConnectionError and accepts nothing."""
    fake.inject(Fault(kind="reset", count=1))
    with pytest.raises(requests.ConnectionError):
        post(fake, "/batch", {"batch": [track(1)]})
    assert fake.calls == []
    assert [(r.status, r.fault) for r in fake.requests] == [(0, "reset")]
    assert post(fake, "/batch", {"batch": [track(2)]}).status_code == 200


def test_hang_fault_times_out_and_is_not_accepted(fake: FakeCio) -> None:
    """A hang outlasting the client's timeout gives Timeout and accepts nothing."""
    fake.inject(Fault(kind="hang", seconds=5.0))
    with pytest.raises(requests.Timeout):
        post(fake, "/batch", {"batch": [track(1)]}, timeout=0.2)
    assert fake.calls == [] and fake.message_ids == []
    assert [(r.status, r.fault, r.accepted) for r in fake.requests] == [(0, "hang", False)]


def test_stop_is_prompt_with_hang_in_flight() -> None:
    """stop() returns at once even while a request hangs, and the client is released."""
    fake = FakeCio(KEY).start()
    fake.inject(Fault(kind="hang", seconds=60.0))
    errors: list[BaseException] = []

    def send() -> None:
        try:
            post(fake, "/track", track(1), timeout=30.0)
        except requests.RequestException as exc:
            errors.append(exc)

    client = threading.Thread(target=send)
    client.start()
    deadline = time.monotonic() + 5
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 1.0
    client.join(timeout=5)
    assert not client.is_alive() and len(errors) == 1


def test_reset_keeps_faults_and_reseeds() -> None:
    """reset() clears records and counters but keeps faults and replays the seed."""
    with FakeCio(KEY, seed=3) as fake:
        fake.inject(Fault(probability=0.5))
        first = [post(fake, "/track", track(i)).status_code for i in range(10)]
        fake.reset()
        assert (fake.requests, fake.calls, fake.message_ids) == ([], [], [])
        assert [post(fake, "/track", track(i)).status_code for i in range(10)] == first
        fake.clear_faults()
        assert post(fake, "/track", track(99)).status_code == 200


def test_fault_validates_arguments() -> None:
    """Impossible faults are refused when built."""
    with pytest.raises(ValueError, match="probability"):
        Fault(probability=1.5)
    with pytest.raises(ValueError, match="kind"):
        Fault(kind="explode")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tuple"):
        Fault(paths="/batch")  # type: ignore[arg-type]


# Timing and records


def test_latency_applied_after_accepting(fake: FakeCio) -> None:
    """Latency delays the answer by at least its value; calls are already recorded."""
    fake.latency = 0.2
    started = time.monotonic()
    assert post(fake, "/track", track(1)).status_code == 200
    assert time.monotonic() - started >= 0.2
    assert fake.message_ids == ["m1"]


def test_latency_does_not_serialise_requests(fake: FakeCio) -> None:
    """Concurrent requests each wait the latency in parallel, not one after another."""
    fake.latency = 0.2
    threads = [threading.Thread(target=post, args=(fake, "/track", track(i))) for i in range(5)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 0.2 * 5
    assert len(fake.message_ids) == 5


def test_max_requests_in_window(fake: FakeCio) -> None:
    """Counts the busiest window over all requests, faulted ones included."""
    assert fake.max_requests_in_window(1.0) == 0
    fake.inject(Fault(status=503, count=1))
    for i in range(3):
        post(fake, "/track", track(i))
    time.sleep(0.5)
    for i in range(2):
        post(fake, "/track", track(i))
    assert fake.max_requests_in_window(0.2) == 3
    assert fake.max_requests_in_window(10.0) == 5
    with pytest.raises(ValueError):
        fake.max_requests_in_window(0)


def test_keep_alive_reuses_connections(fake: FakeCio) -> None:
    """A requests Session sends many requests over one connection."""
    with requests.Session() as session:
        for i in range(5):
            session.post(fake.url + "/track", json=track(i), auth=(KEY, ""), timeout=5)
    assert fake.connections_opened == 1
    assert len(fake.requests) == 5


def test_keep_calls_false_keeps_ids_only() -> None:
    """With keep_calls=False only message ids, counts and bodiless records are kept."""
    with FakeCio(KEY, keep_calls=False) as fake:
        post(fake, "/batch", {"batch": [track(1), track(2)]})
        assert fake.calls == []
        assert fake.message_ids == ["m1", "m2"]
        assert fake.accepted_calls == 2
        assert fake.requests[0].body == b""


def test_url_and_repr_hide_nothing_secret() -> None:
    """url needs a running fake; the repr never shows the key."""
    fake = FakeCio("sk_us_secret")
    with pytest.raises(RuntimeError):
        _ = fake.url
    with fake:
        assert fake.url.startswith("http://127.0.0.1:") and fake.url.endswith("/v1")
        assert "secret" not in repr(fake)


# pytest plugin


def test_plugin_fixture_and_marker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugin's cio_fake fixture is running and takes options from its marker."""
    # Load the plugin by module name only, whether or not the entry point is installed.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(
        """
        import pytest

        def test_default(cio_fake):
            assert cio_fake.url.endswith("/v1") and cio_fake.latency == 0.0

        @pytest.mark.cio_fake(latency=0.01, keep_calls=False)
        def test_marker(cio_fake):
            assert cio_fake.latency == 0.01 and cio_fake.keep_calls is False
        """
    )
    result = pytester.runpytest_inprocess("-p", "pandas_cio.testing._plugin", "--strict-markers")
    result.assert_outcomes(passed=2)


def test_plugin_client_fixture(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin's cio_client fixture is a pandas_cio.Client bound to the fake."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(
        """
        import pandas_cio

        def test_client(cio_client, cio_fake):
            assert isinstance(cio_client, pandas_cio.Client)
            assert cio_client.base_url == cio_fake.url
        """
    )
    result = pytester.runpytest_inprocess("-p", "pandas_cio.testing._plugin")
    result.assert_outcomes(passed=1)
