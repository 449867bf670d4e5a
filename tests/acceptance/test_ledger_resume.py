"""Acceptance of the ledger: a send killed half-way resumes, incremental re-runs, shared files.

The senders run in subprocesses (a SIGKILL must hit a real process); the fake
service runs in the test process, so it outlives the sender and keeps the
record of what really arrived.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pandas_cio
from pandas_cio.ledger.store import SqliteLedger
from pandas_cio.testing import FakeCio

pytestmark = [
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
    # Both tests start sender processes and wait on them: 3 to 6 s each.
    pytest.mark.slow,
]

ROWS = 100_000
# Small bodies and a slow fake make the 100,000-row send last a few seconds,
# in a few hundred batches, so the kill lands well inside it.
BATCH_BYTES = 40_000
LATENCY = 0.04
WORKERS = 4
# Kill once the sender has recorded this many confirmed rows (about a fifth).
KILL_AFTER_ROWS = 20_000
# Generous bound on waits, so a stuck child fails the test instead of hanging it.
PATIENCE = 60.0

# The sender: reads the frame from parquet, sends it with a ledger, and exits.
SENDER = """
import sys
import pandas as pd
import pandas_cio

url, frame_path, ledger_path, workers, batch_bytes = sys.argv[1:]
frame = pd.read_parquet(frame_path)
with pandas_cio.Client(
    base_url=url, workers=int(workers), max_batch_bytes=int(batch_bytes)
) as client:
    result = frame.cio.identify(user_id="id", client=client, ledger=ledger_path, progress=False)
print({k: v for k, v in result["status"].value_counts().items() if v})
"""


def people(n: int) -> pd.DataFrame:
    """n people with unique ids and a few traits."""
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "id": [f"person-{i:06d}" for i in range(n)],
            "plan": rng.choice(["free", "pro", "team"], n),
            "seats": rng.integers(1, 500, n),
            "country": rng.choice(["DE", "FR", "US", "BR", "JP"], n),
        }
    )


def start_sender(fake: FakeCio, frame_path: Path, ledger_path: Path) -> subprocess.Popen[str]:
    """Start a subprocess that sends the frame at frame_path to the fake with a ledger."""
    env = {**os.environ, "CIO_API_KEY": fake.api_key}
    args = [fake.url, str(frame_path), str(ledger_path), str(WORKERS), str(BATCH_BYTES)]
    return subprocess.Popen(
        [sys.executable, "-c", SENDER, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: object, what: str, process: subprocess.Popen[str]) -> None:
    """Poll until condition() holds; fail with the child's stderr if it exits or stalls."""
    deadline = time.monotonic() + PATIENCE
    while not condition():  # type: ignore[operator]
        if process.poll() is not None:
            pytest.fail(f"the sender exited before {what}: {process.stderr.read()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def settled(fake: FakeCio) -> Counter[str]:
    """Wait until requests a killed sender left behind stop arriving; count received ids."""
    seen, quiet = -1, 0
    while quiet < 5:
        time.sleep(0.02)
        now = fake.accepted_calls
        quiet = quiet + 1 if now == seen else 0
        seen = now
    return Counter(fake.message_ids)


@pytest.fixture
def fake() -> Iterator[FakeCio]:
    """A fake that keeps only message ids (100,000 calls) and answers slowly."""
    with FakeCio(latency=LATENCY, keep_calls=False) as server:
        yield server


def test_killed_send_resumes_without_loss_or_doubles(fake: FakeCio, tmp_path: Path) -> None:
    """SIGKILL mid-send, re-run: every row delivered once, except in-flight batches, same ids."""
    frame = people(ROWS)
    frame_path, ledger_path = tmp_path / "people.parquet", tmp_path / "cio_ledger.sqlite"
    frame.to_parquet(frame_path)

    with SqliteLedger(ledger_path) as watch:
        sender = start_sender(fake, frame_path, ledger_path)
        wait_for(lambda: len(watch) >= KILL_AFTER_ROWS, "batches were confirmed", sender)
        os.kill(sender.pid, signal.SIGKILL)
        sender.wait(timeout=PATIENCE)
        sender.stdout.close()  # type: ignore[union-attr]
        sender.stderr.close()  # type: ignore[union-attr]
    assert sender.returncode == -signal.SIGKILL

    fake.latency = 0.0
    before = settled(fake)
    with SqliteLedger(ledger_path) as ledger:
        recorded = set(ledger.to_frame("identify")["message_id"])
    assert KILL_AFTER_ROWS <= len(recorded) < ROWS
    # The ledger is true: it lists only calls the service received.
    assert recorded <= set(before)
    in_flight = set(before) - recorded  # received, but the confirmation died with the sender
    assert max(before.values()) == 1
    # The bound the README gives: at most the 2 * workers batches the client held.
    with pandas_cio.Client(fake.api_key, base_url=fake.url, max_batch_bytes=BATCH_BYTES) as c:
        planned = frame.cio.identify(user_id="id", client=c, dry_run=True)
    largest = int(planned.groupby("batch").size().max())
    assert len(in_flight) <= 2 * WORKERS * largest

    with pandas_cio.Client(fake.api_key, base_url=fake.url) as client:
        result = frame.cio.identify(user_id="id", client=client, ledger=ledger_path)
    expected = set(result["message_id"])  # content ids: the same in every run
    assert len(expected) == ROWS and recorded <= expected
    statuses = result["status"].value_counts()
    assert statuses["unchanged"] == len(recorded)
    assert statuses["sent"] == ROWS - len(recorded)

    after = Counter(fake.message_ids)
    assert set(after) == expected  # every row delivered
    doubled = {m for m, n in after.items() if n > 1}
    assert doubled <= in_flight  # only the batches in flight at the kill, same messageIds
    assert max(after.values()) <= 2
    with SqliteLedger(ledger_path) as ledger:
        assert set(ledger.to_frame("identify")["message_id"]) == set(after)
        assert len(ledger) == ROWS

    # A second run over the unchanged frame sends nothing.
    requests = len(fake.requests)
    with pandas_cio.Client(fake.api_key, base_url=fake.url) as client:
        again = frame.cio.identify(user_id="id", client=client, ledger=ledger_path)
    assert (again["status"] == "unchanged").all()
    assert len(fake.requests) == requests

    # Changing 1% of the rows sends exactly those rows.
    changed = frame.copy()
    rows = np.random.default_rng(5).choice(ROWS, ROWS // 100, replace=False)
    changed.loc[rows, "seats"] = changed.loc[rows, "seats"] + 1
    fake.reset()
    with pandas_cio.Client(fake.api_key, base_url=fake.url) as client:
        third = changed.cio.identify(user_id="id", client=client, ledger=ledger_path)
    assert sorted(third.index[third["status"] == "sent"]) == sorted(rows)
    assert (third["status"].drop(index=rows) == "unchanged").all()
    assert sorted(fake.message_ids) == sorted(third.loc[rows, "message_id"])
    assert not set(fake.message_ids) & expected


def test_two_processes_share_one_ledger(fake: FakeCio, tmp_path: Path) -> None:
    """Two senders writing one ledger file at the same time both record everything."""
    fake.latency = 0.005
    frame = people(20_000)
    ledger_path = tmp_path / "shared.sqlite"
    halves = [frame.iloc[:12_000], frame.iloc[8_000:]]  # 4,000 rows in both
    senders = []
    for i, half in enumerate(halves):
        path = tmp_path / f"half{i}.parquet"
        half.to_parquet(path)
        senders.append(start_sender(fake, path, ledger_path))
    for sender in senders:
        out, err = sender.communicate(timeout=PATIENCE)
        assert sender.returncode == 0, err
        assert "failed" not in out and "invalid" not in out
    received = set(fake.message_ids)
    expected = set(frame.cio.identify(user_id="id", dry_run=True)["message_id"])
    assert received == expected
    with SqliteLedger(ledger_path) as ledger:
        assert set(ledger.to_frame()["message_id"]) == expected
        check = ledger._connection().execute("PRAGMA integrity_check").fetchone()[0]
    assert check == "ok"
