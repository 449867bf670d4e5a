"""Small frames for every operation that pandas and polars can both hold.

The hypothesis strategies of :mod:`pandas_cio.testing.strategies` draw what a
pandas export may hold, including object columns of mixed types (ids that are
strings on one row and integers on another), which a polars column cannot be.
These frames are deterministic and typed per column, so a polars frame made
from one holds the very same values; they still carry what the conversion
must keep: nulls in every optional column, a row that is invalid, date-times
in a time zone other than UTC, list and struct columns.

:func:`case_for` reads the call plan that :func:`pandas_cio.schema` reads, so
every operation of the table has a case, and a new operation gets one.

The send tests' builders live here too, written once: :func:`people` (a frame
of distinct people), :func:`fast_retry` and :func:`client_for` /
:func:`client_at` (a client with millisecond backoffs), and :func:`recorded`
(the calls a fake accepted, without the send's own stamps).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from urllib3.util.retry import Retry

import pandas_cio
from pandas_cio.catalogue.events import EVENTS, JsonType, PropertySpec
from pandas_cio.catalogue.operations import OPERATIONS
from pandas_cio.delivery.transport import default_retry
from pandas_cio.prepare.plan import Source
from pandas_cio.prepare.roles import Col
from pandas_cio.prepare.schemas import plan_for, resolve_operation
from pandas_cio.testing import FakeCio, arguments_for

ROWS = 4
#: The row every case makes invalid (no person, or no value in a required column).
INVALID_ROW = 2
#: Free-form payload columns: nulls, a time zone, a list and a struct.
EXTRA = {
    "note": ["first", None, "third", "fourth"],
    "score": [1.5, None, 3.0, 4.25],
    "seen_at": pd.to_datetime(
        ["2024-03-01T09:30:00", None, "2024-03-31T02:30:00", "2024-11-03T01:30:00"]
    ).tz_localize("America/New_York", ambiguous=True, nonexistent="shift_forward"),
    "tags": [["a", "b"], [], None, ["c"]],
    "address": [{"city": "Lyon", "zip": "69001"}, None, {"city": "Oslo", "zip": None}, None],
}

#: Every operation of the table (people, objects, devices), then every event it
#: can send by name (each semantic category, the Customer.io events included).
OPERATION_NAMES = tuple(n for n in OPERATIONS if not n.startswith("semantic:")) + tuple(
    name for name, spec in EVENTS.items() if not spec.refused
)


class Case(NamedTuple):
    """One operation's frame and arguments."""

    operation: str
    frame: pd.DataFrame
    arguments: dict[str, Any]


def _of_type(kind: JsonType, i: int) -> Any:
    return {
        "string": f"s{i}",
        "number": 1.5 + i,
        "integer": i + 1,
        "boolean": i % 2 == 0,
        "object": {"k": f"v{i}", "n": i},
        "array": [f"a{i}", f"b{i}"],
    }[kind]


def _documented(spec: PropertySpec, i: int) -> Any:
    if spec.enum:
        return spec.enum[i % len(spec.enum)]
    if spec.type == "array":
        if spec.items is not None:
            # Every key on every element: a polars struct has fixed fields.
            return [
                {key: _of_type(kind, i + j) for key, kind in spec.items.items()} for j in (0, 1)
            ]
        assert spec.item_type is not None
        return [_of_type(spec.item_type, i), _of_type(spec.item_type, i + 1)]
    if spec.type in ("number", "integer"):
        low = spec.minimum if spec.minimum is not None else 0
        high = spec.maximum if spec.maximum is not None else low + 100
        value = low + (high - low) * (i + 1) / (ROWS + 1)
        return round(value) if spec.type == "integer" else value
    return _of_type(spec.type, i)


def _value(column: Hashable, source: Source, i: int) -> Any:
    if source.kind == "timestamp":
        # One instant per row, read in Tokyo: the calls carry UTC.
        return pd.Timestamp(2024, 5, 1 + i, 12, 30, tz="UTC").tz_convert("Asia/Tokyo")
    if source.spec is not None:
        return _documented(source.spec, i)
    if source.kind == "id":
        return f"{column}-{i}"
    if source.kind == "text":
        return f"{column} {i}"
    if source.kind == "integer":
        return i + 1
    if source.kind == "enum":
        return source.choices[i % len(source.choices)]
    if source.kind == "object":
        return {"k": f"v{i}"}
    return f"j{i}"


def case_for(operation: str) -> Case:
    """Return a small frame of ``operation`` with one invalid row and nulls."""
    op = resolve_operation(operation)
    arguments = arguments_for(operation)
    names = [c.name if isinstance(c, Col) else c for c in arguments.values()]
    extra = list(EXTRA) if op.payload is not None else []
    layout = pd.DataFrame(columns=[*names, *op.payload_fields, *extra])
    plan, _ = plan_for(operation, layout, **arguments)
    columns: dict[Hashable, Source] = {}
    for source in plan.sources:
        if not source.is_constant:
            columns.setdefault(source.column, source)
    data: dict[Hashable, list[Any]] = {}
    for column, source in columns.items():
        if column in EXTRA:
            data[column] = list(EXTRA[column])
            continue
        values = [_value(column, source, i) for i in range(ROWS)]
        # An optional value left out; timestamps stay, so that no event is
        # stamped with the send's start and both sends carry the same ids.
        optional = source.nullable and not source.needed and source.kind != "timestamp"
        if optional and column not in plan.identity:
            values[1] = None
        data[column] = values
    # The invalid row: no person, else no value in a column every row needs.
    broken = list(plan.identity) or [c for c, s in columns.items() if not s.nullable][:1]
    assert broken, f"{operation}: no column can make a row invalid"
    for column in broken:
        data[column][INVALID_ROW] = None
    frame = pd.DataFrame(data)
    return Case(operation, frame, arguments)


def method_for(frame: Any, operation: str) -> Callable[..., Any]:
    """The accessor method that sends ``operation``: ``frame.cio.objects.upsert``...

    A semantic event's method takes the event name first; it is bound here.
    """
    if operation in OPERATIONS and not operation.startswith("semantic:"):
        target: Any = frame.cio
        for part in operation.split("."):
            target = getattr(target, part)
        method: Callable[..., Any] = target
        return method
    category = getattr(frame.cio.semantic, EVENTS[operation].category)

    def send(**arguments: Any) -> Any:
        return category(operation, **arguments)

    return send


# Builders of the send tests


def people(n: int, *, seed: int = 3) -> pd.DataFrame:
    """``n`` distinct people (``user-0`` ...) with a ``plan`` and a ``score`` trait."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"user-{i}" for i in range(n)],
            "plan": rng.choice(["free", "pro", "team"], n),
            "score": rng.random(n),
        }
    )


def fast_retry(total: int = 10) -> Retry:
    """The library's retry policy with ``total`` retries and millisecond backoffs, no jitter."""
    return default_retry(total).new(backoff_factor=0.001, backoff_jitter=0.0)


def client_at(url: str, key: str, *, retries: int = 10, **options: Any) -> pandas_cio.Client:
    """A client of ``url`` with :func:`fast_retry` (``retry=`` overrides it) and ``options``."""
    options.setdefault("retry", fast_retry(retries))
    return pandas_cio.Client(key, base_url=url, **options)


def client_for(fake: FakeCio, *, retries: int = 10, **options: Any) -> pandas_cio.Client:
    """A client bound to ``fake``, as :func:`client_at` makes it."""
    return client_at(fake.url, fake.api_key, retries=retries, **options)


def recorded(fake: FakeCio, result: pd.DataFrame) -> list[dict[str, Any]]:
    """The calls the fake accepted, without messageId and the send's own timestamp stamp."""
    sent = result[result["status"] == "sent"]
    assert fake.message_ids == sent["message_id"].tolist()
    # Events sent without timestamp= carry the send's start (pandas_cio.prepare.stamping).
    stamp = result.attrs["cio"]["timestamp"]
    return [
        {k: v for k, v in call.items() if k != "messageId" and (k, v) != ("timestamp", stamp)}
        for call in fake.calls
    ]
