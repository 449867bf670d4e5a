"""pandas_cio.schema: each operation's pandera schema, public for users' own checks."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import pytest

import pandas_cio


def failing_rows(schema: pandera.pandas.DataFrameSchema, frame: pd.DataFrame) -> set[int]:
    """Row labels the schema rejects (empty when it accepts the frame)."""
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        return set(errors.failure_cases["index"].dropna().astype(int))
    return set()


def test_schema_without_a_frame_names_the_arguments_columns() -> None:
    """identify with user_id and traits: exactly those columns, checked by value."""
    schema = pandas_cio.schema("identify", user_id="id", traits=["plan", "ltv"])
    assert sorted(schema.columns) == ["id", "ltv", "plan"]
    frame = pd.DataFrame({"id": ["u1", True, None], "plan": ["a", "b", "c"], "ltv": [1, 2, 3]})
    assert failing_rows(schema, frame) == {1, 2}


def test_schema_agrees_with_the_pipeline() -> None:
    """The rows the public schema rejects are those a dry run marks invalid."""
    frame = pd.DataFrame(
        {
            "uid": ["u1", "u2", "u3", None],
            "query": ["shoes", 5, "hats", "socks"],
            "at": ["2024-01-01", "2024-01-02", "soon", "2024-01-03"],
        }
    )
    schema = pandas_cio.schema("Products Searched", user_id="uid", timestamp="at")
    result = frame.cio.semantic.ecommerce(
        "Products Searched", user_id="uid", timestamp="at", dry_run=True
    )
    assert failing_rows(schema, frame) == set(frame.index[result["status"] == "invalid"])
    assert failing_rows(schema, frame) == {1, 2, 3}


def test_documented_properties_are_optional_but_typed() -> None:
    """Without properties=, an event's documented keys are optional columns, checked if present."""
    schema = pandas_cio.schema("Order Completed", user_id="uid")
    assert not schema.columns["revenue"].required
    assert failing_rows(schema, pd.DataFrame({"uid": ["u1"]})) == set()
    assert failing_rows(schema, pd.DataFrame({"uid": ["u1", "u2"], "revenue": [1.5, "x"]})) == {1}


def test_required_properties_stay_required() -> None:
    """email_id is required for email events, as the pipeline requires it."""
    schema = pandas_cio.schema("Email Bounced", user_id="uid")
    assert schema.columns["email_id"].required
    with pytest.raises(pandera.errors.SchemaErrors):
        schema.validate(pd.DataFrame({"uid": ["u1"]}), lazy=True)


def test_constants_without_a_frame_and_columns_with_col() -> None:
    """Frame-free: a bare string for a constant role is a constant; col() names a column."""
    constant = pandas_cio.schema("track", user_id="uid", event="Signed Up")
    column = pandas_cio.schema("track", user_id="uid", event=pandas_cio.col("event_name"))
    assert list(constant.columns) == ["uid"]
    assert sorted(column.columns) == ["event_name", "uid"]


def test_schema_with_a_frame_resolves_like_the_accessor() -> None:
    """With frame=, a bare string that names a column is that column."""
    frame = pd.DataFrame({"uid": ["u1"], "event_name": ["A"], "sku": ["s1"]})
    schema = pandas_cio.schema("track", frame, user_id="uid", event="event_name")
    assert sorted(schema.columns) == ["event_name", "sku", "uid"]


def test_schema_takes_every_operation_name_and_event_name() -> None:
    """Operation names (relate takes relationship_traits=) and event names both work."""
    relate = pandas_cio.schema(
        "objects.relate", user_id="uid", object_id="acct", relationship_traits=["role"]
    )
    assert sorted(relate.columns) == ["acct", "role", "uid"]
    assert "token" in pandas_cio.schema("Device Deleted", user_id="uid", token="token").columns
    with pytest.raises(pandas_cio.UnknownEventError, match="neither an operation nor"):
        pandas_cio.schema("Order Placed", user_id="uid")
