"""The kinds table has one row per value kind, and every stage reads its row.

Validation refuses each kind's wrong value with the kind's reason and accepts
its examples; constants are held to the same reasons; the OpenAPI document
describes roles with the kind's schema; the hypothesis strategies break rows
with the kind's wrong value and draw its examples.
"""

from __future__ import annotations

from typing import Any, get_args

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.catalogue import openapi
from pandas_cio.catalogue.kinds import KINDS, Kind, KindSpec
from pandas_cio.catalogue.operation import Role
from pandas_cio.catalogue.operations import OPERATIONS, get_operation
from pandas_cio.prepare import kind_checks
from pandas_cio.prepare.call_plan import CallPlan, Source
from pandas_cio.prepare.constants import constant_value
from pandas_cio.prepare.validation import validate
from pandas_cio.prepare.values import column_values
from pandas_cio.testing import strategies

ALL_KINDS: tuple[Kind, ...] = get_args(Kind)
CHOICES = ("android", "ios")
QUICK = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _plan(kind: Kind) -> CallPlan:
    """A plan of one column of ``kind`` (the operation only names the schema)."""
    source = Source(("x",), kind, "x", column="x", choices=CHOICES if kind == "enum" else ())
    return CallPlan(get_operation("track"), (source,), None, ())


def _valid(row: KindSpec) -> tuple[Any, ...]:
    return row.valid or CHOICES


def test_every_kind_has_one_row_and_checks() -> None:
    assert list(KINDS) == list(ALL_KINDS)
    assert all(KINDS[kind].kind == kind for kind in ALL_KINDS)
    assert set(kind_checks.CHECKS) == set(ALL_KINDS)
    assert set(strategies._DRAWS) <= set(ALL_KINDS)
    used = {role.kind for op in OPERATIONS.values() for role in op.roles}
    assert used <= set(ALL_KINDS)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_invalid_example_is_refused_with_the_kinds_reason(kind: Kind) -> None:
    row = KINDS[kind]
    frame = pd.DataFrame({"x": pd.Series([_valid(row)[0], row.invalid], dtype=object)})
    reasons = validate(_plan(kind), frame)
    assert reasons == {1: f"x: {row.refuse(sorted(CHOICES))}"}


@QUICK
@given(data=st.data())
def test_each_valid_example_passes_alone_and_mixed(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(ALL_KINDS))
    row = KINDS[kind]
    values = data.draw(st.lists(st.sampled_from(_valid(row)), min_size=1, max_size=4))
    frame = pd.DataFrame({"x": pd.Series(values, dtype=object)})
    assert validate(_plan(kind), frame) == {}
    sent = column_values(frame["x"], kind)
    if row.wire == "id-string":
        assert all(isinstance(v, str) for v in sent)
    elif row.wire == "iso-utc":
        assert all(isinstance(v, str) and v.endswith("Z") for v in sent)


@pytest.mark.parametrize("kind", [k for k in ALL_KINDS if kind_checks.CHECKS[k].constant])
def test_constants_are_held_to_the_kinds_reason(kind: Kind) -> None:
    row = KINDS[kind]
    op = get_operation("track")
    role = Role("x", ("x",), kind, constant=True, choices=CHOICES if kind == "enum" else ())
    for value in _valid(row):
        constant_value(op, role, value)
    with pytest.raises(pandas_cio.ColumnError) as raised:
        constant_value(op, role, row.invalid)
    assert str(raised.value) == f"track(): x={row.invalid!r} {row.refuse(role.choices)}"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_openapi_describes_a_role_with_the_kinds_schema(kind: Kind) -> None:
    schema = openapi._role_schema(Role("x", ("x",), kind))
    assert {k: v for k, v in schema.items() if k != "x-argument"} == dict(KINDS[kind].schema)


def test_every_kind_a_role_has_is_in_the_document() -> None:
    """The committed document's argument schemas carry each used kind's schema."""
    document = openapi.build()["components"]["schemas"]
    for op in OPERATIONS.values():
        call = document[openapi.component_name(op)]
        for role in op.roles:
            if role.arg == "message_id" or len(role.path) != 1:
                continue
            placed = call["properties"][role.path[0]]
            if "$ref" in placed:
                placed = document[placed["$ref"].rsplit("/", 1)[1]]
            for key, value in KINDS[role.kind].schema.items():
                assert placed[key] == value, (op.name, role.arg)


def _breaks(kind: Kind) -> list[Any]:
    """Every bad value the strategies put in a column of ``kind``."""
    plan = _plan(kind)
    ways = strategies._breakers(plan, strategies._columns(plan)).values()
    return [bad for found in ways for _, bad in found]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_strategies_break_rows_with_the_kinds_invalid_example(kind: Kind) -> None:
    invalid = KINDS[kind].invalid
    assert any(bad is invalid or bad == invalid for bad in _breaks(kind))


@QUICK
@given(data=st.data())
def test_strategies_draw_values_the_kind_accepts(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(ALL_KINDS))
    plan = _plan(kind)
    (source,) = plan.sources
    values = data.draw(st.lists(strategies._values(source), min_size=1, max_size=4))
    assert validate(plan, pd.DataFrame({"x": pd.Series(values, dtype=object)})) == {}
