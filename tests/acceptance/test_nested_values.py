"""Lists and structs as Parquet and Arrow give them: numpy arrays, list<struct>, datetimes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.catalogue.operations import get_operation
from pandas_cio.prepare.encoding import Encoder
from pandas_cio.prepare.plan import make_plan
from pandas_cio.testing import FakeCio

pa = pytest.importorskip("pyarrow")

WHEN = dt.datetime(2024, 5, 3, 10, 30, 0, 123456)


def people(path: Path) -> pd.DataFrame:
    """People with a list<string>, a list<struct> with a timestamp and a struct, via Parquet."""
    pd.DataFrame(
        {
            "id": ["u1", "u2"],
            "tags": [["vip", "beta"], []],
            "visits": [[{"at": WHEN, "pages": [1, 2]}], [{"at": None, "pages": None}]],
            "address": [{"city": "Lyon", "zip": "69001"}, None],
        }
    ).to_parquet(path)
    return pd.read_parquet(path)


EXPECTED = [
    {
        "tags": ["vip", "beta"],
        "visits": [{"at": "2024-05-03T10:30:00.123Z", "pages": [1, 2]}],
        "address": {"city": "Lyon", "zip": "69001"},
    },
    {"tags": [], "visits": [{"at": None, "pages": None}]},
]


def encoded(frame: pd.DataFrame, columnwise: bool) -> tuple[list[Any], dict[int, str]]:
    """The identify calls' traits of every row, and the invalid rows."""
    plan = make_plan(get_operation("identify"), frame, {"user_id": "id"})
    out = Encoder(plan, columnwise=columnwise).encode(frame, np.arange(len(frame)))
    return [json.loads(call)["traits"] for call in out.calls], out.invalid


@pytest.mark.parametrize("backend", ["numpy", "pyarrow"])
@pytest.mark.parametrize("columnwise", [True, False])
def test_parquet_lists_and_structs_are_json_lists_and_objects(
    tmp_path: Path, backend: str, columnwise: bool
) -> None:
    """Arrays of dicts whose values are arrays, read back from Parquet, encode; none is invalid."""
    frame = people(tmp_path / "people.parquet")
    if backend == "pyarrow":
        frame = pd.read_parquet(tmp_path / "people.parquet", dtype_backend="pyarrow")
        assert isinstance(frame["visits"].dtype, pd.ArrowDtype)
    else:
        assert isinstance(frame["tags"].iloc[0], np.ndarray)
    traits, invalid = encoded(frame, columnwise)
    assert invalid == {}
    assert traits == EXPECTED


def test_a_datetime64_array_cell_keeps_its_z() -> None:
    """A datetime64 array inside a cell is written as a datetime column is, NaT as null."""
    stamps = np.array([WHEN, None], dtype="datetime64[ns]")
    frame = pd.DataFrame(
        {
            "id": ["u1"],
            "seen": pd.Series([stamps], dtype=object),
            "one": pd.Series([np.datetime64(WHEN, "ns")], dtype=object),
            "top": pd.Series([WHEN], dtype="datetime64[ns]"),
        }
    )
    for columnwise in (True, False):
        (traits,), _ = encoded(frame, columnwise)
        assert traits["seen"] == ["2024-05-03T10:30:00.123Z", None]
        assert traits["one"] == traits["top"] == "2024-05-03T10:30:00.123Z"


def test_durations_inside_arrays_are_refused_with_a_hint() -> None:
    """A timedelta64 array has no faithful JSON form: its row is invalid, naming the column."""
    frame = pd.DataFrame(
        {"id": ["u1", "u2"], "waits": pd.Series([np.array([1, 2], "m8[s]"), None], dtype=object)}
    )
    plan = make_plan(get_operation("identify"), frame, {"user_id": "id"})
    out = Encoder(plan).encode(frame, np.arange(2))
    assert out.positions == [1]
    assert out.invalid[0].startswith("waits: ") and "durations" in out.invalid[0]


zones = st.sampled_from([None, "UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata"])
instants = st.datetimes(min_value=dt.datetime(1678, 1, 2), max_value=dt.datetime(2261, 12, 30))


@given(st.lists(instants, min_size=1, max_size=4), zones)
def test_datetimes_inside_arrays_read_as_top_level_ones(
    values: list[dt.datetime], zone: str | None
) -> None:
    """A date-time in a numpy array, an Arrow list or a struct reads as in a datetime column."""
    top = pd.Series(pd.to_datetime(values))
    if zone is not None:
        top = top.dt.tz_localize(zone, ambiguous=False, nonexistent="shift_forward")
    # Built from Arrow arrays, not Python datetimes: pyarrow reads aware Python
    # datetimes as UTC wall time when PYARROW_IGNORE_TIMEZONE is set, which
    # pyspark.pandas (imported by pandera when pyspark is installed) does.
    arrow = pa.array(top.dt.as_unit("us"))
    offsets = pa.array([0, len(arrow)], pa.int32())
    cells: dict[str, Any] = {
        "list": pa.ListArray.from_arrays(offsets, arrow),
        "structs": pa.ListArray.from_arrays(offsets, pa.StructArray.from_arrays([arrow], ["at"])),
    }
    frame = pd.DataFrame({"id": [f"u{i}" for i in range(len(top))], "top": top})
    expected = [traits["top"] for traits in encoded(frame, True)[0]]
    nested = {name: pd.Series(pd.arrays.ArrowExtensionArray(a)) for name, a in cells.items()}
    if zone is None:  # numpy datetimes have no zone
        nested["numpy"] = pd.Series([top.to_numpy(dtype="datetime64[ns]")], dtype=object)
    for name, column in nested.items():
        for columnwise in (True, False):
            (traits,), invalid = encoded(pd.DataFrame({"id": ["u"], name: column}), columnwise)
            assert invalid == {}
            got = [g["at"] for g in traits[name]] if name == "structs" else traits[name]
            assert got == expected, name


def orders(path: Path) -> pd.DataFrame:
    """Two orders with a list<struct> products column, written to Parquet and read back."""
    pd.DataFrame(
        {
            "customer": ["c1", "c2"],
            "order_id": ["o1", "o2"],
            "revenue": [29.5, 5.0],
            "products": [
                [
                    {"product_id": "p1", "sku": "a", "price": 9.5, "quantity": 1},
                    {"product_id": "p2", "sku": "b", "price": 20.0, "quantity": 2},
                ],
                # Arrow structs have every field: the missing quantity is a null.
                [{"product_id": "p3", "sku": "c", "price": 5.0, "quantity": None}],
            ],
        }
    ).to_parquet(path)
    return pd.read_parquet(path)


PRODUCTS = {
    "c1": [
        {"product_id": "p1", "sku": "a", "price": 9.5, "quantity": 1},
        {"product_id": "p2", "sku": "b", "price": 20.0, "quantity": 2},
    ],
    "c2": [{"product_id": "p3", "sku": "c", "price": 5.0, "quantity": None}],
}


@pytest.mark.parametrize("products", [None, "products", ["products"]])
def test_orders_from_parquet_send_their_products_arrays(
    cio_fake: FakeCio, tmp_path: Path, products: Any
) -> None:
    """A list<struct> products column read from Parquet is sent as each order's products."""
    frame = orders(tmp_path / "orders.parquet")
    with pandas_cio.Client(cio_fake.api_key, base_url=cio_fake.url) as client:
        result = frame.cio.semantic.ecommerce(
            "Order Completed", user_id="customer", products=products, client=client
        )
    assert result["status"].tolist() == ["sent", "sent"]
    received = {c["userId"]: c["properties"] for c in cio_fake.calls}
    assert {user: p["products"] for user, p in received.items()} == PRODUCTS
    assert received["c1"]["order_id"] == "o1" and received["c1"]["revenue"] == 29.5


def test_products_names_a_column_of_arrays_under_another_name(tmp_path: Path) -> None:
    """products="items" sends the items column as products; a list of columns needs group_by."""
    frame = orders(tmp_path / "orders.parquet").rename(columns={"products": "items"})
    plan_result = frame.cio.semantic.ecommerce(
        "Order Completed", user_id="customer", products="items", dry_run=True
    )
    assert plan_result["status"].tolist() == ["dry_run", "dry_run"]
    with pytest.raises(TypeError, match="group_by"):
        frame.cio.semantic.ecommerce(
            "Order Completed", user_id="customer", products=["items", "revenue"], dry_run=True
        )


def test_arrow_maps_are_json_objects() -> None:
    """A map<string, int64> cell is an object; one with a repeated key keeps its pairs."""
    maps = pa.array([[("a", 1), ("b", 2)], [("a", 1), ("a", 2)]], pa.map_(pa.string(), pa.int64()))
    frame = pd.DataFrame({"id": ["u1", "u2"], "m": pd.arrays.ArrowExtensionArray(maps)})
    for columnwise in (True, False):
        traits, invalid = encoded(frame, columnwise)
        assert invalid == {}
        assert [t["m"] for t in traits] == [{"a": 1, "b": 2}, [["a", 1], ["a", 2]]]
