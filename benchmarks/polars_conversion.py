"""What sending a polars frame costs over sending a pandas one: the two conversions.

A polars send converts the input to pandas Arrow-backed columns
(:func:`pandas_cio.outcome.frames.to_pandas`) and the result back to polars
(:func:`pandas_cio.outcome.frames.polars_result`); everything between is the pandas
pipeline. This measures both at 1,000,000 rows: wall and CPU time, and the
process's resident memory growth (a column wrapped without a copy adds
nothing; polars allocates its Arrow export with its own allocator, so
pyarrow's pool does not see copies). The input conversion is also timed per
column, since what it costs depends on the type. With ``--dry-run`` it also
times a whole dry-run ``identify`` from the polars frame and from the same
frame in pandas (``frame.to_pandas()``), for scale.

Run it as::

    python benchmarks/polars_conversion.py                 # 1,000,000 rows, a few seconds
    python benchmarks/polars_conversion.py --rows 100000 --dry-run
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import psutil
import pyarrow as pa

import pandas_cio
from pandas_cio.outcome.frames import polars_result, to_pandas
from pandas_cio.outcome.results import ResultBuilder, Status

MB = 1024 * 1024


def people(rows: int, seed: int = 5) -> pl.DataFrame:
    """A people frame of the usual column types, the same for the same seed."""
    rng = np.random.default_rng(seed)
    ltv = rng.gamma(2.0, 50.0, rows)
    ltv[rng.random(rows) < 0.05] = np.nan  # some NaN, which the conversion turns to null
    return pl.DataFrame(
        {
            "user_id": [f"u{i:08d}" for i in range(rows)],
            "email": [f"person{i}@example.com" for i in range(rows)],
            "plan": np.array(["free", "starter", "pro", "enterprise"])[rng.integers(0, 4, rows)],
            "logins": rng.integers(0, 500, rows),
            "ltv": ltv,
            "signup_at": pl.datetime_range(
                pl.datetime(2020, 1, 1), pl.datetime(2024, 1, 1), "1m", eager=True
            )[:rows]
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone("Europe/Berlin"),
            "tags": [["a", "b"] if i % 3 else [] for i in range(rows)],
        }
    ).with_columns(
        pl.col("plan").cast(pl.Categorical),
        address=pl.struct(city=pl.lit("Lyon"), zip=pl.col("user_id").str.slice(1, 5)),
    )


def measure(what: Callable[[], Any]) -> tuple[Any, str]:
    """Run ``what``; return its value and a line of wall s, CPU s and RSS MB grown."""
    gc.collect()
    process = psutil.Process()
    rss = process.memory_info().rss
    wall, cpu = time.perf_counter(), time.process_time()
    value = what()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    grown = (process.memory_info().rss - rss) / MB
    return value, f"{wall:8.3f} {cpu:8.3f} {grown:8.0f}"


def a_result(rows: int) -> pd.DataFrame:
    builder = ResultBuilder(pd.RangeIndex(rows), "identify")
    builder.mark(np.arange(rows), Status.SENT, batch=0, http_status=200, attempts=1)
    builder.message_id[:] = "01HWT245A0S48HFWFBKP2R989S"
    return builder.build()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dry-run", action="store_true", help="also time whole dry runs")
    options = parser.parse_args()
    frame = people(options.rows)
    print(f"{options.rows:,} rows; polars {pl.__version__}, pyarrow {pa.__version__}")
    print(f"polars frame: {frame.estimated_size() / MB:,.0f} MB\n")

    print(f"{'':30} {'wall s':>8} {'CPU s':>8} {'RSS MB':>8}")
    converted, line = measure(lambda: to_pandas(frame))
    print(f"{'input to pandas, all columns':30} {line}")
    for name in frame.columns:
        _, line = measure(lambda name=name: to_pandas(frame.select(name)))
        print(f"{f'  {name} ({frame.schema[name]})'[:30]:30} {line}")
    result = a_result(options.rows)
    _, line = measure(lambda: polars_result(result))
    print(f"{'result to polars':30} {line}")
    size = converted.memory_usage(deep=True).sum() / MB
    print(f"\nthe converted pandas frame: {size:,.0f} MB")
    if options.dry_run:
        print()
        kinds = (("dry run from pandas", frame.to_pandas()), ("dry run from polars", frame))
        for label, source in kinds:
            _, line = measure(
                lambda source=source: pandas_cio.identify(
                    source, user_id="user_id", dry_run=True, progress=False
                )
            )
            print(f"{label:30} {line}")


if __name__ == "__main__":
    main()
