"""Throughput of ``df.cio.identify`` against a fake service with real latency.

For each row count this script generates a deterministic people frame, sends
it with ``df.cio.identify`` to :class:`pandas_cio.testing.FakeCio` answering
after ``--latency`` seconds, and prints one table:

rows, seconds, delivered rows/s, requests, the most requests in any 3 s
window, the peak RSS during the send next to its budget (the frame's deep
memory + 300 MB), the CPU floor measured in the same run (columns to lists,
one ``orjson.dumps`` per row, packed into bodies, no network; best of three)
and the ratio of delivered rows/s to that floor.

A second table profiles the stages one at a time on the same frame
(validate / encode / batch / send / result), so the next bottleneck is
visible. ``send`` there is the transport alone: pre-built bodies delivered
through the same client, i.e. the rate the network side could reach if the
CPU stages were free.

Each row count runs in a fresh interpreter, so the peak RSS of one size does
not carry over to the next. By default the fake runs in a separate process
(``--sink subprocess``) so that its JSON parsing does not compete with the
sender for the GIL, as the real service would not; ``--sink thread`` runs it
inside the sender's process instead.

Run from a clean checkout (after ``pip install -e ".[test]"``, which brings
pyarrow, the column-wise encoder's engine)::

    python benchmarks/identify_throughput.py --rows 10000,100000,200000,1000000 --sink fast
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import ctypes
import gc
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

import pandas_cio
from pandas_cio.catalogue.operations import get_operation
from pandas_cio.outcome.results import ResultBuilder, Status
from pandas_cio.pipeline.send import DEFAULT_CHUNK_ROWS
from pandas_cio.prepare.batching import ENVELOPE_BYTES, MAX_BATCH_BYTES, Calls, pack_runs
from pandas_cio.prepare.encoding import Encoder
from pandas_cio.prepare.plan import make_plan
from pandas_cio.prepare.validation import validate
from pandas_cio.testing import FakeCio
from pandas_cio.testing._serve import stats as fake_stats

API_KEY = "bench-key"
WINDOW_SECONDS = 3.0
RATE_LIMIT_REQUESTS = 3000
RSS_HEADROOM_BYTES = 300 * 1024 * 1024
MB = 1024 * 1024
_SENT_AT = "2024-01-01T00:00:00.000Z"
FLOOR_RUNS = 3

FIRST_NAMES = [
    "Ada", "Grace", "Alan", "Zo\u00eb", "Jos\u00e9", "\u0141ukasz", "Mar\u00eda", "Kenji",
    "Amara", "Linus", "Fatima", "Olu", "Sven", "Chlo\u00e9", "Ravi", "Mei",
]  # fmt: skip
LAST_NAMES = [
    "Lovelace", "Hopper", "Turing", "M\u00fcller", "Garc\u00eda", "Nowak", "O'Brien",
    "Tanaka", "Okafor", "Torvalds", "Haddad", "Adeyemi", "Berg", "Dubois", "Patel", "Li",
]  # fmt: skip
PLANS = ["free", "starter", "pro", "enterprise"]
COUNTRIES = ["US", "DE", "FR", "GB", "BR", "JP", "IN", "CA", "NG", "PL"]


def people_frame(rows: int, seed: int = 5) -> pd.DataFrame:
    """Return the issue's people frame with ``rows`` rows, the same for the same seed.

    Columns: user_id, email, first_name, last_name, plan, signup_at
    (tz-aware), ltv (float, about 10% NaN), is_active, country. Built with
    column operations so that generating a million rows is quick and leaves
    no large temporaries behind.
    """
    rng = np.random.default_rng(seed)
    number = pd.Series(np.arange(rows)).astype("str")
    first = pd.Series(np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), rows)], dtype="str")
    last = pd.Series(np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), rows)], dtype="str")
    seconds = rng.integers(0, 5 * 365 * 86_400, rows)
    signup = pd.to_datetime("2020-01-01", utc=True) + pd.to_timedelta(seconds, unit="s")
    ltv = np.round(rng.gamma(2.0, 150.0, rows), 2)
    ltv[rng.random(rows) < 0.1] = np.nan
    frame = pd.DataFrame(
        {
            "user_id": "u" + number.str.zfill(8),
            "email": first.str.lower() + "." + last.str.lower() + number + "@example.com",
            "first_name": first,
            "last_name": last,
            "plan": pd.Series(np.array(PLANS)[rng.integers(0, len(PLANS), rows)], dtype="str"),
            "signup_at": pd.Series(signup).dt.tz_convert("Europe/Berlin"),
            "ltv": ltv,
            "is_active": rng.random(rows) < 0.8,
            "country": pd.Series(
                np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), rows)], dtype="str"
            ),
        }
    )
    return frame


# Memory


def _status_kb(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def release_free_memory() -> None:
    """Return memory freed while building the frame to the system before measuring.

    Arrow's allocator and glibc keep freed pages; without this the peak of
    the send would include the leftovers of generating the frame.
    """
    gc.collect()
    with contextlib.suppress(ImportError):
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def current_rss() -> int:
    """Resident memory of this process now, in bytes."""
    kb = _status_kb("VmRSS")
    return 0 if kb is None else kb * 1024


def peak_rss() -> int:
    """Peak resident memory of this process in bytes since the last reset."""
    kb = _status_kb("VmHWM")
    if kb is None:  # not Linux: the lifetime peak
        import resource

        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    return kb * 1024


# Sinks


class SubprocessSink:
    """A sink in a child process that speaks ``pandas_cio.testing._serve``'s line protocol.

    ``fast=False`` runs :class:`~pandas_cio.testing.FakeCio` there (every body
    parsed and checked); ``fast=True`` runs ``benchmarks/fast_sink.py``.
    """

    def __init__(self, latency: float, *, fast: bool = False) -> None:
        program = (
            [str(Path(__file__).with_name("fast_sink.py"))]
            if fast
            else [
                "-m",
                "pandas_cio.testing._serve",
            ]
        )
        self._child = subprocess.Popen(
            [sys.executable, *program, "--latency", str(latency), "--api-key", API_KEY],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url: str = self._ask(None)["url"]

    def _ask(self, command: str | None) -> dict[str, Any]:
        assert self._child.stdin is not None and self._child.stdout is not None
        if command is not None:
            self._child.stdin.write(command + "\n")
            self._child.stdin.flush()
        line = self._child.stdout.readline()
        if not line:
            raise RuntimeError("the fake service process ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stats(self) -> dict[str, Any]:
        return self._ask("stats")

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self._child.stdin is not None
            self._child.stdin.write("quit\n")
            self._child.stdin.close()
        try:
            self._child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()


class ThreadSink:
    """A FakeCio in this process (its request handling shares the sender's GIL)."""

    def __init__(self, latency: float) -> None:
        self._fake = FakeCio(API_KEY, latency=latency, keep_calls=False).start()
        self.url = self._fake.url

    def stats(self) -> dict[str, Any]:
        return fake_stats(self._fake)

    def reset(self) -> None:
        self._fake.reset()

    def close(self) -> None:
        self._fake.stop()


Sink = SubprocessSink | ThreadSink


def make_sink(kind: str, latency: float) -> Sink:
    if kind == "thread":
        return ThreadSink(latency)
    return SubprocessSink(latency, fast=kind == "fast")


# The CPU floor


def _floor_columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Columns to JSON-ready lists: ISO UTC strings for times, None for missing."""
    out = []
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            text = series.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            out.append(text.tolist())
        elif pd.api.types.is_float_dtype(series.dtype):
            values = series.to_numpy().astype(object)
            values[series.isna().to_numpy()] = None
            out.append(values.tolist())
        else:
            out.append(series.tolist())
    return out


def cpu_floor(frame: pd.DataFrame) -> tuple[float, int]:
    """Time the naive CPU floor; return (seconds, bodies).

    Columns to lists, one dict and one ``orjson.dumps`` per row, packed into
    ``/batch`` bodies of at most 500 KB. No validation, no messageId, no network.
    """
    started = time.perf_counter()
    columns = _floor_columns(frame)
    names = list(frame.columns)
    trait_names = names[1:]
    dumps = orjson.dumps
    bodies = 0
    chunk: list[bytes] = []
    size = ENVELOPE_BYTES
    for row in zip(*columns, strict=True):
        traits = {k: v for k, v in zip(trait_names, row[1:], strict=True) if v is not None}
        call = dumps({"type": "identify", "userId": row[0], "traits": traits})
        if chunk and size + len(call) + 1 > MAX_BATCH_BYTES:
            b"".join((b'{"batch":[', b",".join(chunk), b'],"sentAt":"', _SENT_AT.encode(), b'"}'))
            bodies += 1
            chunk, size = [], ENVELOPE_BYTES
        chunk.append(call)
        size += len(call) + 1
    if chunk:
        b"".join((b'{"batch":[', b",".join(chunk), b'],"sentAt":"', _SENT_AT.encode(), b'"}'))
        bodies += 1
    return time.perf_counter() - started, bodies


# Stage profile


def _timed(stages: dict[str, float], name: str) -> Callable[[Callable[[], Any]], Any]:
    def run(work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = work()
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - started
        return value

    return run


def stage_profile(
    frame: pd.DataFrame, sink: Sink, workers: int | None, adaptive: bool = True
) -> dict[str, float]:
    """Time each stage of the pipeline on its own, as the pipeline runs it.

    validate: the pandera schema; encode: ``Encoder.encode`` slice by slice;
    batch: ``pack_runs`` plus writing every body; send: those bodies through
    ``Client.send_batches`` (the network side alone); result: marking every
    row and building the result frame.
    """
    stages: dict[str, float] = {}
    plan = make_plan(get_operation("identify"), frame, {"user_id": "user_id"})
    reasons = _timed(stages, "validate")(lambda: validate(plan, frame))
    positions = np.setdiff1d(np.arange(len(frame)), np.fromiter(reasons, dtype=np.int64))
    encoder = Encoder(plan)
    starts = range(0, len(positions), DEFAULT_CHUNK_ROWS)
    for start in starts:
        # Timed as the pipeline runs it: each slice dropped once it is packed.
        _timed(stages, "encode")(
            lambda s=start: encoder.encode(frame, positions[s : s + DEFAULT_CHUNK_ROWS])
        )
    runs: list[tuple[np.ndarray, Calls]] = []
    message_ids: list[Any] = []
    for start in starts:  # again, kept this time, for the stages that follow
        part = encoder.encode(frame, positions[start : start + DEFAULT_CHUNK_ROWS])
        runs.append((np.asarray(part.positions), Calls.of(part.calls)))
        message_ids.append(part.ids)
    batches = _timed(stages, "batch")(lambda: list(pack_runs(runs)))
    _timed(stages, "batch")(lambda: [b.body(_SENT_AT) for b in batches])

    def result() -> pd.DataFrame:
        builder = ResultBuilder(frame.index, "identify")
        builder.message_id[positions] = np.concatenate(message_ids)
        for batch in batches:
            builder.mark(list(batch.positions), Status.SENT, batch=batch.number, attempts=1)
        return builder.build()

    sink.reset()
    client = _client(sink, workers, adaptive)
    with client:

        def send() -> None:
            for _, delivery in client.send_batches(batches):
                if not delivery.ok:
                    raise RuntimeError(f"send stage failed: {delivery.error}")

        _timed(stages, "send")(send)
    _timed(stages, "result")(result)
    sink.reset()
    return stages


# One row count


@dataclass
class Measurement:
    rows: int
    seconds: float
    cpu_seconds: float
    delivered: int
    sent: int
    lost: int
    requests: int
    max_in_window: int
    peak_rss: int
    rss_before: int
    frame_bytes: int
    load: tuple[float, float]
    floor_seconds: float
    floor_bodies: int
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds

    @property
    def floor_rate(self) -> float:
        return self.rows / self.floor_seconds

    @property
    def rss_budget(self) -> int:
        return self.frame_bytes + RSS_HEADROOM_BYTES


def _client(sink: Sink, workers: int | None, adaptive: bool = True) -> pandas_cio.Client:
    options: dict[str, Any] = {} if workers is None else {"workers": workers}
    return pandas_cio.Client(API_KEY, base_url=sink.url, adaptive=adaptive, **options)


def measure(
    rows: int,
    sink_kind: str,
    latency: float,
    workers: int | None,
    stages: bool,
    profile_path: str | None,
    adaptive: bool = True,
) -> Measurement:
    """Generate, send and time one row count in this process.

    ``adaptive=False`` keeps ``workers`` requests in flight throughout
    (``Client(adaptive=False)``), to compare fixed pools with the tuned one.
    """
    frame = people_frame(rows)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    sink = make_sink(sink_kind, latency)
    try:
        # Warm imports and code paths (pandera, orjson) without touching the sink.
        frame.head(1000).cio.identify(user_id="user_id", dry_run=True, progress=False)
        client = _client(sink, workers, adaptive)
        release_free_memory()
        rss_before = current_rss()
        load_before = os.getloadavg()[0]
        reset_peak_rss()
        profiler = cProfile.Profile() if profile_path else None
        with client:
            cpu_before = time.process_time()
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            result = frame.cio.identify(user_id="user_id", client=client, progress=False)
            if profiler is not None:
                profiler.disable()
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_before
        rss = peak_rss()
        load_after = os.getloadavg()[0]
        if profiler is not None and profile_path is not None:
            profiler.dump_stats(f"{profile_path}.{rows}")
        seen = sink.stats()
        sent = int((result["status"] == "sent").sum())
        del result
        gc.collect()
        # Best of three: the floor is what the naive code can do on this
        # machine, so a run slowed by a neighbour must not lower the bar.
        floor_seconds, floor_bodies = min(cpu_floor(frame) for _ in range(FLOOR_RUNS))
        profile = stage_profile(frame, sink, workers, adaptive) if stages else {}
    finally:
        sink.close()
    return Measurement(
        rows=rows,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        delivered=int(seen["unique_message_ids"]),
        sent=sent,
        lost=rows - int(seen["unique_message_ids"]),
        requests=int(seen["requests"]),
        max_in_window=int(seen["max_requests_in_3s"]),
        peak_rss=rss,
        rss_before=rss_before,
        frame_bytes=frame_bytes,
        load=(load_before, load_after),
        floor_seconds=floor_seconds,
        floor_bodies=floor_bodies,
        stages=profile,
    )


# Reporting


def machine() -> str:
    """nproc, CPU model and RAM of this machine."""
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram = "unknown RAM"
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="ascii") as info:
        total_kb = int(info.readline().split()[1])
        ram = f"{total_kb / 1024 / 1024:.1f} GiB RAM"
    return f"{os.cpu_count()} CPUs ({model}), {ram}, Python {platform.python_version()}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def main_table(results: Sequence[Measurement]) -> str:
    header = [
        "rows",
        "seconds",
        "delivered rows/s",
        "lost",
        "requests",
        "max requests / 3 s",
        "peak RSS MB",
        "RSS before MB",
        "budget MB",
        "CPU floor rows/s",
        "ratio to floor",
    ]
    rows = [
        [
            f"{m.rows:,}",
            f"{m.seconds:.2f}",
            f"{m.rate:,.0f}",
            f"{m.lost:,}",
            f"{m.requests:,}",
            f"{m.max_in_window:,}",
            f"{m.peak_rss / MB:,.0f}",
            f"{m.rss_before / MB:,.0f}",
            f"{m.rss_budget / MB:,.0f}",
            f"{m.floor_rate:,.0f}",
            f"{m.rate / m.floor_rate:.2f}",
        ]
        for m in results
    ]
    return _table(header, rows)


def stage_table(results: Sequence[Measurement]) -> str:
    names = ["validate", "encode", "batch", "send", "result"]
    header = ["rows", *(f"{n} s" for n in names), "identify wall s", "identify CPU s"]
    rows = [
        [
            f"{m.rows:,}",
            *(f"{m.stages.get(n, float('nan')):.2f}" for n in names),
            f"{m.seconds:.2f}",
            f"{m.cpu_seconds:.2f}",
        ]
        for m in results
        if m.stages
    ]
    return _table(header, rows)


def _worker_command(rows: int, options: argparse.Namespace) -> list[str]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--one",
        str(rows),
        "--sink",
        options.sink,
        "--latency",
        str(options.latency),
    ]
    if options.workers is not None:
        command += ["--workers", str(options.workers)]
    if options.fixed:
        command.append("--fixed")
    if not options.stages:
        command.append("--no-stages")
    if options.cprofile:
        command += ["--cprofile", options.cprofile]
    return command


def _run_each(options: argparse.Namespace) -> Iterator[Measurement]:
    for rows in options.rows:
        done = subprocess.run(
            _worker_command(rows, options), check=True, stdout=subprocess.PIPE, text=True
        )
        data = json.loads(done.stdout.strip().splitlines()[-1])
        yield Measurement(**data)


def _parse_rows(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=_parse_rows, default=[200_000], help="e.g. 10000,1000000")
    parser.add_argument("--latency", type=float, default=0.05, help="fake's answer delay, s")
    parser.add_argument(
        "--sink",
        choices=["subprocess", "fast", "thread"],
        default="subprocess",
        help="FakeCio in a child process, the lean asyncio sink, or FakeCio in a thread",
    )
    parser.add_argument("--workers", type=int, default=None, help="Client(workers=); default")
    parser.add_argument(
        "--fixed", action="store_true", help="Client(adaptive=False): workers always in flight"
    )
    parser.add_argument("--no-stages", dest="stages", action="store_false", help="skip profile")
    parser.add_argument("--cprofile", metavar="PATH", help="dump cProfile stats to PATH.<rows>")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # worker mode
    options = parser.parse_args(argv)

    if options.one is not None:
        m = measure(
            options.one,
            options.sink,
            options.latency,
            options.workers,
            options.stages,
            options.cprofile,
            adaptive=not options.fixed,
        )
        print(json.dumps(asdict(m)))
        return 0

    print(f"machine: {machine()}")
    try:
        import pyarrow

        engine = f"column-wise encoder (pyarrow {pyarrow.__version__})"
    except ImportError:
        engine = "per-row encoder (pyarrow missing)"
    sinks = {
        "subprocess": "FakeCio in a child process",
        "fast": "benchmarks/fast_sink.py in a child process",
        "thread": "FakeCio in a thread of this process",
    }
    print(
        f"pandas_cio {pandas_cio.__version__}, pandas {pd.__version__}, orjson "
        f"{orjson.__version__}, {engine}; sink: {sinks[options.sink]}, latency "
        f"{options.latency * 1000:.0f} ms; validation on; "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC"
    )
    results: list[Measurement] = []
    for m in _run_each(options):
        results.append(m)
        print(
            f"  {m.rows:,} rows: {m.rate:,.0f} rows/s delivered, floor {m.floor_rate:,.0f}",
            file=sys.stderr,
        )
    print()
    print(main_table(results))
    if options.stages:
        print()
        print("Stage profile (each stage alone, same frame; send = pre-built bodies only):")
        print()
        print(stage_table(results))
    failures = [
        f"{m.rows:,} rows: {m.lost:,} lost, {m.sent:,} marked sent"
        for m in results
        if m.lost or m.sent != m.rows
    ]
    failures += [
        f"{m.rows:,} rows: {m.max_in_window} requests in 3 s"
        for m in results
        if m.max_in_window > RATE_LIMIT_REQUESTS
    ]
    loads = ", ".join(f"{m.rows:,} rows {m.load[0]:.1f}->{m.load[1]:.1f}" for m in results)
    print(f"\n1-minute load average before -> after each send ({os.cpu_count()} CPUs): {loads}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    if options.cprofile:
        for m in results:
            print(f"\ncProfile of identify, {m.rows:,} rows (top 25 by cumulative time):")
            pstats.Stats(f"{options.cprofile}.{m.rows}").sort_stats("cumulative").print_stats(25)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
