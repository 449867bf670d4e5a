"""The line-item stage runs inside the one pipeline: gates, errors and counters count lines."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import pandas_cio


def _lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2", "c3"],
            "order_id": ["o1", "o1", None, "o3"],
            "sku": ["a", "b", "c", "d"],
            "price": [1.0, 2.0, 3.0, 4.0],
        },
        index=[10, 11, 12, 13],
    )


def _send(lines: pd.DataFrame, **options: Any) -> pd.DataFrame:
    return lines.cio.semantic.ecommerce(
        "Order Completed",
        user_id="customer_id",
        group_by="order_id",
        products=["sku", "price"],
        dry_run=True,
        **options,
    )


def test_a_gate_counts_the_lines_of_the_frame() -> None:
    """One line of four has no order: max_invalid=0 stops the send, 0.25 lets it go."""
    with pytest.raises(pandas_cio.QualityGateError, match="1 of 4 rows are invalid") as info:
        _send(_lines(), max_invalid=0)
    assert info.value.result.index.tolist() == [10, 11, 12, 13]
    assert _send(_lines(), max_invalid=0.25)["status"].tolist() == [
        "dry_run",
        "dry_run",
        "invalid",
        "dry_run",
    ]


def test_errors_raise_names_a_line_in_no_order() -> None:
    """A line without an order is a failure of errors='raise', indexed by the input's label."""
    with pytest.raises(pandas_cio.SchemaError, match="1 of 4 rows") as info:
        _send(_lines(), errors="raise")
    assert info.value.failures.index.tolist() == [12]


def test_the_counters_are_one_sends() -> None:
    """Calls count orders, rows count lines, and the ledger-free result has no plan."""
    stats = _send(_lines()).attrs["cio"]
    assert (stats["rows"], stats["orders"], stats["calls"]) == (4, 2, 2)
    assert "plan" not in stats
