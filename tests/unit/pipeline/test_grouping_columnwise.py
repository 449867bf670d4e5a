"""Grouped orders built and checked column-wise send what the per-element path sent.

The reference here is the implementation before the column-wise build: one
dict per line (missing values left out, whole floats of integer keys as
integers), grouped in frame order, and a ``products`` column of those lists
sent as it is (``products=`` without ``group_by=``), which validation checks
element by element. The grouped send must give the same calls, byte for byte
once canonicalised, the same messageIds, and every line its order's status
and reason.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.prepare.values import column_values
from pandas_cio.testing import FakeCio

PRODUCTS = {"sku": "sku", "price": "price", "quantity": "quantity", "colour": "colour"}


def _old_build(
    frame: pd.DataFrame, items: Sequence[tuple[Hashable, str]], codes: np.ndarray, n: int
) -> list[list[dict[str, Any]]]:
    """grouping.build_products as it was: one dict per line, appended to its order's list."""
    integers = {"quantity"}
    keys = [key for _, key in items]
    columns = [column_values(frame[column], "json") for column, _ in items]
    for i, key in enumerate(keys):
        if key in integers:
            columns[i] = [
                int(v) if isinstance(v, float) and v.is_integer() else v for v in columns[i]
            ]
    out: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for code, values in zip(codes.tolist(), zip(*columns, strict=True), strict=True):
        if code >= 0:
            out[code].append({k: v for k, v in zip(keys, values, strict=True) if v is not None})
    return out


def _canonical(calls: list[dict[str, Any]]) -> list[bytes]:
    # orjson keeps 2 and 2.0 apart, so equal texts mean equal values and types.
    return sorted(orjson.dumps(c, option=orjson.OPT_SORT_KEYS) for c in calls)


def _send(fake: FakeCio, frame: pd.DataFrame, **roles: Any) -> tuple[pd.DataFrame, list[bytes]]:
    fake.reset()
    with pandas_cio.Client(fake.api_key, base_url=fake.url) as client:
        result = frame.cio.semantic.ecommerce(
            "Order Completed",
            user_id="customer_id",
            timestamp="at",
            client=client,
            progress=False,
            **roles,
        )
    return result, _canonical(fake.calls)


def _compare(fake: FakeCio, lines: pd.DataFrame) -> None:
    # A timestamp of its own: messageIds then depend on the calls alone.
    lines = lines.assign(at=pd.Timestamp("2026-05-04 03:02:01"))
    result, calls = _send(fake, lines, group_by="order_id", products=PRODUCTS)
    codes, _ = pd.factorize(lines["order_id"], use_na_sentinel=True)
    _, first = np.unique(codes, return_index=True)
    first = first[codes[first] >= 0]
    orders = lines.iloc[first][["customer_id", "order_id", "at"]].reset_index(drop=True)
    orders["products"] = pd.Series(
        _old_build(lines, list(PRODUCTS.items()), codes, len(first)), dtype=object
    )
    reference, reference_calls = _send(fake, orders, products="products")
    assert calls == reference_calls
    keyed = codes >= 0
    per_line = reference.iloc[codes[keyed]]
    got = result[keyed]
    assert got["status"].astype(str).tolist() == per_line["status"].astype(str).tolist()
    assert got["error"].tolist() == per_line["error"].tolist()
    assert got["message_id"].tolist() == per_line["message_id"].tolist()


_SKU = st.one_of(st.text(min_size=1, max_size=3), st.none(), st.integers(0, 3))
_PRICE = st.one_of(
    st.floats(0, 100),
    st.just(float("nan")),
    st.just(float("inf")),
    st.just("cheap"),
    st.just(True),
    st.integers(0, 9),
    st.none(),
)
_QUANTITY = st.one_of(st.integers(1, 4), st.just(2.5), st.just(3.0), st.just(False), st.none())


@st.composite
def line_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Lines of a few orders, scattered, with typed or mixed columns and gaps."""
    n = draw(st.integers(1, 24))
    order = draw(st.lists(st.one_of(st.integers(0, 5), st.none()), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {
            "order_id": pd.Series([None if o is None else f"o{o}" for o in order], dtype=object),
            "customer_id": [f"c{(o or 0) % 3}" for o in order],
            "colour": draw(st.lists(st.sampled_from(["red", None]), min_size=n, max_size=n)),
        }
    )
    typed = draw(st.booleans())
    if typed:
        rng = np.random.default_rng(draw(st.integers(0, 99)))
        frame["sku"] = pd.Series([f"s{i}" for i in rng.integers(0, 9, n)], dtype="string")
        price = rng.integers(0, 10_000, n) / 100
        price[rng.random(n) < 0.2] = np.nan
        frame["price"] = price
        quantity = rng.integers(1, 5, n).astype(float)
        quantity[rng.random(n) < 0.2] = np.nan
        frame["quantity"] = draw(
            st.sampled_from(
                [
                    quantity,
                    rng.integers(1, 5, n),
                    pd.array(quantity, dtype="Float64").astype("Int64"),
                    rng.random(n) < 0.5,  # booleans are not integers
                    quantity / 2,  # halves are not integers either
                ]
            )
        )
        if draw(st.booleans()):
            frame["sku"] = frame["sku"].astype("category")
    else:
        frame["sku"] = pd.Series(draw(st.lists(_SKU, min_size=n, max_size=n)), dtype=object)
        frame["price"] = pd.Series(draw(st.lists(_PRICE, min_size=n, max_size=n)), dtype=object)
        frame["quantity"] = pd.Series(
            draw(st.lists(_QUANTITY, min_size=n, max_size=n)), dtype=object
        )
    return frame.set_axis([f"l{i}" for i in range(n)], axis=0)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(line_frames())
def test_grouped_orders_send_what_the_per_element_path_sent(
    fake: FakeCio, lines: pd.DataFrame
) -> None:
    """Any scattered, gappy, partly wrong line frame: same calls, ids, statuses and reasons."""
    _compare(fake, lines)


def test_a_wrong_member_is_named_by_the_first_wrong_line_and_key(fake: FakeCio) -> None:
    """The order's reason names the first wrong element's first wrong key, as before."""
    lines = pd.DataFrame(
        {
            "order_id": ["a", "b", "a", "a", "b"],
            "customer_id": ["c1", "c2", "c1", "c1", "c2"],
            "sku": pd.Series(["s1", 7, "s3", "s4", "s5"], dtype=object),
            "price": pd.Series([1.0, 2.0, "cheap", 3.0, True], dtype=object),
            "quantity": pd.Series([1, 2, 2.5, 1, 1], dtype=object),
            "colour": ["red", None, "red", None, None],
        }
    )
    result, _ = _send(fake, lines.assign(at="2026-05-04"), group_by="order_id", products=PRODUCTS)
    assert result["error"].tolist() == [
        "products: every element's price must be a number",
        "products: every element's sku must be a string",
        "products: every element's price must be a number",
        "products: every element's price must be a number",
        "products: every element's sku must be a string",
    ]
    _compare(fake, lines)


def test_the_benchmark_frame_sends_what_it_sent(fake: FakeCio) -> None:
    """Contiguous orders of typed columns (the benchmark's shape) take the fast paths."""
    rng = np.random.default_rng(4)
    n = 600
    order = np.arange(n) // 3
    lines = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in order],
            "customer_id": [f"c{i // 2}" for i in order],
            "sku": [f"sku-{i}" for i in rng.integers(0, 50, n)],
            "price": np.round(rng.gamma(2.0, 10.0, n), 2),
            "quantity": rng.integers(1, 5, n),
            "colour": "blue",
        }
    )
    _compare(fake, lines)


def test_lines_that_all_lack_an_order_are_each_invalid(fake: FakeCio) -> None:
    """No line has an order key: every line is invalid, none is sent (an IndexError before)."""
    lines = pd.DataFrame(
        {
            "order_id": [None, None],
            "customer_id": ["c1", "c2"],
            "sku": ["s1", "s2"],
            "at": "2026-05-04",
        }
    )
    result, calls = _send(fake, lines, group_by="order_id", products=["sku"])
    assert calls == []
    assert result.index.equals(lines.index)
    assert result["status"].astype(str).tolist() == ["invalid", "invalid"]
    assert result["error"].tolist() == ["order_id: is missing (the line belongs to no order)"] * 2
    assert result.attrs["cio"]["orders"] == 0
