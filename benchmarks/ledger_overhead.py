"""What a delivery ledger costs: time and file size at 1,000,000 rows.

Two tables, both for ``identify`` over a deterministic people frame:

1. The ledger's own work, stage by stage, without a network: looking up every
   row before sending (keys from the id column, one query per slice of
   20,000 rows, masks to drop the unchanged ones), and
   recording every confirmed batch (one transaction each), for a first run into
   an empty ledger, a second run where nothing changed, and a run with 1% of
   the rows changed. Encoding the same rows is timed alongside, for scale. The
   file size after the first run is printed under the table.
2. Whole sends (``df.cio.identify``) to the library's fake service running in
   a separate process with no latency, without a ledger and with one, so the
   overhead is seen next to everything else a send does.

Run it as::

    python benchmarks/ledger_overhead.py              # 1,000,000 rows, a minute or two
    python benchmarks/ledger_overhead.py --rows 100000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd

import pandas_cio
from pandas_cio.catalogue.operations import get_operation
from pandas_cio.ledger import LedgerRun, SqliteLedger
from pandas_cio.ledger.keys import KEY_FIELDS
from pandas_cio.outcome.results import ResultBuilder
from pandas_cio.prepare.batching import Calls, pack_runs
from pandas_cio.prepare.encoding import Encoder
from pandas_cio.prepare.plan import make_plan

API_KEY = "bench-key"
MB = 1024 * 1024
CHANGED_SHARE = 0.01
SLICE_ROWS = 20_000  # as pandas_cio.pipeline.send.DEFAULT_CHUNK_ROWS
T = TypeVar("T")
Run = tuple[np.ndarray, Calls, Any, dict[tuple[str, ...], np.ndarray]]


def people(rows: int, seed: int = 5) -> pd.DataFrame:
    """A people frame: an id and six traits of the usual kinds, the same for the same seed."""
    rng = np.random.default_rng(seed)
    number = pd.Series(np.arange(rows)).astype("str")
    return pd.DataFrame(
        {
            "user_id": "u" + number.str.zfill(8),
            "email": "person" + number + "@example.com",
            "plan": np.array(["free", "starter", "pro", "enterprise"])[rng.integers(0, 4, rows)],
            "signup_at": pd.to_datetime("2020-01-01", utc=True)
            + pd.to_timedelta(rng.integers(0, 5 * 365 * 86_400, rows), unit="s"),
            "ltv": np.round(rng.gamma(2.0, 150.0, rows), 2),
            "is_active": rng.random(rows) < 0.8,
            "country": np.array(["US", "DE", "FR", "BR", "JP"])[rng.integers(0, 5, rows)],
        }
    )


def change_some(frame: pd.DataFrame, share: float, seed: int = 9) -> pd.DataFrame:
    """Return a copy with ``share`` of the rows given a different ``ltv``."""
    changed = frame.copy()
    rows = np.random.default_rng(seed).choice(len(frame), int(len(frame) * share), replace=False)
    changed.loc[rows, "ltv"] = changed.loc[rows, "ltv"] + 1
    return changed


class Timing(NamedTuple):
    """Wall-clock and CPU seconds of this process (CPU is steadier on a busy machine)."""

    wall: float
    cpu: float

    def __add__(self, other: object) -> Timing:
        assert isinstance(other, Timing)
        return Timing(self.wall + other.wall, self.cpu + other.cpu)


def timed(work: Callable[[], T]) -> tuple[T, Timing]:
    """Run work once; return its value and how long it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    return value, Timing(time.perf_counter() - wall, time.process_time() - cpu)


def encoded(frame: pd.DataFrame) -> tuple[list[Run], Timing]:
    """Encode every row as identify calls, slice by slice, with each slice's ids and key fields."""
    plan = make_plan(get_operation("identify"), frame, {"user_id": "user_id"}, None)

    def work() -> list[Run]:
        encoder, runs = Encoder(plan, fields=KEY_FIELDS["identify"]), []
        for start in range(0, len(frame), SLICE_ROWS):
            part = encoder.encode(frame, np.arange(start, min(len(frame), start + SLICE_ROWS)))
            positions = np.asarray(part.positions, dtype=np.int64)
            runs.append((positions, Calls.of(part.calls), part.ids, part.fields))
        return runs

    return timed(work)


def ledger_pass(path: Path, runs: list[Run], rows: int) -> dict[str, Any]:
    """One send's ledger work: look every slice up, record each batch, flush at the end.

    Returns
    -------
    dict
        Timings of ``lookup``, ``record`` and ``flush``; ``passed`` calls and
        ``batches`` recorded.
    """
    builder = ResultBuilder(pd.RangeIndex(rows), "identify")
    sync = LedgerRun(str(path), "identify")
    try:
        passed, lookup = timed(lambda: list(sync.changed_runs(iter(runs), builder)))
        batches = list(pack_runs(iter(passed)))

        def record() -> None:
            for batch in batches:
                sync.record(batch.positions)

        _, write = timed(record)
    finally:
        _, flush = timed(sync.close)
    return {
        "lookup": lookup,
        "record": write,
        "flush": flush,
        "passed": sum(len(p) for p, _ in passed),
        "batches": len(batches),
    }


def file_bytes(path: Path) -> int:
    """Size of the ledger file and its WAL and shared-memory files."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def stage_table(frame: pd.DataFrame, directory: Path) -> tuple[list[list[str]], int, int]:
    """Time the ledger's stages; return the table rows, the file size and rows recorded."""
    rows = len(frame)
    path = directory / "stages.sqlite"
    calls, encode = encoded(frame)
    changed_calls, _ = encoded(change_some(frame, CHANGED_SHARE))
    table: list[list[str]] = []

    def add(what: str, took: Timing, note: str) -> None:
        table.append(
            [
                what,
                f"{took.wall:.2f}",
                f"{took.cpu:.2f}",
                f"{took.cpu / rows * 1e6:.2f}",
                f"{took.cpu / encode.cpu:.2f}",
                note,
            ]
        )

    add("encode (no ledger, for scale)", encode, f"{rows:,} calls")
    first = ledger_pass(path, calls, rows)
    add("first run: look up", first["lookup"], f"{first['passed']:,} to send (empty ledger)")
    add("first run: record", first["record"], f"{first['batches']:,} transactions")
    add("first run: flush", first["flush"], "journal merged into the indexes")
    size = file_bytes(path)
    again = ledger_pass(path, calls, rows)
    add("unchanged run: look up", again["lookup"], f"{again['passed']:,} to send")
    some = ledger_pass(path, changed_calls, rows)
    add("1% changed: look up", some["lookup"], f"{some['passed']:,} to send")
    add(
        "1% changed: record + flush",
        some["record"] + some["flush"],
        f"{some['batches']:,} transaction(s) + merge",
    )
    with SqliteLedger(path) as ledger:
        recorded = len(ledger)
    return table, size, recorded


class FakeService:
    """The library's fake service in a child process, so it does not take the sender's GIL."""

    def __init__(self) -> None:
        command = [sys.executable, "-m", "pandas_cio.testing._serve", "--latency", "0"]
        self._child = subprocess.Popen(
            [*command, "--api-key", API_KEY],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url: str = self.ask(None)["url"]

    def ask(self, command: str | None) -> dict[str, Any]:
        """Send a command (None: just read) and return the child's JSON answer."""
        assert self._child.stdin is not None and self._child.stdout is not None
        if command is not None:
            self._child.stdin.write(command + "\n")
            self._child.stdin.flush()
        answer: dict[str, Any] = json.loads(self._child.stdout.readline())
        return answer

    def close(self) -> None:
        """Stop the child."""
        with contextlib.suppress(OSError, ValueError):
            assert self._child.stdin is not None
            self._child.stdin.write("quit\n")
            self._child.stdin.close()
        try:
            self._child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._child.kill()


@contextlib.contextmanager
def fake_service() -> Iterator[FakeService]:
    """A running FakeService, stopped on exit."""
    service = FakeService()
    try:
        yield service
    finally:
        service.close()


class SendRun(NamedTuple):
    """One whole send of :func:`send_runs`."""

    what: str
    rows: int
    took: Timing
    sent: int
    unchanged: int
    received: int


def send_runs(frame: pd.DataFrame, directory: Path) -> list[SendRun]:
    """Time whole sends: without a ledger, then a first, an unchanged and a 1%-changed run."""
    path = directory / "sends.sqlite"
    changed = change_some(frame, CHANGED_SHARE)
    runs: list[tuple[str, pd.DataFrame, dict[str, Any]]] = [
        ("no ledger", frame, {}),
        ("ledger, first run", frame, {"ledger": path}),
        ("ledger, unchanged", frame, {"ledger": path}),
        ("ledger, 1% changed", changed, {"ledger": path}),
    ]
    done = []
    with fake_service() as service, pandas_cio.Client(API_KEY, base_url=service.url) as client:
        for what, data, options in runs:
            service.ask("reset")
            result, took = timed(
                lambda data=data, options=options: data.cio.identify(
                    user_id="user_id", client=client, progress=False, **options
                )
            )
            counts = result["status"].value_counts()
            received = service.ask("stats")["accepted_calls"]
            done.append(
                SendRun(
                    what,
                    len(data),
                    took,
                    int(counts.get("sent", 0)),
                    int(counts.get("unchanged", 0)),
                    int(received),
                )
            )
    return done


def send_table(frame: pd.DataFrame, directory: Path) -> list[list[str]]:
    """Time whole sends without and with a ledger; return the table rows."""
    return [
        [
            run.what,
            f"{run.took.wall:.2f}",
            f"{run.took.cpu:.2f}",
            f"{run.rows / run.took.wall:,.0f}",
            f"{run.sent:,}",
            f"{run.unchanged:,}",
            f"{run.received:,}",
        ]
        for run in send_runs(frame, directory)
    ]


def render(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    """Format rows as an aligned text table: the first ``left`` columns and the notes left."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left or header[i] == "notes" else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the frame")
    parser.add_argument("--no-send", action="store_true", help="skip the whole-send table")
    options = parser.parse_args(argv)
    frame = people(options.rows)
    print(f"ledger overhead: identify, {options.rows:,} rows, {len(frame.columns)} columns")
    print(
        f"python {sys.version.split()[0]}, sqlite {pandas_cio.ledger.store.sqlite3.sqlite_version}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        stages, size, recorded = stage_table(frame, Path(tmp))
        print()
        header = ["stage", "wall s", "cpu s", "cpu us/row", "cpu / encode", "notes"]
        print(render(header, stages))
        print(
            f"\nledger file after the first run: {size / MB:,.1f} MB "
            f"({size / options.rows:,.0f} bytes per row); {recorded:,} deliveries after all runs"
        )
        if not options.no_send:
            sends = send_table(frame, Path(tmp))
            print()
            header = ["whole send (fake, no latency)", "wall s", "cpu s", "rows/s", "sent"]
            header.append("unchanged")
            print(render([*header, "received"], sends))
    return 0


if __name__ == "__main__":
    sys.exit(main())
