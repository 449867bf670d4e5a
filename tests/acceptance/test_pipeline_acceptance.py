"""End-to-end acceptance of the core pipeline over real HTTP against the local fake."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from frame_cases import client_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

import pandas_cio
from pandas_cio.prepare.batching import MAX_BATCH_BYTES, MAX_CALL_BYTES
from pandas_cio.testing import FakeCio, Fault

STATUSES = {"sent", "invalid", "too_large", "failed", "dry_run", "unchanged", "superseded"}


def _reject(name: str) -> Any:
    raise ValueError(name)


def assert_strict_and_bounded(fake: FakeCio) -> None:
    """Every accepted body is strict JSON and no body or call is over the limits."""
    for request in fake.requests:
        if not request.accepted:
            continue
        assert len(request.body) <= MAX_BATCH_BYTES
        body = json.loads(request.body, parse_constant=_reject)
        for call in body["batch"]:
            encoded = json.dumps(call, separators=(",", ":"), ensure_ascii=False).encode()
            assert len(encoded) <= MAX_CALL_BYTES


def people_frame(n: int) -> pd.DataFrame:
    """A people frame with a few NaN traits, one NaN user id and one 40 KB trait."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "id": [f"user-{i}" for i in range(n)],
            "email": [f"user{i}@example.com" for i in range(n)],
            "plan": rng.choice(["free", "pro", "team"], n),
            "ltv": np.where(rng.random(n) < 0.1, np.nan, rng.random(n) * 100),
            "signup_at": pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC"),
        }
    )
    frame.loc[17, "id"] = np.nan
    frame.loc[42, "plan"] = "x" * 40_000
    return frame


def test_ten_thousand_people(fake: FakeCio) -> None:
    """9,998 sent, 1 invalid, 1 too_large; the server has exactly the sent messageIds."""
    fake.reset()
    frame = people_frame(10_000)
    with client_for(fake) as client:
        # journeys=False: row 42's 40 KB plan would be invalid by Journeys'
        # 1,000-byte attribute limit before it is too_large by the service's.
        result = frame.cio.identify(user_id="id", client=client, journeys=False)
    counts = result["status"].value_counts()
    assert (counts["sent"], counts["invalid"], counts["too_large"]) == (9_998, 1, 1)
    assert result.index.equals(frame.index)
    assert result.loc[17, "error"] == "id (user_id=): is missing"
    assert result.loc[42, "error"].startswith("call is 40,")
    sent_ids = set(result.loc[result["status"] == "sent", "message_id"])
    assert len(fake.message_ids) == len(set(fake.message_ids)) == 9_998
    assert set(fake.message_ids) == sent_ids
    assert fake.dropped_calls == fake.dropped_bodies == 0
    assert_strict_and_bounded(fake)


def test_rerun_gives_the_same_message_ids(fake: FakeCio) -> None:
    """Identify twice on the same frame: the same messageIds, row for row."""
    fake.reset()
    frame = people_frame(500)
    with client_for(fake) as client:
        first = frame.cio.identify(user_id="id", client=client)
        second = frame.cio.identify(user_id="id", client=client)
    pd.testing.assert_series_equal(first["message_id"], second["message_id"])


def test_faults_still_deliver_every_row(fake: FakeCio) -> None:
    """With 30% of requests failing with 503 or 429, every valid row ends sent."""
    fake.reset()
    fake.inject(
        Fault(status=503, probability=0.2),
        Fault(status=429, probability=0.125, retry_after="0"),
    )
    frame = people_frame(3_000)
    try:
        with client_for(fake, max_batch_bytes=20_000) as client:
            result = frame.cio.identify(user_id="id", client=client)
    finally:
        fake.clear_faults()
    sent = result[result["status"] == "sent"]
    assert len(sent) == 2_998
    assert set(sent["message_id"]) == set(fake.message_ids)
    assert result["attempts"].max() > 1
    assert result.attrs["cio"]["retries"] > 0
    assert any(r.status in (503, 429) for r in fake.requests)


def test_rows_reported_sent_are_on_the_server(fake: FakeCio) -> None:
    """When retries run out, failed rows are failed and no sent row is missing."""
    fake.reset()
    fake.inject(Fault(status=503, probability=0.5))
    frame = people_frame(2_000)
    try:
        with client_for(fake, retries=1, max_batch_bytes=20_000) as client:
            result = frame.cio.identify(user_id="id", client=client)
    finally:
        fake.clear_faults()
    sent = set(result.loc[result["status"] == "sent", "message_id"])
    failed = result[result["status"] == "failed"]
    assert sent == set(fake.message_ids)
    assert len(failed) > 0
    assert failed["error"].str.contains("503").all()
    assert set(failed["message_id"]).isdisjoint(fake.message_ids)


def test_dry_run_sends_nothing(fake: FakeCio) -> None:
    """dry_run validates, encodes and batches but makes no request."""
    fake.reset()
    result = people_frame(1_000).cio.identify(user_id="id", dry_run=True)
    assert result["status"].value_counts()["dry_run"] == 998
    assert result.attrs["cio"]["batches"] >= 1
    assert result.attrs["cio"]["body_bytes"] > 0
    assert fake.requests == []


def test_errors_raise_stops_before_sending(fake: FakeCio) -> None:
    """errors='raise' raises SchemaError naming the rows, and sends nothing."""
    fake.reset()
    with client_for(fake) as client, pytest.raises(pandas_cio.SchemaError) as info:
        people_frame(100).cio.identify(user_id="id", client=client, errors="raise", journeys=False)
    assert list(info.value.failures.index) == [17]
    assert fake.requests == []


def test_track_with_columns_and_literal(fake: FakeCio) -> None:
    """track: column event names, timestamps and chosen properties land where they should."""
    fake.reset()
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "event_name": ["Viewed", "Bought"],
            "ts": ["2024-05-01T10:00:00Z", "2024-05-02T11:00:00Z"],
            "sku": ["s1", "s2"],
            "price": [9.5, 20.0],
            "internal": ["x", "y"],
        }
    )
    with client_for(fake) as client:
        events.cio.track(
            user_id="user_id",
            event="event_name",
            timestamp="ts",
            properties=["sku", "price"],
            client=client,
        )
        events.cio.track(user_id="user_id", event="Signed Up", properties=[], client=client)
    calls = fake.calls
    assert calls[0]["event"] == "Viewed"
    assert calls[0]["timestamp"] == "2024-05-01T10:00:00.000Z"
    assert calls[0]["properties"] == {"sku": "s1", "price": 9.5}
    assert {c["event"] for c in calls[2:]} == {"Signed Up"}
    assert all(c["type"] == "track" for c in calls)


frames = data_frames(
    [
        column("id", elements=st.one_of(st.none(), st.text(max_size=8), st.integers())),
        column("s", elements=st.one_of(st.none(), st.text(max_size=50))),
        column("huge", elements=st.one_of(st.none(), st.just("z" * 33_000))),
        column("f", dtype=float),
        column(
            "o",
            elements=st.one_of(
                st.none(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=3)
            ),
        ),
    ],
    index=range_indexes(max_size=30),
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(frames)
def test_every_row_gets_exactly_one_status(fake: FakeCio, frame: pd.DataFrame) -> None:
    """Arbitrary frames: one status per row, sent rows on the server, limits held."""
    fake.reset()
    with client_for(fake, max_batch_bytes=60_000) as client:
        result = frame.cio.identify(user_id="id", client=client)
    assert len(result) == len(frame)
    assert result.index.equals(frame.index)
    assert set(result["status"].astype(str)) <= STATUSES
    assert result["status"].notna().all()
    sent = result[result["status"] == "sent"]
    assert set(sent["message_id"]) == set(fake.message_ids)
    assert (result["status"] == "invalid").sum() >= frame["id"].isna().sum()
    assert_strict_and_bounded(fake)


def test_batch_http_status_and_attempts_describe_the_real_request(fake: FakeCio) -> None:
    """Rows sharing a batch number arrived in one request; its status and attempts are theirs."""
    fake.reset()
    fake.inject(Fault(status=503, count=2, paths=("/batch",)))
    frame = people_frame(3_000)
    try:
        with client_for(fake, max_batch_bytes=40_000) as client:
            result = frame.cio.identify(user_id="id", client=client)
    finally:
        fake.clear_faults()
    sent = result[result["status"] == "sent"]
    accepted = [
        {call["messageId"] for call in json.loads(r.body)["batch"]}
        for r in fake.requests
        if r.accepted
    ]
    by_batch = sent.groupby("batch")["message_id"].agg(set)
    assert sorted(map(sorted, by_batch)) == sorted(map(sorted, accepted))
    assert (sent["http_status"] == 200).all()
    assert (sent["attempts"] >= 1).all()
    # Every request the server saw, the two retried 503s included, is one attempt of a batch.
    assert sent.groupby("batch")["attempts"].first().sum() == len(fake.requests)
    assert result.attrs["cio"]["requests"] == len(fake.requests)
    unsent = result[result["status"] != "sent"]
    assert unsent["batch"].isna().all() and unsent["http_status"].isna().all()
    assert (unsent["attempts"] == 0).all()
