"""The ledger on columns: keys from the encoder's fields, masks, and one packer."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.catalogue.operations import get_operation
from pandas_cio.ledger import LedgerEntry, LedgerRun, SqliteLedger, call_key
from pandas_cio.ledger.keys import KEY_FIELDS, column_keys
from pandas_cio.outcome.results import ResultBuilder, Status
from pandas_cio.prepare.batching import Calls, pack, pack_runs
from pandas_cio.prepare.encoding import Encoder
from pandas_cio.prepare.plan import make_plan
from pandas_cio.testing import FakeCio

_ID = st.one_of(
    st.text(min_size=0, max_size=6),
    st.integers(-5, 10**12),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.none(),
)


def _keys(
    operation: str, frame: pd.DataFrame, args: dict[str, Any], payload: list[str] | None = None
) -> tuple[list[str | None], list[str | None]]:
    """The keys built from the encoder's fields, and call_key of each decoded call."""
    op = get_operation(operation)
    plan = make_plan(op, frame, args, payload, journeys=False)
    keys, decoded = [], []
    for columnwise in (True, False):
        encoder = Encoder(plan, columnwise=columnwise, fields=KEY_FIELDS[op.call_type])
        part = encoder.encode(frame, np.arange(len(frame)))
        keys.append(column_keys(op.call_type, part.fields, len(part.positions)).tolist())
        decoded.append([call_key(orjson.loads(c)) for c in part.calls])
    assert keys[0] == keys[1] and decoded[0] == decoded[1]
    return keys[0], decoded[0]


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
    plan = make_plan(get_operation("identify"), frame, args, ["plan"])
    rows = np.setdiff1d(
        np.arange(len(frame)), list(pandas_cio.prepare.validation.validate(plan, frame))
    )
    if not len(rows):
        return
    keys, decoded = _keys("identify", frame.iloc[rows].reset_index(drop=True), args, ["plan"])
    assert keys == decoded


def test_group_and_device_keys_come_from_the_fields() -> None:
    """objects.upsert, objects.relate and devices.register: no call is decoded for a key."""
    accounts = pd.DataFrame({"id": ["acme", "globex"], "kind": ["2", None], "name": ["A", "G"]})
    for args in ({"object_id": "id"}, {"object_id": "id", "object_type_id": "kind"}):
        keys, decoded = _keys("objects.upsert", accounts, args)
        assert keys == decoded
    members = accounts.assign(person=["u1", "u2"])
    keys, decoded = _keys("objects.relate", members, {"object_id": "id", "user_id": "person"})
    assert keys == decoded and keys[0] == '["1","acme","user:u1"]'
    phones = pd.DataFrame(
        {"person": ["u1", "u2"], "token": ["t1", "t2"], "at": ["2024-05-01T10:00:00Z"] * 2}
    )
    args = {"user_id": "person", "token": "token", "timestamp": "at"}
    keys, decoded = _keys("devices.register", phones, args)
    assert keys == decoded == ['["device","user:u1","t1"]', '["device","user:u2","t2"]']
    events = phones.assign(name=["Device Created or Updated", "Signed Up"])
    args = {"user_id": "person", "event": "name", "timestamp": "at"}
    keys, decoded = _keys("track", events, args)
    assert keys == decoded and keys[1] is None


def test_a_context_column_tells_the_device_token() -> None:
    """A token inside a whole-object context column is found as the call holds it."""
    events = pd.DataFrame(
        {
            "person": ["u1", "u2", "u3"],
            "context": [{"device": {"token": "t1"}}, {"device": "x"}, None],
            "at": ["2024-05-01T10:00:00Z"] * 3,
        }
    )
    args = {"user_id": "person", "event": "Device Created or Updated", "timestamp": "at"}
    keys, decoded = _keys("track", events, {**args, "context": "context"})
    assert keys == decoded


def test_the_ledger_never_decodes_a_call(
    cio_fake: FakeCio, cio_client: pandas_cio.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sends with a ledger, first and again, with orjson.loads refusing to decode a call.

    The fake service (pandas_cio.testing) decodes what it receives; no other
    module of the library, the ledger's included, may decode an encoded call.
    """
    loads = orjson.loads

    def refuse(data: Any, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        text = data.encode() if isinstance(data, str) else bytes(data)
        mine = caller.startswith("pandas_cio.") and not caller.startswith("pandas_cio.testing")
        if mine and b'"messageId"' in text:
            raise AssertionError(f"{caller} decoded {text[:40]!r}")
        return loads(data, *args, **kwargs)

    people = pd.DataFrame({"id": ["u1", "u2", "u3"], "plan": ["a", "b", "c"]})
    phones = pd.DataFrame(
        {"person": ["u1"], "token": ["t1"], "os": ["ios"], "at": ["2024-05-01T10:00:00Z"]}
    )
    sends = 0
    with SqliteLedger(":memory:") as ledger:
        monkeypatch.setattr(orjson, "loads", refuse)
        for _ in range(2):
            people.cio.identify(user_id="id", ledger=ledger, client=cio_client)
            people.cio.objects.upsert(object_id="id", ledger=ledger, client=cio_client)
            phones.cio.devices.register(
                user_id="person",
                token="token",
                platform="os",
                timestamp="at",
                ledger=ledger,
                client=cio_client,
            )
            sends += 1
        monkeypatch.undo()
        again = people.cio.identify(user_id="id", ledger=ledger, client=cio_client)
    assert sends == 2 and (again["status"] == "unchanged").all()
    assert len(cio_fake.calls) == 7  # the second round found everything delivered


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


def _run_through(sync: LedgerRun, frame: pd.DataFrame) -> tuple[list[int], list[int]]:
    """Encode, filter with changed_runs, pack with pack_runs and record every batch."""
    plan = make_plan(get_operation("identify"), frame, {"user_id": "id"}, ["plan"])
    part = Encoder(plan, fields=sync.fields).encode(frame, np.arange(len(frame)))
    positions = np.asarray(part.positions, dtype=np.int64)
    calls = Calls.of(part.calls)
    builder = ResultBuilder(frame.index, "identify")
    runs = [(positions, calls, part.ids, part.fields)]
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
