"""Ctrl-C during a long send: the workers stop and what was sent is not lost.

The interrupt is raised deterministically in the main thread, either from the
progress bar's update after a number of batches (exactly where a user's
Ctrl-C lands while the pipeline records outcomes) or with a real SIGINT sent
to the main thread once the fake has seen some requests (wherever the main
thread happens to be, blocking waits included, as with Ctrl-C in a terminal). Each test then
checks the promise: the rows the result calls ``sent`` are exactly the rows the
server recorded, and no worker thread is left running.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import pandas as pd
import pytest
from frame_cases import client_for

import pandas_cio
from pandas_cio.outcome.progress import Progress
from pandas_cio.testing import FakeCio, Fault

ROWS = 4_000
# Small bodies make many requests from a modest frame.
BATCH_BYTES = 3_000


def frame_of(n: int = ROWS) -> pd.DataFrame:
    """A people frame with distinct rows (so distinct messageIds)."""
    return pd.DataFrame({"id": [f"user-{i}" for i in range(n)], "plan": ["pro", "free"] * (n // 2)})


def ctrl_c() -> None:
    """Send SIGINT to the main thread, as a terminal's Ctrl-C does.

    ``ctrl_c()`` only sets a flag, which a main thread blocked
    in a wait does not see; a real signal interrupts the wait.
    """
    main = threading.main_thread().ident
    assert main is not None
    signal.pthread_kill(main, signal.SIGINT)


def worker_threads() -> list[threading.Thread]:
    """The client's worker threads still alive (the fake's own thread excluded)."""
    return [t for t in threading.enumerate() if t.name.startswith("pandas_cio_")]


def assert_sent_is_exactly_recorded(result: pd.DataFrame, fake: FakeCio) -> None:
    """Rows marked sent are the rows the server accepted, no more and no fewer."""
    sent = set(result.loc[result["status"] == "sent", "message_id"])
    assert sent == set(fake.message_ids)
    assert result["status"].notna().all()
    assert set(result["status"].astype(str)) <= {"sent", "failed"}
    failed = result[result["status"] == "failed"]
    assert failed["error"].notna().all()


@pytest.fixture
def fake() -> Iterator[FakeCio]:
    """A fake with a little latency, so requests are in flight when the interrupt comes."""
    with FakeCio(latency=0.02) as server:
        yield server


def test_interrupt_after_some_batches_keeps_every_sent_row(
    fake: FakeCio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after 10 batches: the error's .result says sent for exactly the recorded rows."""
    seen = {"batches": 0}

    def interrupt_after_ten(self: Progress, rows: int) -> None:
        seen["batches"] += 1
        if seen["batches"] == 10:
            raise KeyboardInterrupt

    monkeypatch.setattr(Progress, "update", interrupt_after_ten)
    frame = frame_of()
    with client_for(fake, retries=3, max_batch_bytes=BATCH_BYTES, workers=8) as client:
        with pytest.raises(pandas_cio.InterruptedSendError) as info:
            frame.cio.identify(user_id="id", client=client)
        assert isinstance(info.value, KeyboardInterrupt)
        assert worker_threads() == []
        requests_at_return = len(fake.requests)
    result = info.value.result
    assert len(result) == len(frame) and result.index.equals(frame.index)
    assert_sent_is_exactly_recorded(result, fake)
    assert result.loc[result["status"] == "sent", "batch"].nunique() >= 10
    assert (result["status"] == "failed").sum() > 0
    assert result.loc[result["status"] == "failed", "error"].str.contains("not").all()
    # The workers are gone: nothing more reaches the server afterwards.
    time.sleep(0.1)
    assert len(fake.requests) == requests_at_return < ROWS


def test_interrupt_main_anywhere_keeps_every_sent_row(fake: FakeCio) -> None:
    """A real interrupt of the main thread, wherever it is, loses no sent row."""
    frame = frame_of(8_000)
    fake.latency = 0.05

    def interrupt_when_busy() -> None:
        while len(fake.requests) < 12:
            time.sleep(0.001)
        ctrl_c()

    trigger = threading.Thread(target=interrupt_when_busy, daemon=True)
    with client_for(fake, retries=3, max_batch_bytes=BATCH_BYTES, workers=8) as client:
        trigger.start()
        with pytest.raises(pandas_cio.InterruptedSendError) as info:
            frame.cio.identify(user_id="id", client=client)
        trigger.join()
        assert worker_threads() == []
    result = info.value.result
    assert_sent_is_exactly_recorded(result, fake)
    assert 0 < (result["status"] == "sent").sum() < len(frame)


def test_interrupt_wakes_workers_waiting_to_retry(fake: FakeCio) -> None:
    """Workers sleeping on a 30 s Retry-After stop at once: one attempt per batch, no retry."""
    fake.latency = 0.0
    fake.inject(Fault(status=503, retry_after="30"))
    frame = frame_of(400)

    def interrupt_when_all_refused() -> None:
        while len(fake.requests) < 4:
            time.sleep(0.001)
        time.sleep(0.05)  # let the four workers reach their Retry-After wait
        ctrl_c()

    trigger = threading.Thread(target=interrupt_when_all_refused, daemon=True)
    # adaptive=False: four requests in flight from the start. With the tuned
    # limit, the first 503s halve it on a busy machine before all four went,
    # so fewer workers would be waiting when Ctrl-C comes.
    with client_for(
        fake, retries=3, max_batch_bytes=BATCH_BYTES, workers=4, adaptive=False
    ) as client:
        trigger.start()
        with pytest.raises(pandas_cio.InterruptedSendError) as info:
            frame.cio.identify(user_id="id", client=client)
        trigger.join()
        assert worker_threads() == []
    result = info.value.result
    assert (result["status"] == "failed").all()
    assert fake.message_ids == []
    # Had a worker slept through the stop, it would have retried after 30 s.
    assert len(fake.requests) == 4
    assert set(result["attempts"]) <= {0, 1}
    assert result.attrs["cio"]["retries"] == 0


def test_resending_what_was_not_sent_completes_the_job(
    fake: FakeCio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """df[result.status != 'sent'] from the interrupted result re-sends the rest, same ids."""
    calls = {"n": 0}

    def interrupt_on_third(self: Progress, rows: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt

    frame = frame_of(2_000)
    with client_for(fake, retries=3, max_batch_bytes=BATCH_BYTES) as client:
        with monkeypatch.context() as patch:
            patch.setattr(Progress, "update", interrupt_on_third)
            with pytest.raises(pandas_cio.SendError) as info:
                frame.cio.identify(user_id="id", client=client)
        first = info.value.result
        rest = frame[first["status"] != "sent"]
        second = rest.cio.identify(user_id="id", client=client)
    assert (second["status"] == "sent").all()
    encoded = first.loc[rest.index, "message_id"].notna()
    assert encoded.any()
    assert (second.loc[encoded, "message_id"] == first.loc[rest.index][encoded]["message_id"]).all()
    # Every row is on the server exactly once: nothing lost, nothing sent twice.
    assert len(fake.message_ids) == len(set(fake.message_ids)) == len(frame)
