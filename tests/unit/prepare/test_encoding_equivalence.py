"""The column-wise encoder and array packing give byte-identical output to the reference paths.

The reference is one dict per row serialised with ``orjson.dumps`` and
:data:`pandas_cio.prepare.values.JSON_OPTIONS` (``Encoder(plan, columnwise=False)``,
and for identify an independent dict built here), and :func:`pack` for
batches. messageIds are hashes of the bytes, so equal bytes also prove the
ids did not change.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import sys
from collections import Counter
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pandas_cio.catalogue.operations import get_operation
from pandas_cio.prepare.batching import ENVELOPE_BYTES, MAX_BATCH_BYTES, Calls, pack, pack_runs
from pandas_cio.prepare.encoding import EncodedSlice, Encoder
from pandas_cio.prepare.message_ids import message_id_for
from pandas_cio.prepare.plan import make_plan
from pandas_cio.prepare.values import JSON_OPTIONS, column_values, json_default

pa = pytest.importorskip("pyarrow")
from pandas_cio.prepare import fragments  # noqa: E402

SENT_AT = "2026-11-23T12:00:00.000Z"

# Text that exercises every escape orjson makes, non-ASCII, and odd whitespace.
tricky_text = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\n", "\x00", "\x1f", "\x7f", "\u2028", "\x85", " ", "\t"]),
    ),
    max_size=12,
)
finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)
timestamps = st.datetimes(min_value=dt.datetime(1678, 1, 1), max_value=dt.datetime(2261, 12, 31))
zones = st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata"])
object_values = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.just(pd.NA),
    tricky_text,
    st.sampled_from(["\ud800", "a\udfff"]),  # lone surrogates: orjson refuses them
    st.integers(-(2**70), 2**70),
    finite_or_not,
    st.booleans(),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.dictionaries(tricky_text, st.one_of(st.none(), st.integers(), tricky_text), max_size=3),
    st.lists(st.one_of(st.integers(), tricky_text, st.none()), max_size=3),
    timestamps,
    st.dates(),
    st.frozensets(st.integers(), max_size=2),
)


# What pd.read_parquet gives for list and struct columns: numpy arrays (of
# numbers, strings, datetimes or objects), arrays of dicts whose values are
# arrays, NaT inside datetime arrays.
leaves = st.one_of(st.none(), st.integers(-(2**53), 2**53), tricky_text, st.booleans(), timestamps)
numpy_arrays = st.one_of(
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3).map(lambda v: np.array(v, np.int64)),
    st.lists(st.floats(width=32), max_size=3).map(lambda v: np.array(v, np.float32)),
    st.lists(st.floats(), max_size=3).map(lambda v: np.array(v, np.float64)),
    st.lists(st.booleans(), max_size=3).map(lambda v: np.array(v, np.bool_)),
    st.lists(st.one_of(st.none(), timestamps), max_size=3).map(
        lambda v: np.array(v, "datetime64[ns]")
    ),
    st.lists(tricky_text.filter(lambda s: "\x00" not in s), max_size=3).map(
        lambda v: np.array(v, dtype=str)
    ),
    st.lists(leaves, max_size=3).map(lambda v: np.array(v, dtype=object)),
)
nested_arrays = st.recursive(
    numpy_arrays,
    lambda inner: st.one_of(
        st.lists(
            st.dictionaries(tricky_text, st.one_of(leaves, inner), max_size=3), max_size=3
        ).map(lambda v: np.array(v, dtype=object)),
        st.lists(inner, max_size=2).map(lambda v: np.array([*v, None], dtype=object)[:-1]),
    ),
    max_leaves=8,
)
# An Arrow list<struct> column (pandas with dtype_backend="pyarrow").
items = st.fixed_dictionaries(
    {
        "sku": st.one_of(st.none(), tricky_text.filter(lambda s: "\x00" not in s)),
        "price": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
        "at": st.one_of(st.none(), timestamps),
        "tags": st.one_of(st.none(), st.lists(st.sampled_from(["a", "b", '"c"']), max_size=2)),
    }
)


def _column(kind: str, values: list[Any], zone: str) -> pd.Series:
    """Build one column of the given kind from drawn values."""
    if kind == "arrow_list":
        struct = pa.struct(
            [("sku", pa.string()), ("price", pa.float64()), ("at", pa.timestamp("us", zone)),
             ("tags", pa.list_(pa.string()))]
        )  # fmt: skip
        return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(values, pa.list_(struct))))
    if kind == "arrow_struct":
        return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(values)))
    if kind == "float64":
        return pd.Series(values, dtype="float64")
    if kind == "float32":
        return pd.Series(values, dtype="float64").astype("float32")
    if kind in ("int64", "uint8", "bool"):
        return pd.Series(values, dtype=kind)
    if kind == "str":
        return pd.Series(values, dtype="str")
    if kind == "string_python":
        return pd.Series(values, dtype=pd.StringDtype("python"))
    if kind == "category":
        return pd.Series(values, dtype="category")
    if kind == "Int64":
        return pd.Series(values, dtype="Int64")
    if kind == "naive":
        return pd.Series(pd.to_datetime(values))
    if kind == "aware":
        return pd.Series(pd.to_datetime(values)).dt.tz_localize(zone)
    if kind == "seconds":
        return pd.Series(np.array(values, dtype="datetime64[s]"))
    return pd.Series(values, dtype=object)


_KINDS: dict[str, Any] = {
    "float64": finite_or_not,
    "float32": st.floats(width=32, allow_nan=True),
    "int64": st.integers(-(2**63), 2**63 - 1),
    "uint8": st.integers(0, 255),
    "bool": st.booleans(),
    "str": st.one_of(st.none(), tricky_text.filter(lambda s: "\x00" not in s)),
    "string_python": st.one_of(st.none(), tricky_text),
    "category": st.one_of(st.none(), st.sampled_from(["gold", "silver", 'x"y', "caf\u00e9"])),
    "Int64": st.one_of(st.none(), st.integers(-(2**40), 2**40)),
    "naive": st.one_of(st.none(), timestamps),
    "aware": st.one_of(st.none(), timestamps),
    # Beyond datetime64[ns]: years 1..9999 take the numpy formatting path.
    "seconds": st.one_of(
        st.none(), st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 1, 1))
    ),
    "object": object_values,
    "arrays": st.one_of(st.none(), nested_arrays),
    "arrow_list": st.one_of(st.none(), st.lists(items, max_size=3)),
    "arrow_struct": st.one_of(st.none(), items),
}

ids = st.one_of(
    st.none(),
    st.text(st.sampled_from(["a", "7", " ", "\u3000", '"', "\\", "\x1c", "\u00e9"]), max_size=4),
)


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, np.ndarray]:
    """A frame of mixed dtypes with an id column, and the positions to encode."""
    rows = draw(st.integers(1, 12))
    kinds = draw(st.lists(st.sampled_from(sorted(_KINDS)), min_size=1, max_size=5))
    zone = draw(zones)
    data: dict[str, pd.Series] = {}
    id_kind = draw(st.sampled_from(["str", "object", "int64", "float64"]))
    if id_kind == "int64":
        id_values: list[Any] = draw(
            st.lists(st.integers(-(2**63), 2**63 - 1), min_size=rows, max_size=rows)
        )
    elif id_kind == "float64":
        id_values = draw(
            st.lists(
                st.sampled_from([1.0, 2.5, float("nan"), -3.0, 1e20]), min_size=rows, max_size=rows
            )
        )
    else:
        id_values = draw(st.lists(ids, min_size=rows, max_size=rows))
    data["id"] = _column(id_kind, id_values, zone)
    for i, kind in enumerate(kinds):
        values = draw(st.lists(_KINDS[kind], min_size=rows, max_size=rows))
        data[f"c{i}_{kind}" if i % 2 else f'k\u00e9y {i}"{kind}'] = _column(kind, values, zone)
    frame = pd.DataFrame(data)
    chosen = draw(st.lists(st.integers(0, rows - 1), unique=True, min_size=1))
    return frame, np.array(sorted(chosen), dtype=np.int64)


def _assert_same(fast: EncodedSlice, slow: EncodedSlice) -> None:
    assert fast.positions == slow.positions
    assert list(fast.calls) == list(slow.calls)
    assert fast.message_ids == slow.message_ids
    assert fast.invalid == slow.invalid


def _reject(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


@given(frames(), st.sampled_from(["omit", "null"]), st.booleans())
def test_identify_columnwise_equals_reference(
    drawn: tuple[pd.DataFrame, np.ndarray], missing: str, own_ids: bool
) -> None:
    """identify: the column-wise calls equal one orjson.dumps per row, byte for byte."""
    frame, positions = drawn
    args: dict[str, Any] = {"user_id": "id"}
    if own_ids:
        args["message_id"] = "id"
    plan = make_plan(get_operation("identify"), frame, args, missing=missing)  # type: ignore[arg-type]
    fast_encoder = Encoder(plan)
    assert fast_encoder.columnwise
    fast = fast_encoder.encode(frame, positions)
    _assert_same(fast, Encoder(plan, columnwise=False).encode(frame, positions))
    for call in fast.calls:
        json.loads(call, parse_constant=_reject)


@given(frames(), st.sampled_from(["omit", "null"]))
def test_identify_matches_an_independent_dict_per_row(
    drawn: tuple[pd.DataFrame, np.ndarray], missing: str
) -> None:
    """identify bytes equal a dict built here per row, dumped with JSON_OPTIONS."""
    frame, positions = drawn
    plan = make_plan(get_operation("identify"), frame, {"user_id": "id"}, missing=missing)  # type: ignore[arg-type]
    fast = Encoder(plan).encode(frame, positions)
    part = frame.iloc[positions]
    user_ids = column_values(part["id"], "id")
    traits = {str(c): column_values(part[c], "json") for c in frame.columns if c != "id"}
    expected: dict[int, bytes] = {}
    repeats: Counter[bytes] = Counter()
    for i, position in enumerate(positions.tolist()):
        call: dict[str, Any] = {"type": "identify"}
        if user_ids[i] is not None:
            call["userId"] = user_ids[i]
        row = {k: v[i] for k, v in traits.items() if v[i] is not None or missing == "null"}
        if row:
            call["traits"] = row
        try:
            content = orjson.dumps(call, default=json_default, option=JSON_OPTIONS)
        except TypeError:
            continue
        # The k-th repeat of the same content gets its own id; no timestamp: time 0.
        repeat = repeats[content]
        repeats[content] += 1
        digest = message_id_for("identify", content, 0, repeat)
        expected[position] = content[:-1] + b',"messageId":"' + digest.encode() + b'"}'
    assert dict(zip(fast.positions, fast.calls, strict=True)) == expected
    assert set(fast.invalid) == set(positions.tolist()) - set(expected)


OPERATIONS: dict[str, dict[str, Any]] = {
    # event column, properties payload
    "track": {"user_id": "id", "event": "name"},
    # nested context.device fields and a constant event name
    "devices.register": {"user_id": "id", "token": "name"},
    # a constant properties object with fields beneath it
    "objects.unrelate": {"user_id": "id", "object_id": "name"},
    # properties.category from a column merged with the payload
    "page": {"anonymous_id": "id", "name": "name", "category": "name"},
    # group traits with a nested field
    "objects.upsert": {"object_id": "name", "object_type_id": "id"},
}


@given(frames(), st.sampled_from(sorted(OPERATIONS)), st.sampled_from(["omit", "null"]))
def test_other_operations_columnwise_equal_reference(
    drawn: tuple[pd.DataFrame, np.ndarray], operation: str, missing: str
) -> None:
    """Every call shape (nested roles, constant objects, payloads) encodes identically."""
    frame, positions = drawn
    frame = frame.assign(name=frame["id"].astype(object))
    # journeys=False: these layouts test encoding, not what Journeys needs (a platform...).
    plan = make_plan(
        get_operation(operation),
        frame,
        OPERATIONS[operation],
        missing=missing,  # type: ignore[arg-type]
        journeys=False,
    )
    fast_encoder = Encoder(plan)
    assert fast_encoder.columnwise
    _assert_same(
        fast_encoder.encode(frame, positions),
        Encoder(plan, columnwise=False).encode(frame, positions),
    )


date_texts = st.one_of(
    st.none(),
    st.builds(
        lambda a, b, year, sep, rest: f"{a:02d}{sep}{b:02d}{sep}{year}{rest}",
        st.integers(0, 32),
        st.integers(0, 32),
        st.sampled_from(["2024", "99", "1970"]),
        st.sampled_from(["/", ".", "-"]),
        st.sampled_from(["", " 10:30", "T23:59:59Z", " 1:05 PM"]),
    ),
    timestamps.map(lambda d: d.isoformat()),
    st.sampled_from(["May 3, 2024", "not a date", "2024-02-30", ""]),
)


@given(
    st.lists(date_texts, min_size=1, max_size=15),
    st.sampled_from(["object", "str"]),
    st.data(),
)
def test_date_strings_encode_the_same_on_both_paths(
    texts: list[str | None], dtype: str, data: st.DataObject
) -> None:
    """Day/month strings read in the whole column's order, column-wise as per row, any slice."""
    frame = pd.DataFrame(
        {"id": [f"u{i}" for i in range(len(texts))], "when": pd.Series(texts, dtype=dtype)}
    )
    args = {"user_id": "id", "event": "E", "timestamp": "when"}
    plan = make_plan(get_operation("track"), frame, args)
    chosen = data.draw(st.lists(st.integers(0, len(texts) - 1), unique=True, min_size=1))
    positions = np.array(sorted(chosen), dtype=np.int64)
    fast_encoder = Encoder(plan)
    assert fast_encoder.columnwise
    _assert_same(
        fast_encoder.encode(frame, positions),
        Encoder(plan, columnwise=False).encode(frame, positions),
    )


def test_whole_object_column_under_fields_uses_the_reference_path() -> None:
    """A context column with fields beneath it merges deeply per row, on the per-row path."""
    frame = pd.DataFrame(
        {
            "id": ["u1", "u2"],
            "token": ["t1", "t2"],
            "ctx": [{"ip": "1.2.3.4", "device": {"model": "x"}}, None],
        }
    )
    args = {"user_id": "id", "token": "token", "context": "ctx"}
    plan = make_plan(get_operation("devices.register"), frame, args, journeys=False)
    encoder = Encoder(plan)
    assert not encoder.columnwise
    out = encoder.encode(frame, np.arange(2))
    assert orjson.loads(out.calls[0])["context"] == {
        "ip": "1.2.3.4",
        "device": {"model": "x", "token": "t1"},
    }
    plain = make_plan(get_operation("identify"), frame, {"user_id": "id", "context": "ctx"})
    assert Encoder(plain).columnwise  # a whole-object column alone is just a value


def test_unencodable_row_is_named_and_others_stay_columnwise() -> None:
    """A refused value sends its row to the reference path; the rest keep their bytes."""
    frame = pd.DataFrame({"id": ["u1", "u2", "u3"], "tags": [["a"], {"b"}, None], "x": [1, 2, 3]})
    plan = make_plan(get_operation("identify"), frame, {"user_id": "id"})
    fast = Encoder(plan).encode(frame, np.arange(3))
    assert fast.positions == [0, 2]
    assert fast.invalid[1].startswith("tags: ")
    _assert_same(fast, Encoder(plan, columnwise=False).encode(frame, np.arange(3)))


def test_deep_nesting_fails_where_the_call_would() -> None:
    """A cell nested just under orjson's depth limit alone, but over it in a call, is invalid."""
    deep: Any = 1
    for _ in range(253):
        deep = [deep]
    frame = pd.DataFrame({"id": ["u1", "u2"], "deep": [deep, [1]]})
    plan = make_plan(get_operation("identify"), frame, {"user_id": "id"})
    orjson.dumps(deep)  # fine on its own
    fast = Encoder(plan).encode(frame, np.arange(2))
    _assert_same(fast, Encoder(plan, columnwise=False).encode(frame, np.arange(2)))
    assert fast.positions == [1]


def test_whitespace_set_is_what_str_strip_removes() -> None:
    """The blank-id pre-filter knows every character str.isspace() accepts."""
    everything = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert set(fragments.WHITESPACE) == everything


def test_datetime_text_matches_numpy_over_the_nanosecond_range() -> None:
    """Arrow's faster date-time text equals numpy's for many random instants."""
    rng = np.random.default_rng(7)
    low = np.datetime64("1678-01-01", "ms").astype(np.int64)
    high = np.datetime64("2261-12-31", "ms").astype(np.int64)
    stamps = np.concatenate([rng.integers(low, high, 20_000), [-1, 0, 1, low, high]])
    series = pd.Series(stamps.astype("datetime64[ms]"))
    expected = np.datetime_as_string(stamps.astype("datetime64[ms]"), unit="ms").tolist()
    got = fragments.column_json(series, "json", 2, set())
    assert (got.head, got.tail) == ('"', 'Z"')
    assert got.array.to_pylist() == expected


# Packing


def _call(i: int, size: int) -> bytes:
    head = f'{{"i":{i},"p":"'.encode()
    return head + b"x" * (size - len(head) - 2) + b'"}'


@given(
    sizes=st.lists(st.integers(20, 32_000), max_size=120),
    cuts=st.lists(st.integers(0, 120), max_size=6),
    limit=st.integers(32_000 + ENVELOPE_BYTES, MAX_BATCH_BYTES),
)
def test_pack_runs_gives_the_batches_of_pack(sizes: list[int], cuts: list[int], limit: int) -> None:
    """Array packing over runs of any length yields the same batches as pack()."""
    calls = [_call(i, s) for i, s in enumerate(sizes)]
    edges = sorted({0, len(calls), *(c for c in cuts if c <= len(calls))})
    runs = [(np.arange(a, b), Calls.of(calls[a:b])) for a, b in itertools.pairwise(edges)]
    expected = list(pack(list(enumerate(calls)), max_batch_bytes=limit))
    got = list(pack_runs(runs, max_batch_bytes=limit))
    assert [(b.number, b.positions, b.size) for b in got] == [
        (b.number, b.positions, b.size) for b in expected
    ]
    assert [b.body(SENT_AT) for b in got] == [b.body(SENT_AT) for b in expected]
    assert [list(b.calls) for b in got] == [list(b.calls) for b in expected]


def test_pack_runs_refuses_a_call_that_can_never_fit() -> None:
    """As pack() does, a call larger than a body raises."""
    with pytest.raises(ValueError, match="never fit"):
        list(pack_runs([(np.arange(1), Calls.of([_call(0, 2_000)]))], max_batch_bytes=1_000))


def test_calls_behaves_as_a_sequence_of_bytes() -> None:
    """Calls indexes, slices, iterates, joins and drops like a list of bytes."""
    items = [b'{"a":1}', b"{}", b'{"b":"c"}']
    calls = Calls.of(items)
    assert len(calls) == 3 and list(calls) == items and calls == items
    assert calls[-1] == items[-1] and calls[1:] == items[1:] and calls[::2] == items[::2]
    assert bytes(calls.joined()) == b",".join(items)
    assert calls.sizes().tolist() == [len(c) for c in items]
    assert list(calls.drop([1])) == [items[0], items[2]]
    assert list(Calls.concat([calls[:1], calls[2:]])) == [items[0], items[2]]
    assert bytes(Calls.of([]).joined()) == b""
    with pytest.raises(IndexError):
        calls[3]
