"""ULID text, the messageId derivation and the repeat counter, without a network."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pandas_cio.prepare.message_ids import RepeatCounter, message_id_for, random_part, time_parts
from pandas_cio.prepare.ulid import ALPHABET, MAX_TIME_MS, encode, encode_one, is_ulid, time_ms

times = st.integers(0, MAX_TIME_MS)
randoms = st.binary(min_size=10, max_size=10)
operations = st.sampled_from(["track", "identify", "page", "semantic:Order Completed"])


@given(times, randoms)
def test_encoded_ids_are_ulids_whose_time_reads_back(time: int, randomness: bytes) -> None:
    """Any time and random part give a canonical ULID whose time part is that time."""
    text = encode_one(time, randomness)
    assert is_ulid(text) and len(text) == 26 and set(text) <= set(ALPHABET)
    assert time_ms(text) == time


@given(st.lists(st.tuples(times, randoms), min_size=1, max_size=30))
def test_array_encoder_matches_the_one_id_encoder(rows: list[tuple[int, bytes]]) -> None:
    """The numpy encoder writes exactly what the per-id encoder writes."""
    stamps = np.array([t for t, _ in rows], dtype=np.uint64)
    randomness = np.frombuffer(b"".join(r for _, r in rows), dtype=np.uint8).reshape(-1, 10)
    text = encode(stamps, randomness).view("S26").ravel()
    assert [t.decode() for t in text] == [encode_one(t, r) for t, r in rows]


@given(times, randoms)
def test_ulid_order_is_time_order(time: int, randomness: bytes) -> None:
    """A later millisecond sorts after, as ULIDs promise (text order is bit order)."""
    if time < MAX_TIME_MS:
        assert encode_one(time, randomness) < encode_one(time + 1, bytes(10))


def test_ulid_check_refuses_other_shapes() -> None:
    """Hex digests, lower case, the letters Crockford leaves out and overflow are not ULIDs."""
    assert is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    for text in [
        "0123456789abcdef0123456789abcdef",  # the old 32-hex messageIds
        "01arz3ndektsv4rrffq69g5fav",
        "01ARZ3NDEKTSV4RRFFQ69G5FAI",
        "81ARZ3NDEKTSV4RRFFQ69G5FAV",  # over 128 bits
        "01ARZ3NDEKTSV4RRFFQ69G5FA",
        None,
    ]:
        assert not is_ulid(text)
    with pytest.raises(ValueError, match="not a ULID"):
        time_ms("nope")
    with pytest.raises(ValueError, match="time is 0 to"):
        encode_one(-1, bytes(10))


@given(operations, st.binary(max_size=64), st.integers(0, 5), operations, st.binary(max_size=64))
def test_equal_content_and_repeat_iff_equal_id(
    operation: str, content: bytes, repeat: int, other_op: str, other: bytes
) -> None:
    """Equal (operation, content, repeat) gives an equal id; changing any one changes it."""
    mid = message_id_for(operation, content, 5, repeat)
    assert mid == message_id_for(operation, content, 5, repeat)
    assert mid != message_id_for(operation, content, 5, repeat + 1)
    if (other_op, other) != (operation, content):
        assert mid != message_id_for(other_op, other, 5, repeat)
    assert mid[10:] == encode_one(0, random_part(operation, content, repeat))[10:]


@given(st.lists(st.lists(st.integers(0, 6), max_size=12), max_size=6))
def test_repeat_numbers_count_earlier_rows_across_slices(slices: list[list[int]]) -> None:
    """Each row's number is how many earlier rows, in any earlier slice, had its key."""
    counter = RepeatCounter()
    seen: Counter[int] = Counter()
    for keys in slices:
        expected = []
        for key in keys:
            expected.append(seen[key])
            seen[key] += 1
        assert counter.take(np.array(keys, dtype=np.uint64)).tolist() == expected


def test_time_parts_truncate_to_the_millisecond_and_clamp() -> None:
    """Times are the call's millisecond; missing ones and those before 1970 are replaced."""
    import pandas as pd

    column = pd.Series(
        pd.to_datetime(["2024-05-01T10:00:00.123999Z", None, "1969-12-31T00:00:00.000Z"], utc=True)
    )
    assert time_parts(column, 3, untimed=7).tolist() == [1714557600123, 7, 0]
    assert time_parts("2024-05-01T10:00:00.123Z", 2).tolist() == [1714557600123] * 2
    assert time_parts(None, 2, untimed=9).tolist() == [9, 9]
