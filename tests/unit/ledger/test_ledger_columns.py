"""The ledger on columns: keys from the plan's columns, masks, and one packer."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pandas_cio.catalogue.operations import get_operation
from pandas_cio.ledger.keys import slice_keys
from pandas_cio.ledger.store import LedgerRun, SqliteLedger, call_key
from pandas_cio.outcome.results import ResultBuilder, Status
from pandas_cio.prepare.batching import Calls, pack, pack_runs
from pandas_cio.prepare.encoding import Encoder
from pandas_cio.prepare.plan import make_plan

_ID = st.one_of(
    st.text(min_size=0, max_size=6),
    st.integers(-5, 10**12),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.none(),
)


def _encoded(frame: pd.DataFrame, args: dict[str, str]) -> tuple[list[str | None] | None, list]:
    plan = make_plan(get_operation("identify"), frame, args, ["plan"])
    part = Encoder(plan).encode(frame, np.arange(len(frame)))
    positions = np.asarray(part.positions, dtype=np.int64)
    decoded = [call_key(orjson.loads(c)) for c in part.calls]
    return slice_keys(plan, frame, positions), decoded


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(_ID, min_size=1, max_size=8),
    dtype=st.sampled_from(["object", "str", "string", "Int64", "int64", "float64"]),
    anonymous=st.booleans(),
)
def test_column_keys_are_the_keys_the_calls_hold(
    ids: list[object], dtype: str, anonymous: bool
) -> None:
    """Whatever the id column holds, the column keys equal call_key of each encoded call."""
    try:
        column = pd.Series(ids, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        return  # values this dtype cannot hold
    frame = pd.DataFrame({"id": column, "plan": "pro"})
    args = {"user_id": "id"}
    if anonymous:
        frame["anon"] = [f"a{i}" for i in range(len(frame))]
        args["anonymous_id"] = "anon"
    keys, decoded = _encoded(frame, args)
    assert keys is None or keys == decoded


def test_string_and_integer_ids_take_the_column_path() -> None:
    """The common id columns need no decoding: their keys come from the column."""
    for column in (
        pd.Series(["u1", "u2"]),
        pd.Series([7, 8]),
        pd.Series(["u1", "u2"], dtype=object),
    ):
        keys, decoded = _encoded(pd.DataFrame({"id": column, "plan": "pro"}), {"user_id": "id"})
        assert keys is not None and keys == decoded


@settings(max_examples=60, deadline=None)
@given(
    calls=st.lists(st.binary(min_size=1, max_size=5), max_size=12),
    data=st.data(),
)
def test_calls_take_keeps_exactly_the_masked_calls(calls: list[bytes], data: st.DataObject) -> None:
    """Calls.take gives the masked calls in order, with sizes and commas intact."""
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(calls), max_size=len(calls))))
    taken = Calls.of(calls).take(mask.astype(bool))
    expected = [c for c, keep in zip(calls, mask.tolist(), strict=True) if keep]
    assert list(taken) == expected
    assert taken.sizes().tolist() == [len(c) for c in expected]
    assert bytes(taken.joined()) == b",".join(expected)


def _people(users: list[str], plans: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"id": users, "plan": plans})


def _run_through(sync: LedgerRun, frame: pd.DataFrame) -> tuple[list[int], list]:
    """Encode, filter with changed_runs, pack with pack_runs and record every batch."""
    plan = make_plan(get_operation("identify"), frame, {"user_id": "id"}, ["plan"])
    part = Encoder(plan).encode(frame, np.arange(len(frame)))
    positions = np.asarray(part.positions, dtype=np.int64)
    calls = Calls.of(part.calls)
    builder = ResultBuilder(frame.index, "identify")
    runs = [(positions, calls, part.ids, slice_keys(plan, frame, positions))]
    kept = list(sync.changed_runs(iter(runs), builder))
    batches = list(pack_runs(iter(kept), max_batch_bytes=400))
    pairs = [(p, c) for ps, cs in kept for p, c in zip(ps.tolist(), cs, strict=True)]
    expected = list(pack(iter(pairs), max_batch_bytes=400))
    assert [(b.positions, list(b.calls), b.size) for b in batches] == [
        (b.positions, list(b.calls), b.size) for b in expected
    ]
    for batch in batches:
        sync.record(batch.positions)
    sent = [p for b in batches for p in b.positions]
    unchanged = np.flatnonzero(builder.status == list(Status).index(Status.UNCHANGED)).tolist()
    return sent, unchanged


def test_columns_skip_unchanged_rows_and_send_changed_ones() -> None:
    """First run sends all; a rerun sends only the changed row; the ledger holds the last."""
    users = [f"u{i}" for i in range(30)]
    with SqliteLedger(":memory:") as store:
        first = LedgerRun(store, "identify")
        sent, unchanged = _run_through(first, _people(users, ["free"] * 30))
        assert sent == list(range(30)) and unchanged == [] and first.new == 30
        store.flush()
        again = LedgerRun(store, "identify")
        plans = ["free"] * 30
        plans[7] = "pro"
        sent, unchanged = _run_through(again, _people(users, plans))
        assert sent == [7] and unchanged == [i for i in range(30) if i != 7]
        assert (again.new, again.changed_count, again.unchanged) == (0, 1, 29)
        store.flush()
        frame = store.to_frame("identify")
        latest = frame[frame["latest"].fillna(False)]
        assert len(latest) == 30


def test_a_custom_ledger_gets_entries_from_the_columns() -> None:
    """A Ledger protocol object still receives LedgerEntry sequences from the columnar path."""

    class Recording:
        def __init__(self) -> None:
            self.entries: list = []

        def delivered(self, operation: str, message_ids: object) -> set[str]:
            return set()

        def latest(self, operation: str, keys: object) -> dict[str, str]:
            return {}

        def record(self, operation: str, entries: list) -> None:
            self.entries.extend(entries)

        def flush(self) -> None:
            pass

    store = Recording()
    _run_through(LedgerRun(store, "identify"), _people(["a", "b"], ["x", "y"]))
    assert [e.key for e in store.entries] == ["user:a", "user:b"]
    assert all(isinstance(e.message_id, str) and len(e.message_id) == 26 for e in store.entries)


def test_latest_is_the_same_by_range_scan_or_by_probes() -> None:
    """Dense, sparse and partly unknown key sets get exactly their own latest ids."""
    from pandas_cio.ledger.store import LedgerEntry

    with SqliteLedger(":memory:") as store:
        keys = [f"user:{i:05d}" for i in range(3_000)]
        store.record("identify", [LedgerEntry(f"m{i}", k) for i, k in enumerate(keys)])
        store.flush()
        for wanted in (
            keys[:1_500],  # dense: one scan
            keys[::2],  # every other: a scan of twice as many rows, filtered
            keys[::3],  # sparse: the scan gives up and probes
            [*keys[1_000:2_000], "user:00500x", "user:zzz"],  # with unknown keys
        ):
            expected = {k: f"m{keys.index(k)}" for k in wanted if k in set(keys)}
            assert store.latest("identify", wanted) == expected
