"""Rows per second of operations other than identify, next to identify in the same run.

Three sends of the same number of rows, in this order and in one process,
to ``benchmarks/fast_sink.py`` answering after ``--latency`` seconds:

- ``identify``: the people frame of ``identify_throughput.py``;
- ``devices.register``: the same people with a push token and a platform
  (per-row ``context.device``);
- ``Order Completed`` grouped: one row per line item, three lines per order,
  ``group_by="order_id"`` and ``products=["sku", "price", "quantity"]``.

For each it prints wall and process CPU seconds and rows per second of both
(CPU is steadier on a shared machine) as one JSON line per operation, or a
table without ``--json``::

    python benchmarks/operations_throughput.py --rows 200000 --latency 0.01
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

# Run as a script, this directory is on sys.path: the frame and the sink are
# identify_throughput's own.
from identify_throughput import API_KEY, SubprocessSink, people_frame

import pandas_cio

LINES_PER_ORDER = 3


def devices_frame(rows: int) -> pd.DataFrame:
    """People with a push token and a platform each."""
    people = people_frame(rows)
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "user_id": people["user_id"],
            "push_token": "tok-" + people["user_id"] + "-" + people["country"],
            "platform": np.array(["ios", "android"])[rng.integers(0, 2, rows)],
            "app_version": np.array(["1.0.0", "1.1.0", "2.0.3"])[rng.integers(0, 3, rows)],
        }
    )


def order_lines(rows: int) -> pd.DataFrame:
    """Line items, three per order; the order's columns agree between its lines."""
    rng = np.random.default_rng(11)
    order = np.arange(rows) // LINES_PER_ORDER
    orders = pd.Series(order).astype("str")
    revenue = np.round(rng.gamma(2.0, 40.0, order[-1] + 1 if rows else 0), 2)
    return pd.DataFrame(
        {
            "customer_id": "c" + (pd.Series(order // 2)).astype("str").str.zfill(7),
            "order_id": "o" + orders.str.zfill(8),
            "revenue": revenue[order],
            "currency": "USD",
            "sku": "sku-" + pd.Series(rng.integers(0, 5000, rows)).astype("str"),
            "price": np.round(rng.gamma(2.0, 10.0, rows), 2),
            "quantity": rng.integers(1, 5, rows),
        }
    )


Send = Callable[..., pd.DataFrame]


def _identify(frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
    return frame.cio.identify(user_id="user_id", **options)


def _register(frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
    return frame.cio.devices.register(
        user_id="user_id", token="push_token", platform="platform", **options
    )


def _orders(frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
    return frame.cio.semantic.ecommerce(
        "Order Completed",
        user_id="customer_id",
        group_by="order_id",
        products=["sku", "price", "quantity"],
        **options,
    )


def measure(rows: int, latency: float) -> list[dict[str, Any]]:
    """Send each operation's frame once; return wall, CPU and counts of each."""
    sends: list[tuple[str, Callable[[int], pd.DataFrame], Send]] = [
        ("identify", people_frame, _identify),
        ("devices.register", devices_frame, _register),
        ("Order Completed, grouped", order_lines, _orders),
    ]
    sink = SubprocessSink(latency, fast=True)
    out = []
    try:
        for name, make, send in sends:
            frame = make(rows)
            # Warm the operation's code paths (and pandera) without the sink.
            send(frame.head(LINES_PER_ORDER * 100), dry_run=True, progress=False)
            sink.reset()
            with pandas_cio.Client(API_KEY, base_url=sink.url) as client:
                wall, cpu = time.perf_counter(), time.process_time()
                result = send(frame, client=client, progress=False)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            stats = sink.stats()
            out.append(
                {
                    "operation": name,
                    "rows": rows,
                    "wall": wall,
                    "cpu": cpu,
                    "sent_rows": int((result["status"] == "sent").sum()),
                    "calls": int(stats["unique_message_ids"]),
                    "requests": int(stats["requests"]),
                }
            )
            del frame, result
    finally:
        sink.close()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--latency", type=float, default=0.01, help="sink's answer delay, s")
    parser.add_argument("--json", action="store_true", help="one JSON line per operation")
    options = parser.parse_args(argv)
    results = measure(options.rows, options.latency)
    if options.json:
        for item in results:
            print(json.dumps(item))
        return 0
    # The goal compares rows per CPU second with identify's in the same run.
    identify = results[0]["rows"] / results[0]["cpu"]
    print(
        "| operation | rows | wall s | CPU s | rows/s | rows per CPU s | x identify | calls "
        "| requests |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        per_cpu = r["rows"] / r["cpu"]
        print(
            f"| {r['operation']} | {r['rows']:,} | {r['wall']:.2f} | {r['cpu']:.2f} | "
            f"{r['rows'] / r['wall']:,.0f} | {per_cpu:,.0f} | {per_cpu / identify:.2f} | "
            f"{r['calls']:,} | {r['requests']:,} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
