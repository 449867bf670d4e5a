"""Tests of pandas_cio.prepare.batching: limits, order and exact sizes."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pandas_cio.prepare.batching import ENVELOPE_BYTES, MAX_BATCH_BYTES, SENT_AT_LENGTH, Batch, pack

SENT_AT = "2026-11-23T12:00:00.000Z"


def _call(i: int, size: int) -> bytes:
    """A valid JSON object of exactly ``size`` bytes (size >= 20)."""
    head = f'{{"i":{i},"p":"'.encode()
    return head + b"x" * (size - len(head) - 2) + b'"}'


@given(
    sizes=st.lists(st.integers(20, 32_000), max_size=200),
    limit=st.integers(32_000 + ENVELOPE_BYTES, MAX_BATCH_BYTES),
)
def test_batches_respect_limits_and_keep_order(sizes: list[int], limit: int) -> None:
    """Every batch is within the byte limit, sizes are exact, order is kept."""
    calls = [(i, _call(i, s)) for i, s in enumerate(sizes)]
    batches = list(pack(calls, max_batch_bytes=limit))
    seen = [p for b in batches for p in b.positions]
    assert seen == list(range(len(sizes)))
    assert [b.number for b in batches] == list(range(len(batches)))
    for batch in batches:
        body = batch.body(SENT_AT)
        assert len(body) == batch.size <= limit
        parsed = json.loads(body)
        assert [c["i"] for c in parsed["batch"]] == list(batch.positions)
        assert parsed["sentAt"] == SENT_AT


@given(st.lists(st.integers(20, 32_000), min_size=1, max_size=100))
def test_batches_are_full_before_a_new_one_starts(sizes: list[int]) -> None:
    """A batch is closed only when the next call would not fit (greedy packing)."""
    calls = [(i, _call(i, s)) for i, s in enumerate(sizes)]
    batches = list(pack(calls))
    for current, following in itertools.pairwise(batches):
        assert current.size + 1 + len(following.calls[0]) > MAX_BATCH_BYTES


def test_call_that_can_never_fit_is_refused() -> None:
    """A call larger than a whole body raises instead of producing an oversized batch."""
    with pytest.raises(ValueError, match="never fit"):
        list(pack([(0, _call(0, 2_000))], max_batch_bytes=1_000))


def test_envelope_must_fit() -> None:
    """A byte limit below the envelope's size is a configuration error."""
    with pytest.raises(ValueError, match="envelope"):
        list(pack([], max_batch_bytes=ENVELOPE_BYTES))


def test_body_rejects_malformed_sent_at() -> None:
    """sentAt must have the fixed length the size computation assumed."""
    batch = Batch(0, (0,), (b"{}",), ENVELOPE_BYTES + 2)
    with pytest.raises(ValueError, match=str(SENT_AT_LENGTH)):
        batch.body("2026-11-23")


def test_empty_input_yields_nothing() -> None:
    """No calls, no batches."""
    assert list(pack([])) == []
