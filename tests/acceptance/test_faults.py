"""Faults over real HTTP against the local fake: nothing is lost, every row says why.

Each test injects failures into :class:`~pandas_cio.testing.FakeCio` (error
statuses, Retry-After in seconds and as an HTTP date, connection resets,
requests that hang past the client's timeout, a refused key) or points the
client at a server that is not there, and then checks the result frame
against what the server recorded: a row is ``sent`` exactly when the server
accepted its call, and ``failed`` with a readable reason otherwise.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import pandas as pd
import pytest
from frame_cases import client_at, client_for, people
from loopback import fails_after

import pandas_cio
from pandas_cio.outcome.progress import Progress
from pandas_cio.testing import FakeCio, Fault, messy

# Small bodies make a hundred requests or more from a few thousand rows.
BATCH_BYTES = 5_000
# A watchdog: a send that has not returned by then is a hang, and fails the test.
HANG_SECONDS = 60


def assert_sent_exactly_recorded(result: pd.DataFrame, fake: FakeCio) -> None:
    """Sent rows are the accepted calls; every other row is failed and says why."""
    sent = result[result["status"] == "sent"]
    assert set(sent["message_id"]) == set(fake.message_ids)
    failed = result[result["status"] == "failed"]
    assert failed["error"].notna().all() and (failed["error"].str.len() > 0).all()
    assert set(result["status"].astype(str)) <= {"sent", "failed"}


def assert_attempts_counted(result: pd.DataFrame, fake: FakeCio) -> None:
    """Each batch's attempts add up to the requests the server saw, retries included."""
    per_batch = result.dropna(subset=["batch"]).groupby("batch")["attempts"].first()
    assert int(per_batch.sum()) == len(fake.requests) == result.attrs["cio"]["requests"]
    assert result.attrs["cio"]["retries"] == len(fake.requests) - len(per_batch)


@pytest.fixture
def fake() -> Iterator[FakeCio]:
    """A fresh fake service for each test."""
    with FakeCio(seed=11) as server:
        yield server


@pytest.fixture
def watchdog() -> Iterator[None]:
    """Fail the test, instead of hanging CI, if the code under test hangs."""
    with fails_after(HANG_SECONDS, "the send"):
        yield


@pytest.fixture
def thread_errors() -> Iterator[list[threading.ExceptHookArgs]]:
    """Collect exceptions that escape any thread (there must be none)."""
    seen: list[threading.ExceptHookArgs] = []
    previous = threading.excepthook
    threading.excepthook = seen.append
    try:
        yield seen
    finally:
        threading.excepthook = previous


# A flaky service


def test_flaky_service_delivers_every_row(fake: FakeCio, watchdog: None) -> None:
    """30% of requests get 503/500/429 (Retry-After in seconds, as a date, absent) or a reset."""
    fake.inject(*messy.flaky(rate=0.3))
    frame = people(3_000)
    with client_for(fake, max_batch_bytes=BATCH_BYTES, retries=12, workers=6) as client:
        result = frame.cio.identify(user_id="id", client=client)
    assert (result["status"] == "sent").all()
    assert_sent_exactly_recorded(result, fake)
    assert len(fake.message_ids) == len(frame)  # each call accepted once
    assert_attempts_counted(result, fake)
    faults = [r for r in fake.requests if r.fault is not None]
    # About 30% of requests failed, each kind of failure at least once.
    assert 0.2 < len(faults) / len(fake.requests) < 0.4
    assert {r.status for r in faults} >= {0, 429, 500, 503}
    assert result["attempts"].max() > 1


def test_requests_hanging_past_the_timeout_are_retried(fake: FakeCio, watchdog: None) -> None:
    """Requests held past the read timeout are retried; rows end sent, attempts counted."""
    fake.inject(*messy.hangs(rate=0.2, seconds=2.0))
    frame = people(600)
    with client_for(fake, max_batch_bytes=BATCH_BYTES, timeout=(1.0, 0.2), workers=8) as client:
        result = frame.cio.identify(user_id="id", client=client)
    assert (result["status"] == "sent").all()
    assert_sent_exactly_recorded(result, fake)
    assert_attempts_counted(result, fake)
    assert any(r.fault == "hang" for r in fake.requests)


def test_retries_run_out_marks_exactly_those_batches_failed(fake: FakeCio) -> None:
    """Batches failing after all retries are failed, row for row; the others are sent."""
    fake.inject(Fault(status=503, probability=0.5), *messy.resets(rate=0.2))
    frame = people(2_000)
    with client_for(fake, max_batch_bytes=BATCH_BYTES, retries=1, workers=4) as client:
        result = frame.cio.identify(user_id="id", client=client)
    assert_sent_exactly_recorded(result, fake)
    assert_attempts_counted(result, fake)
    # A batch's rows share one fate: no batch is partly sent.
    fates = result.groupby("batch", observed=True)["status"].nunique()
    assert (fates == 1).all()
    failed = result[result["status"] == "failed"]
    assert len(failed) > 0 and (result["status"] == "sent").any()
    assert (failed["attempts"] == 2).all()
    reasons = set(failed["error"])
    assert "HTTP 503 after 2 attempts" in reasons
    # The other failures are resets, named as such.
    readable = re.compile(r"HTTP 503 after 2 attempts|ProtocolError|ConnectionError|reset|aborted")
    assert all(readable.search(r) for r in reasons), reasons
    assert set(failed["message_id"]).isdisjoint(fake.message_ids)

    # Re-sending only the failed rows delivers them, with the same messageIds.
    fake.clear_faults()
    with client_for(fake, max_batch_bytes=BATCH_BYTES) as client:
        again = frame[result["status"] == "failed"].cio.identify(user_id="id", client=client)
    assert (again["status"] == "sent").all()
    pd.testing.assert_series_equal(again["message_id"], failed["message_id"])
    assert len(fake.message_ids) == len(set(fake.message_ids)) == len(frame)


def test_one_failing_batch_fails_only_its_own_rows(fake: FakeCio) -> None:
    """With one worker, the first batch meets every 500 the fault has; it alone fails."""
    fake.inject(*messy.outage(500, count=3))
    frame = people(1_000)
    with client_for(fake, max_batch_bytes=BATCH_BYTES, retries=2, workers=1) as client:
        result = frame.cio.identify(user_id="id", client=client)
    failed = result["status"] == "failed"
    assert (failed == (result["batch"] == 0)).all()
    assert result.loc[failed, "error"].eq("HTTP 500 after 3 attempts").all()
    assert result.loc[failed, "http_status"].eq(500).all()
    assert_sent_exactly_recorded(result, fake)
    with client_for(fake, max_batch_bytes=BATCH_BYTES) as client:
        again = frame[failed].cio.identify(user_id="id", client=client)
    pd.testing.assert_series_equal(again["message_id"], result.loc[failed, "message_id"])
    assert set(fake.message_ids) == set(result["message_id"])


# A service that is not there


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"http://127.0.0.1:{unused_port()}/v1", "NewConnectionError"),
        ("https://nonexistent.invalid/v1", "NameResolutionError"),
    ],
    ids=["connection-refused", "dns-failure"],
)
def test_unreachable_service_fails_every_row_readably(
    url: str,
    reason: str,
    watchdog: None,
    thread_errors: list[threading.ExceptHookArgs],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Connection refused or a name that does not resolve: every row failed, no traceback."""
    frame = people(120)  # two batches: each failed lookup can take a while
    with client_at(
        url, "pk_us_unreachable", max_batch_bytes=BATCH_BYTES, retries=2, workers=4
    ) as client:
        result = frame.cio.identify(user_id="id", client=client)
    assert (result["status"] == "failed").all()
    assert result["error"].str.startswith(reason).all()
    assert (result["attempts"] == 3).all()
    assert result["http_status"].isna().all()
    assert thread_errors == []
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert not [r for r in caplog.records if r.exc_info]


# A refused key


def test_wrong_key_stops_at_once(fake: FakeCio) -> None:
    """401 on every request: AuthenticationError, nothing accepted, few requests made."""
    frame = people(3_000)
    workers = 4
    with (
        client_at(fake.url, "not-the-key", max_batch_bytes=BATCH_BYTES, workers=workers) as client,
        pytest.raises(pandas_cio.AuthenticationError) as info,
    ):
        frame.cio.identify(user_id="id", client=client)
    result = info.value.result
    assert (result["status"] == "failed").all()
    assert fake.message_ids == []
    # Only requests already handed to workers went out, not the frame's 100+ batches.
    assert len(fake.requests) <= 2 * workers
    assert all(r.status == 401 for r in fake.requests)
    assert result["error"].str.contains("refused the API key").all()


@pytest.mark.parametrize("status", [401, 403])
def test_key_refused_midway_keeps_the_rows_already_sent(
    fake: FakeCio, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """A key refused after 5 batches: the error carries the partial result, sent rows stay sent."""
    seen = {"batches": 0}

    def refuse_after_five(self: Progress, rows: int) -> None:
        seen["batches"] += 1
        if seen["batches"] == 5:
            fake.inject(*messy.refused(status))

    monkeypatch.setattr(Progress, "update", refuse_after_five)
    # Latency keeps accepted requests in flight when the refusal arrives.
    fake.latency = 0.02
    frame = people(3_000)
    with (
        client_for(fake, max_batch_bytes=BATCH_BYTES, workers=4) as client,
        pytest.raises(pandas_cio.AuthenticationError) as info,
    ):
        frame.cio.identify(user_id="id", client=client)
    result = info.value.result
    assert result.index.equals(frame.index)
    assert_sent_exactly_recorded(result, fake)
    assert (result["status"] == "sent").sum() >= 5 * 10
    assert (result["http_status"] == status).any()
    refused = [r for r in fake.requests if r.status == status]
    # At most the requests already handed to the 4 workers (2 each) plus one
    # refill for each accepted request still in flight when the key was refused.
    assert 1 <= len(refused) <= 3 * 4
