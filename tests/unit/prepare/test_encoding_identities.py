"""messageIds identify events: ULIDs, one per occurrence, the same on every retry and re-run."""

from __future__ import annotations

import datetime as dt

import numpy as np
import orjson
import pandas as pd
import pytest
from frame_cases import client_for
from hypothesis import given
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.catalogue.operations import get_operation
from pandas_cio.prepare.encoding import Encoder
from pandas_cio.prepare.plan import make_plan
from pandas_cio.prepare.ulid import is_ulid, time_ms
from pandas_cio.testing import FakeCio, messy


def doubled_events(n: int) -> pd.DataFrame:
    """``n`` distinct events, each occurring twice with identical content, interleaved."""
    start = pd.Timestamp("2026-03-01T08:00:00Z")
    events = pd.DataFrame(
        {
            "id": [f"user-{i % 97}" for i in range(n)],
            "at": [start + pd.Timedelta(seconds=i) for i in range(n)],
            "sku": [f"sku-{i % 13}" for i in range(n)],
        }
    )
    return pd.concat([events, events], ignore_index=True).sample(frac=1.0, random_state=5)


def test_identical_rows_are_separate_events(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """Three Added to Cart rows, two identical: three ids, and the service holds three.

    Before, the two identical rows shared one id and Customer.io kept two events.
    """
    cart = pd.DataFrame({"id": ["u1", "u1", "u1"], "sku": ["a", "a", "b"]})
    result = cart.cio.track(user_id="id", event="Added to Cart", client=cio_client)
    assert (result["status"] == "sent").all()
    assert result["message_id"].nunique() == 3
    assert sorted(cio_fake.message_ids) == sorted(result["message_id"])


def test_doubled_events_are_all_kept_and_rerun_gives_the_same_ids(cio_fake: FakeCio) -> None:
    """1,000 events, each twice: sent rows equal the distinct ids held; a re-run repeats them."""
    frame = doubled_events(500)
    with client_for(cio_fake, retries=12, max_batch_bytes=5_000, workers=4) as client:
        first = frame.cio.track(user_id="id", event="Added to Cart", timestamp="at", client=client)
    assert (first["status"] == "sent").all()
    held = set(cio_fake.message_ids)
    assert len(held) == len(frame) == 1_000
    assert set(first["message_id"]) == held
    assert all(is_ulid(m) for m in cio_fake.message_ids)
    # Each id's time part is its call's timestamp.
    for call in cio_fake.calls[:50]:
        stamp = pd.Timestamp(call["timestamp"])
        assert time_ms(call["messageId"]) == stamp.value // 1_000_000

    cio_fake.reset()
    with client_for(cio_fake, retries=12, max_batch_bytes=5_000, workers=2) as client:
        again = frame.cio.track(
            user_id="id", event="Added to Cart", timestamp="at", client=client, chunk_rows=7
        )
    pd.testing.assert_series_equal(again["message_id"], first["message_id"])


def test_retries_keep_each_events_id(cio_fake: FakeCio) -> None:
    """Under 30% faults, a retried event carries its id again: no id beyond one per row."""
    cio_fake.inject(*messy.flaky(rate=0.3))
    frame = doubled_events(300)
    with client_for(cio_fake, retries=12, max_batch_bytes=5_000, workers=4) as client:
        result = frame.cio.track(user_id="id", event="Viewed", client=client)
    assert (result["status"] == "sent").all()
    assert set(cio_fake.message_ids) == set(result["message_id"])
    assert len(set(cio_fake.message_ids)) == len(frame)


@given(
    st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 3)), min_size=1, max_size=25),
    st.integers(1, 6),
)
def test_ids_follow_content_and_repeat_whatever_the_slicing(
    rows: list[tuple[str, int]], chunk: int
) -> None:
    """Equal ids exactly for equal (content, repeat); slices of any size give the same ids."""
    frame = pd.DataFrame(rows, columns=["id", "n"])
    frame["at"] = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(frame["n"], unit="h")
    plan = make_plan(
        get_operation("track"), frame, {"user_id": "id", "event": "E", "timestamp": "at"}
    )
    whole = Encoder(plan).encode(frame, np.arange(len(frame)))
    sliced = Encoder(plan, columnwise=False)
    ids = [
        m
        for s in range(0, len(frame), chunk)
        for m in sliced.encode(frame, np.arange(s, min(s + chunk, len(frame)))).message_ids
    ]
    assert ids == whole.message_ids
    repeat: dict[tuple[str, int], int] = {}
    keys = []
    for row in rows:
        keys.append((row, repeat.get(row, 0)))
        repeat[row] = repeat.get(row, 0) + 1
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (ids[i] == ids[j]) == (keys[i] == keys[j])
    for call, mid in zip(whole.calls, ids, strict=True):
        stamp = pd.Timestamp(orjson.loads(call)["timestamp"])
        assert is_ulid(mid) and time_ms(mid) == stamp.value // 1_000_000


@given(st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2261, 12, 31)))
def test_time_part_round_trips_the_calls_timestamp(when: dt.datetime) -> None:
    """The id's time part is the call's timestamp to the millisecond, on both paths."""
    frame = pd.DataFrame({"id": ["u1"], "at": [pd.Timestamp(when)]})
    plan = make_plan(
        get_operation("track"), frame, {"user_id": "id", "event": "E", "timestamp": "at"}
    )
    for columnwise in (True, False):
        out = Encoder(plan, columnwise=columnwise).encode(frame, np.arange(1))
        call = orjson.loads(out.calls[0])
        stamp = pd.Timestamp(call["timestamp"])
        assert time_ms(out.message_ids[0]) == stamp.value // 1_000_000
        assert call["messageId"] == out.message_ids[0]


def test_own_message_ids_are_sent_as_given() -> None:
    """message_id= keeps the caller's ids, ULID or not, repeats included."""
    frame = pd.DataFrame({"id": ["u1", "u1"], "mid": ["order-7", "order-7"]})
    result = frame.cio.track(user_id="id", event="E", message_id="mid", dry_run=True)
    assert result["message_id"].tolist() == ["order-7", "order-7"]


@pytest.mark.parametrize("columnwise", [True, False])
def test_rows_that_fail_to_encode_leave_the_numbering_in_input_order(columnwise: bool) -> None:
    """A row orjson refuses is invalid; the others are numbered as the reference numbers them."""
    frame = pd.DataFrame({"id": ["u1"] * 5, "v": [1, {1, 2}, 1, {"k": 1}, 1]}, dtype=object)
    plan = make_plan(get_operation("track"), frame, {"user_id": "id", "event": "E"})
    reference = Encoder(plan, columnwise=False).encode(frame, np.arange(5))
    out = Encoder(plan, columnwise=columnwise).encode(frame, np.arange(5))
    assert list(out.invalid) == [1]
    assert out.positions == reference.positions == [0, 2, 3, 4]
    assert out.message_ids == reference.message_ids
    assert list(out.calls) == list(reference.calls)
    assert len(set(out.message_ids)) == 4
