"""Tests of value conversion and call encoding: JSON that round-trips, stable messageIds."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from pandas_cio.catalogue.operations import get_operation
from pandas_cio.prepare.encoding import Encoder
from pandas_cio.prepare.plan import make_plan


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def strict_loads(data: bytes) -> Any:
    """Parse JSON, refusing NaN and Infinity as the service's parser would."""
    return json.loads(data, parse_constant=_reject_constant)


def encode(frame: pd.DataFrame, operation: str = "identify", **args: Any) -> list[Any]:
    """Encode every row of ``frame``; return parsed calls (None for rows that did not encode)."""
    payload = args.pop("payload", None)
    missing = args.pop("missing", "omit")
    plan = make_plan(get_operation(operation), frame, args, payload, missing=missing)
    out = Encoder(plan).encode(frame, np.arange(len(frame)))
    calls: list[Any] = [None] * len(frame)
    for position, call in zip(out.positions, out.calls, strict=True):
        calls[position] = strict_loads(call)
    return calls


def test_missing_values_are_omitted() -> None:
    """NaN, None, pd.NA and NaT never reach the call."""
    frame = pd.DataFrame(
        {
            "id": ["u1", "u2", "u3", "u4"],
            "f": [np.nan, 1.5, 2.0, 3.0],
            "o": [None, "x", pd.NA, "y"],
            "i": pd.array([1, None, 3, 4], dtype="Int64"),
            "t": pd.to_datetime(["2024-01-01", None, "2024-01-02", "2024-01-03"]),
        }
    )
    calls = encode(frame, user_id="id")
    assert calls[0]["traits"] == {"i": 1, "t": "2024-01-01T00:00:00.000Z"}
    assert calls[1]["traits"] == {"f": 1.5, "o": "x"}
    assert calls[2]["traits"] == {"f": 2.0, "i": 3, "t": "2024-01-02T00:00:00.000Z"}


def test_missing_null_sends_null_for_payload_only() -> None:
    """missing='null' sends null traits but still omits a missing id."""
    frame = pd.DataFrame({"id": ["u1"], "anon": [None], "plan": [None]})
    (call,) = encode(frame, user_id="id", anonymous_id="anon", missing="null")
    assert call["traits"] == {"plan": None}
    assert "anonymousId" not in call


def test_scalars_encode_faithfully() -> None:
    """numpy scalars, Decimal, bools, big ints, nested cells and dates keep their values."""
    frame = pd.DataFrame(
        {
            "id": [7],
            "dec": [Decimal("12345678901234567.89")],
            "big": [2**60],
            "flag": [np.bool_(True)],
            "nested": [{"a": [1, {"b": None}], "n": np.int64(3)}],
            "arr": [np.array([1.5, 2.5])],
            "day": [dt.date(2024, 2, 29)],
            "cat": pd.Categorical(["gold"]),
            "text": ["caf\u00e9 \U0001d11e"],
        }
    )
    (call,) = encode(frame, user_id="id")
    assert call["userId"] == "7"
    traits = call["traits"]
    assert traits["big"] == 2**60
    assert traits["flag"] is True
    assert traits["nested"] == {"a": [1, {"b": None}], "n": 3}
    assert traits["arr"] == [1.5, 2.5]
    assert traits["day"] == "2024-02-29"
    assert traits["cat"] == "gold"
    assert traits["text"] == "caf\u00e9 \U0001d11e"
    raw = json.loads(json.dumps(traits["dec"]))
    assert raw == pytest.approx(12345678901234567.89)


def test_decimal_keeps_every_digit() -> None:
    """A Decimal is written with all its digits, not rounded through float."""
    frame = pd.DataFrame({"id": ["u"], "amount": [Decimal("0.1000000000000000055511151231")]})
    plan = make_plan(get_operation("identify"), frame, {"user_id": "id"})
    out = Encoder(plan).encode(frame, np.arange(1))
    assert b'"amount":0.1000000000000000055511151231' in out.calls[0]


def test_datetimes_become_utc() -> None:
    """Aware datetimes are converted to UTC; naive ones are read as UTC."""
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "aware": pd.to_datetime(["2024-06-01 12:00"] * 2).tz_localize("Europe/Paris"),
            "obj": [dt.datetime(2024, 1, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5))), None],
            "ts": ["2024-03-01T10:00:00+02:00", "2024-03-01 10:00"],
        }
    )
    calls = encode(frame, user_id="id", timestamp="ts")
    assert calls[0]["traits"]["aware"] == "2024-06-01T10:00:00.000Z"
    assert calls[0]["traits"]["obj"] == "2024-01-01T14:00:00.000Z"
    assert calls[0]["timestamp"] == "2024-03-01T08:00:00.000Z"
    assert calls[1]["timestamp"] == "2024-03-01T10:00:00.000Z"


def test_float_ids_lose_no_precision_and_gain_no_suffix() -> None:
    """An id column that became float because of a NaN still sends '123', not '123.0'."""
    frame = pd.DataFrame({"id": [123.0, np.nan], "anon": [None, "a1"]})
    calls = encode(frame, user_id="id", anonymous_id="anon")
    assert calls[0]["userId"] == "123"
    assert "userId" not in calls[1] and calls[1]["anonymousId"] == "a1"


def test_message_id_is_deterministic_and_content_based() -> None:
    """Same content, same id (whatever the column order); other content, other id."""
    frame = pd.DataFrame({"id": ["u1", "u2"], "a": [1, 2], "b": ["x", "y"]})
    first = [c["messageId"] for c in encode(frame, user_id="id")]
    again = [c["messageId"] for c in encode(frame[["b", "a", "id"]], user_id="id")]
    assert first == again
    assert first[0] != first[1]
    changed = frame.assign(a=[1, 3])
    assert [c["messageId"] for c in encode(changed, user_id="id")][1] != first[1]
    assert encode(frame, "track", user_id="id", event="E")[0]["messageId"] != first[0]


def test_message_id_column_is_used() -> None:
    """message_id='col' sends the caller's ids."""
    frame = pd.DataFrame({"id": ["u1"], "mid": ["my-id-1"]})
    (call,) = encode(frame, user_id="id", message_id="mid")
    assert call["messageId"] == "my-id-1"
    assert "traits" not in call  # no other columns, so no traits at all


def test_unencodable_value_names_its_column() -> None:
    """A set cannot become JSON: the row is reported with the column, others still encode."""
    frame = pd.DataFrame({"id": ["u1", "u2"], "tags": [{"a"}, ["b"]]})
    plan = make_plan(get_operation("identify"), frame, {"user_id": "id"})
    out = Encoder(plan).encode(frame, np.arange(2))
    assert out.positions == [1]
    assert out.invalid[0].startswith("tags: ") and "list" in out.invalid[0]


text = st.text(st.characters(codec="utf-8"), max_size=30)


@given(
    data_frames(
        [
            # Validation refuses blank ids before encoding; this test skips validation.
            column("id", elements=st.text(min_size=1, max_size=10).filter(str.strip)),
            column("s", elements=st.one_of(st.none(), text)),
            column("f", dtype=float, elements=st.floats(allow_infinity=False)),
            column("i", dtype=int, elements=st.integers(-(2**63), 2**63 - 1)),
            column("b", dtype=bool),
        ],
        index=range_indexes(max_size=20),
    )
)
def test_encoding_round_trips(frame: pd.DataFrame) -> None:
    """Every call is strict JSON whose traits equal the row's non-missing values."""
    for position, call in enumerate(encode(frame, user_id="id")):
        row = frame.iloc[position]
        assert call["userId"] == row["id"]
        traits = call["traits"]
        expected: dict[str, Any] = {"i": int(row["i"]), "b": bool(row["b"])}
        if row["s"] is not None and not (isinstance(row["s"], float) and np.isnan(row["s"])):
            expected["s"] = row["s"]
        if not np.isnan(row["f"]):
            expected["f"] = float(row["f"])
        assert traits == expected
