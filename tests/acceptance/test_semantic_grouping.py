"""Line items grouped into one ecommerce event per order, with the products array."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import pandas_cio
from pandas_cio.testing import FakeCio, Fault

PRODUCT_COLUMNS = ["product_id", "sku", "price", "quantity"]


def orders_frame(n_orders: int, lines_per_order: int, seed: int = 3) -> pd.DataFrame:
    """Line items of ``n_orders`` orders, shuffled so an order's lines are scattered."""
    rng = np.random.default_rng(seed)
    n = n_orders * lines_per_order
    order = np.repeat(np.arange(n_orders), lines_per_order)
    frame = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in order],
            "customer_id": [f"c{i % 97}" for i in order],
            "revenue": (order % 50 + 0.5).astype(float),
            "currency": "EUR",
            "product_id": [f"p{i}" for i in range(n)],
            "sku": [f"sku-{i % 13}" for i in range(n)],
            "price": rng.integers(100, 10_000, n) / 100,
            "quantity": rng.integers(1, 5, n),
        }
    )
    frame = frame.iloc[rng.permutation(n)]
    # A non-default index: results must come back on the caller's labels.
    return frame.set_axis([f"line-{i}" for i in rng.permutation(n)], axis=0)


def expected_products(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Each order's products, one object per line in the frame's order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in frame.itertuples(index=False):
        out.setdefault(row.order_id, []).append(
            {
                "product_id": row.product_id,
                "sku": row.sku,
                "price": float(row.price),
                "quantity": int(row.quantity),
            }
        )
    return out


def test_five_thousand_lines_become_one_thousand_orders(cio_fake: FakeCio) -> None:
    """5,000 lines send 1,000 Order Completed calls with the right products; all lines get one."""
    lines = orders_frame(1_000, 5)
    with pandas_cio.Client(cio_fake.api_key, base_url=cio_fake.url) as client:
        result = lines.cio.semantic.ecommerce(
            "Order Completed",
            user_id="customer_id",
            group_by="order_id",
            products=PRODUCT_COLUMNS,
            client=client,
        )
    assert result.index.equals(lines.index)
    assert (result["status"] == "sent").all()
    calls = cio_fake.calls
    assert len(calls) == 1_000
    assert {c["event"] for c in calls} == {"Order Completed"}
    products = expected_products(lines)
    first = lines.drop_duplicates("order_id").set_index("order_id")
    for call in calls:
        order = call["properties"]["order_id"]
        assert call["userId"] == first.loc[order, "customer_id"]
        assert call["properties"]["products"] == products[order]
        assert call["properties"]["revenue"] == first.loc[order, "revenue"]
        assert call["properties"]["currency"] == "EUR"
        assert set(call["properties"]) == {"order_id", "revenue", "currency", "products"}
    # Every line carries its order's messageId, the one the server received.
    by_order = {c["properties"]["order_id"]: c["messageId"] for c in calls}
    assert result["message_id"].tolist() == [by_order[o] for o in lines["order_id"]]
    assert result.attrs["cio"]["rows"] == 5_000
    assert result.attrs["cio"]["orders"] == 1_000
    assert result.attrs["cio"]["calls"] == 1_000


def test_lines_of_bad_orders_are_invalid_with_their_order(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """A bad element, conflicting order columns or a missing key: those lines invalid, others go."""
    lines = orders_frame(4, 3, seed=5)
    lines["price"] = lines["price"].astype(object)
    o1 = lines.index[lines["order_id"] == "o1"]
    o2 = lines.index[lines["order_id"] == "o2"]
    lines.loc[o1[0], "price"] = "cheap"
    lines.loc[o2[1], "customer_id"] = "someone-else"
    lines.loc[lines.index[lines["order_id"] == "o3"][2], "order_id"] = None
    result = lines.cio.semantic.ecommerce(
        "Order Completed",
        user_id="customer_id",
        group_by="order_id",
        products=PRODUCT_COLUMNS,
        client=cio_client,
    )
    status = result["status"].astype(str)
    assert (status[lines["order_id"] == "o1"] == "invalid").all()
    assert set(result.loc[o1, "error"]) == {"products: every element's price must be a number"}
    assert set(result.loc[o2, "error"]) == {"customer_id: differs between the lines of this order"}
    missing = lines["order_id"].isna()
    assert result.loc[missing, "error"].tolist() == [
        "order_id: is missing (the line belongs to no order)"
    ]
    sent = {c["properties"]["order_id"]: c for c in cio_fake.calls}
    assert set(sent) == {"o0", "o3"}
    assert len(sent["o3"]["properties"]["products"]) == 2
    assert (status[lines["order_id"].isin(["o0", "o3"])] == "sent").all()


def test_explicit_properties_still_send_products(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """properties= chooses order-level keys; renamed product keys land in each element."""
    lines = pd.DataFrame(
        {
            "cust": ["c1", "c1"],
            "order": ["o1", "o1"],
            "total": [30.0, 30.0],
            "item": ["a", "b"],
            "unit_price": [10.0, 20.0],
            "qty": [1, None],
            "internal": ["x", "y"],
        }
    )
    lines.cio.semantic.ecommerce(
        "Order Completed",
        user_id="cust",
        group_by="order",
        products={"item": "product_id", "unit_price": "price", "qty": "quantity"},
        properties={"order": "order_id", "total": "total"},
        client=cio_client,
    )
    (call,) = cio_fake.calls
    assert call["properties"] == {
        "order_id": "o1",
        "total": 30.0,
        "products": [
            {"product_id": "a", "price": 10.0, "quantity": 1},
            {"product_id": "b", "price": 20.0},
        ],
    }


def test_a_products_column_of_lists_works_without_grouping() -> None:
    """A column that already holds lists of dicts is sent and checked as products."""
    orders = pd.DataFrame(
        {
            "uid": ["u1", "u2"],
            "products": [[{"sku": "a", "price": 1.0}], [{"sku": "b", "price": "free"}]],
        }
    )
    result = orders.cio.semantic.ecommerce("Order Completed", user_id="uid", dry_run=True)
    assert result["status"].tolist() == ["dry_run", "invalid"]
    assert result.loc[1, "error"] == "products: every element's price must be a number"


def test_errors_raise_names_the_lines() -> None:
    """errors='raise' raises SchemaError whose failures are indexed by the input's lines."""
    lines = orders_frame(3, 2)
    lines["quantity"] = lines["quantity"].astype(object)
    bad = lines.index[lines["order_id"] == "o2"]
    lines.loc[bad[0], "quantity"] = 1.5
    with pytest.raises(pandas_cio.SchemaError) as info:
        lines.cio.semantic.ecommerce(
            "Order Completed",
            user_id="customer_id",
            group_by="order_id",
            products=PRODUCT_COLUMNS,
            dry_run=True,
            errors="raise",
        )
    assert sorted(info.value.failures.index) == sorted(bad)


def test_a_refused_key_spreads_the_partial_result_to_lines(cio_fake: FakeCio) -> None:
    """AuthenticationError's result has one row per input line, like a normal result."""
    cio_fake.inject(Fault(status=401))
    lines = orders_frame(5, 2)
    with (
        pandas_cio.Client(cio_fake.api_key, base_url=cio_fake.url) as client,
        pytest.raises(pandas_cio.AuthenticationError) as info,
    ):
        lines.cio.semantic.ecommerce(
            "Order Completed",
            user_id="customer_id",
            group_by="order_id",
            products=PRODUCT_COLUMNS,
            client=client,
        )
    assert info.value.result.index.equals(lines.index)
    assert (info.value.result["status"] == "failed").all()


def test_grouping_arguments_are_checked() -> None:
    """group_by needs products, an event with a products array, and no products column."""
    lines = orders_frame(2, 2)
    ecommerce = lines.cio.semantic.ecommerce
    with pytest.raises(TypeError, match="go together"):
        ecommerce("Order Completed", user_id="customer_id", group_by="order_id", dry_run=True)
    with pytest.raises(pandas_cio.ColumnError, match="Product Viewed has no 'products'"):
        ecommerce("Product Viewed", user_id="customer_id", group_by="order_id", products=["sku"])
    with pytest.raises(pandas_cio.ColumnError, match="already has a 'products' column"):
        lines.assign(products=None).cio.semantic.ecommerce(
            "Order Completed", user_id="customer_id", group_by="order_id", products=["sku"]
        )
    with pytest.raises(pandas_cio.ColumnError, match="'order' is not a column"):
        ecommerce("Order Completed", user_id="customer_id", group_by="order", products=["sku"])
