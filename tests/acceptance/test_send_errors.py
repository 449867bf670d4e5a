"""Every way a send can end early ends with a SendError carrying the exact partial result.

Refused keys and Ctrl-C have their own tests (test_faults.py, test_interrupt.py);
these cover a ledger that fails mid-send, the client's circuit breaker and
SIGTERM. Each checks the promise: the rows the result calls ``sent`` are
exactly the rows the fake recorded, and every other row says why it is not.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import pandas_cio
from pandas_cio.cli import main as cli
from pandas_cio.delivery.client import Client
from pandas_cio.delivery.transport import CircuitOpen
from pandas_cio.ledger.store import LedgerEntry, SqliteLedger
from pandas_cio.outcome.progress import Progress
from pandas_cio.testing import FakeCio

SECRET = "user:secret-person@example.com"
PATIENCE = 60.0


def frame_of(n: int) -> pd.DataFrame:
    """Distinct people (distinct messageIds)."""
    return pd.DataFrame(
        {"id": [f"user-{i:06d}" for i in range(n)], "plan": ["pro", "free"] * (n // 2)}
    )


def assert_exact(result: pd.DataFrame, fake: FakeCio, frame: pd.DataFrame) -> None:
    """One row per input row; sent rows are exactly the recorded ones; the rest say why."""
    assert len(result) == len(frame) and result.index.equals(frame.index)
    sent = result.loc[result["status"] == "sent", "message_id"]
    assert sorted(sent) == sorted(fake.message_ids)
    others = result[result["status"] != "sent"]
    assert others["error"].notna().all()


class BrokenLedger:
    """A ledger in memory whose lookups (or records) raise after a number of calls."""

    def __init__(
        self, fail_lookup: int | None = None, fail_record: int | None = None,
        error: Callable[[], Exception] = lambda: pandas_cio.LedgerError("disk I/O error"),
    ) -> None:  # fmt: skip
        self.fail_lookup, self.fail_record, self.error = fail_lookup, fail_record, error
        self.lookups = self.records = 0
        self.ids: set[str] = set()

    def delivered(self, operation: str, message_ids: Sequence[str]) -> set[str]:
        """Fail on the chosen lookup."""
        self.lookups += 1
        if self.lookups == self.fail_lookup:
            raise self.error()
        return {m for m in message_ids if m in self.ids}

    def latest(self, operation: str, keys: Sequence[str]) -> dict[str, str]:
        """Fail on the chosen lookup."""
        self.lookups += 1
        if self.lookups == self.fail_lookup:
            raise self.error()
        return {}

    def record(self, operation: str, entries: Sequence[LedgerEntry]) -> None:
        """Fail on the chosen record."""
        self.records += 1
        if self.records == self.fail_record:
            raise self.error()
        self.ids.update(e.message_id for e in entries)

    def flush(self) -> None:
        """Nothing to fold."""


@pytest.fixture
def fake() -> Iterator[FakeCio]:
    """A fake with a little latency, so batches are in flight when the send stops."""
    with FakeCio(latency=0.005) as server:
        yield server


def client_for(fake: FakeCio, **options: Any) -> Client:
    """Small bodies: many batches from a modest frame."""
    options.setdefault("max_batch_bytes", 40_000)
    return Client(fake.api_key, base_url=fake.url, **options)


def test_ledger_lookup_failing_mid_send_keeps_every_status(fake: FakeCio) -> None:
    """The fourth lookup (one a slice: 2,000, 4,000, 8,000 rows before) fails: LedgerSendError."""
    frame = frame_of(30_000)
    with client_for(fake) as client, pytest.raises(pandas_cio.LedgerSendError) as info:
        frame.cio.identify(user_id="id", client=client, ledger=BrokenLedger(fail_lookup=4))
    error = info.value
    assert isinstance(error, pandas_cio.LedgerError) and isinstance(error, pandas_cio.SendError)
    assert "disk I/O error" in str(error)
    result = error.result
    assert_exact(result, fake, frame)
    assert (result["status"] == "sent").sum() >= 10_000
    unsent = result[result["status"] != "sent"]
    assert len(unsent) >= 10_000  # the rows of the failed lookup were never sent
    assert unsent["error"].str.contains("ledger").all()


def test_foreign_exception_of_a_custom_ledger_stops_the_send_without_its_text(
    fake: FakeCio,
) -> None:
    """A store raising RuntimeError (quoting a key) stops the send; its text is left out."""
    frame = frame_of(20_000)
    ledger = BrokenLedger(fail_lookup=2, error=lambda: RuntimeError(f"no row for {SECRET}"))
    with client_for(fake) as client, pytest.raises(pandas_cio.LedgerSendError) as info:
        frame.cio.identify(user_id="id", client=client, ledger=ledger)
    assert "RuntimeError" in str(info.value) and SECRET not in str(info.value)
    assert isinstance(info.value.__cause__.__cause__, RuntimeError)  # type: ignore[union-attr]
    result = info.value.result
    assert_exact(result, fake, frame)
    assert not result["error"].str.contains(SECRET, regex=False).any()


def test_record_raising_outside_the_contract_stops_the_send(fake: FakeCio) -> None:
    """A record() raising RuntimeError stops the send; the batch it was about is still sent."""
    frame = frame_of(20_000)
    ledger = BrokenLedger(fail_record=3, error=lambda: RuntimeError("connection lost"))
    with client_for(fake) as client, pytest.raises(pandas_cio.LedgerSendError) as info:
        frame.cio.identify(user_id="id", client=client, ledger=ledger)
    result = info.value.result
    assert_exact(result, fake, frame)
    assert (result["status"] == "sent").sum() >= 3 * 200


def test_a_damaged_ledger_file_stops_the_send_with_statuses(fake: FakeCio, tmp_path: Path) -> None:
    """A ledger file that is not a database: LedgerSendError, nothing sent, every row failed."""
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    frame = frame_of(2_000)
    with client_for(fake) as client, pytest.raises(pandas_cio.LedgerSendError) as info:
        frame.cio.identify(user_id="id", client=client, ledger=path)
    assert (info.value.result["status"] == "failed").all()
    assert fake.message_ids == []


def breaker_after(
    monkeypatch: pytest.MonkeyPatch, batches: int, reason: str = "the service looks down"
) -> None:
    """Make Client.send_batches raise CircuitOpen after yielding ``batches`` outcomes."""
    original = Client.send_batches

    def send_batches(self: Client, *args: Any, **kwargs: Any) -> Iterator[Any]:
        inner = original(self, *args, **kwargs)
        try:
            for done, outcome in enumerate(inner, 1):
                yield outcome
                if done == batches:
                    raise CircuitOpen(reason)
        finally:
            inner.close()

    monkeypatch.setattr(Client, "send_batches", send_batches)


def test_circuit_breaker_ends_with_service_unavailable(
    fake: FakeCio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CircuitOpen from the client: ServiceUnavailableError, unsent rows failed with the reason."""
    breaker_after(monkeypatch, 5, "the service looked down: 5 batches in a row failed")
    frame = frame_of(20_000)
    with client_for(fake) as client, pytest.raises(pandas_cio.ServiceUnavailableError) as info:
        frame.cio.identify(user_id="id", client=client)
    assert "looked down" in str(info.value)
    result = info.value.result
    assert_exact(result, fake, frame)
    failed = result[result["status"] == "failed"]
    assert len(failed) > 0
    assert failed["error"].str.contains("looked down").all()


def test_sigterm_handler_is_installed_for_the_send_and_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """During a send SIGTERM raises in the main thread; afterwards the default is back."""
    seen: list[Any] = []
    monkeypatch.setattr(
        Progress, "update", lambda self, rows: seen.append(signal.getsignal(signal.SIGTERM))
    )
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    frame_of(10).cio.identify(user_id="id", dry_run=True)
    assert seen and all(callable(h) and h is not signal.SIG_DFL for h in seen)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_an_application_sigterm_handler_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler the application installed stays in place during the send."""

    def own(signum: int, frame: Any) -> None:
        """The application's handler."""

    seen: list[Any] = []
    monkeypatch.setattr(
        Progress, "update", lambda self, rows: seen.append(signal.getsignal(signal.SIGTERM))
    )
    previous = signal.signal(signal.SIGTERM, own)
    try:
        frame_of(10).cio.identify(user_id="id", dry_run=True)
        assert seen == [own] and signal.getsignal(signal.SIGTERM) is own
    finally:
        signal.signal(signal.SIGTERM, previous)


SENDER = """
import json, signal, sys
import pandas as pd
import pandas_cio

url, = sys.argv[1:]
frame = pd.DataFrame({"id": [f"user-{i:06d}" for i in range(8_000)], "plan": "pro"})
with pandas_cio.Client(base_url=url, max_batch_bytes=3_000, workers=4) as client:
    try:
        frame.cio.identify(user_id="id", client=client, progress=False)
        print(json.dumps({"finished": True}))
    except pandas_cio.TerminatedSendError as exc:
        result = exc.result
        print(json.dumps({
            "sent": result.loc[result["status"] == "sent", "message_id"].tolist(),
            "statuses": sorted(set(result["status"].astype(str))),
            "errors": sorted(set(result["error"].dropna())),
            "restored": signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,
        }))
"""


def terminate_when(process: subprocess.Popen[str], fake: FakeCio, requests: int) -> None:
    """Send SIGTERM once the fake has seen ``requests`` requests."""
    deadline = time.monotonic() + PATIENCE
    while len(fake.requests) < requests:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the sender ended or stalled first: {process.communicate()}")
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)


def test_sigterm_during_a_send_raises_terminated_with_the_exact_result() -> None:
    """kill PID mid-send: TerminatedSendError, sent rows exactly those the fake recorded."""
    with FakeCio(latency=0.02) as fake:
        env = {**os.environ, "CIO_API_KEY": fake.api_key}
        child = subprocess.Popen(
            [sys.executable, "-c", SENDER, fake.url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        terminate_when(child, fake, 12)
        out, err = child.communicate(timeout=PATIENCE)
        assert child.returncode == 0, err
        report = json.loads(out)
        assert sorted(report["sent"]) == sorted(fake.message_ids)
    assert 0 < len(report["sent"]) < 8_000
    assert report["statuses"] == ["failed", "sent"]
    assert any("SIGTERM" in e for e in report["errors"])
    assert report["restored"]


def cli_main(
    argv: list[str], key: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run cli.main in this process; return the exit status, stdout and stderr."""
    monkeypatch.setenv("CIO_API_KEY", key)
    monkeypatch.delenv("CIO_REGION", raising=False)
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_ledger_failure_mid_send_writes_out_and_exits_3(
    fake: FakeCio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A ledger lookup failing mid-send: report printed, --out written, exit 3."""
    source, out = tmp_path / "people.parquet", tmp_path / "out.csv"
    frame_of(30_000).to_parquet(source)
    lookups = {"n": 0}
    original = SqliteLedger.latest

    def failing_latest(self: SqliteLedger, operation: str, keys: Sequence[str]) -> dict[str, str]:
        lookups["n"] += 1
        if lookups["n"] == 4:  # one lookup a slice: after 14,000 rows
            raise pandas_cio.LedgerError("cannot read the ledger: database disk image is malformed")
        return original(self, operation, keys)

    monkeypatch.setattr(SqliteLedger, "latest", failing_latest)
    ledger = tmp_path / "ledger.sqlite"
    argv = ["identify", str(source), "--user-id", "id", "--ledger", str(ledger)]
    argv += ["--out", str(out), "--base-url", fake.url]
    status, printed, err = cli_main(argv, fake.api_key, monkeypatch, capsys)
    assert status == cli.EXIT_LEDGER == 3
    assert "malformed" in err and "ledger" in err
    assert "rows sent" in printed
    written = pd.read_csv(out)
    assert len(written) == 30_000
    sent = written.loc[written["status"] == "sent", "message_id"]
    assert sorted(sent) == sorted(fake.message_ids) and len(sent) >= 10_000


def test_cli_circuit_breaker_writes_out_and_exits_4(
    fake: FakeCio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The service looked down: report, --out and --rejects written, exit 4."""
    source, out, rejects = tmp_path / "people.csv", tmp_path / "out.csv", tmp_path / "rej.csv"
    frame_of(20_000).to_csv(source, index=False)
    breaker_after(monkeypatch, 1, "the service looked down")
    argv = ["identify", str(source), "--user-id", "id", "--workers", "1"]
    argv += ["--out", str(out), "--rejects", str(rejects), "--base-url", fake.url]
    status, printed, err = cli_main(argv, fake.api_key, monkeypatch, capsys)
    assert status == cli.EXIT_SERVICE_DOWN == 4
    assert "looked down" in err and "rows sent" in printed
    # The breaker's reason stands alone on stderr, not behind "sending stopped:".
    assert "sending stopped: the service looked down" not in err
    written = pd.read_csv(out)
    assert sorted(written.loc[written["status"] == "sent", "message_id"]) == sorted(
        fake.message_ids
    )
    assert len(pd.read_csv(rejects)) == (written["status"] != "sent").sum() > 0


def test_cli_sigterm_writes_out_and_exits_143(tmp_path: Path) -> None:
    """SIGTERM to the command mid-send: the report, --out written, exit status 143."""
    source, out = tmp_path / "people.csv", tmp_path / "out.csv"
    frame_of(40_000).to_csv(source, index=False)
    with FakeCio(latency=0.3) as fake:
        env = {**os.environ, "CIO_API_KEY": fake.api_key}
        command = [sys.executable, "-m", "pandas_cio", "identify", str(source), "--user-id", "id"]
        command += ["--workers", "1", "--out", str(out), "--base-url", fake.url]
        child = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        terminate_when(child, fake, 2)
        printed, err = child.communicate(timeout=PATIENCE)
        assert child.returncode == cli.EXIT_TERMINATED == 143, err
        received = fake.message_ids
    assert "SIGTERM" in err and "rows sent" in printed
    written = pd.read_csv(out)
    assert len(written) == 40_000
    sent = written.loc[written["status"] == "sent", "message_id"]
    assert sorted(sent) == sorted(received) and 0 < len(sent) < 40_000
