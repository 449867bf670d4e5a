"""Tests of how arguments name columns or constants, and of plan errors."""

from __future__ import annotations

import pandas as pd
import pytest

import pandas_cio
from pandas_cio.catalogue.operations import get_operation
from pandas_cio.errors import ColumnError
from pandas_cio.prepare.plan import make_plan
from pandas_cio.prepare.roles import Col, Lit, resolve_value


@pytest.fixture
def events() -> pd.DataFrame:
    """A small events frame."""
    return pd.DataFrame({"uid": ["u1", "u2"], "event_name": ["A", "B"], "sku": ["s1", "s2"]})


def test_bare_string_is_a_column_when_the_frame_has_it(events: pd.DataFrame) -> None:
    """event='event_name' names the column."""
    assert resolve_value(events, "event", "event_name") == Col("event_name")


def test_bare_string_is_a_constant_otherwise(events: pd.DataFrame) -> None:
    """event='Signed Up' is the event name for every row."""
    assert resolve_value(events, "event", "Signed Up") == Lit("Signed Up")


def test_near_miss_of_a_column_raises(events: pd.DataFrame) -> None:
    """A typo of a column name is not silently sent as an event name."""
    with pytest.raises(ColumnError, match="close to column 'event_name'"):
        resolve_value(events, "event", "evnt_name")


def test_lit_and_col_are_explicit(events: pd.DataFrame) -> None:
    """lit() forces a constant even when a column has that name; col() forces a column."""
    assert resolve_value(events, "event", pandas_cio.lit("event_name")) == Lit("event_name")
    with pytest.raises(ColumnError, match="not a column"):
        resolve_value(events, "event", pandas_cio.col("Signed Up"))


def test_track_sends_a_literal_event_name(events: pd.DataFrame) -> None:
    """A literal event name lands in every call; the remaining columns are properties."""
    plan = make_plan(get_operation("track"), events, {"user_id": "uid", "event": "Signed Up"})
    by_path = {s.path: s for s in plan.sources}
    assert by_path[("event",)].value == "Signed Up"
    assert ("properties", "event_name") in by_path
    assert ("properties", "uid") not in by_path


def test_missing_role_column_names_it(events: pd.DataFrame) -> None:
    """A role naming a missing column raises ColumnError (a ValueError) naming it."""
    with pytest.raises(ValueError, match="'usr' is not a column"):
        events.cio.track(user_id="usr", event="A", dry_run=True)


def test_required_role_is_checked(events: pd.DataFrame) -> None:
    """track without event= raises before anything else happens."""
    with pytest.raises(ColumnError, match="event="):
        events.cio.track(user_id="uid", dry_run=True)


def test_identify_needs_a_person(events: pd.DataFrame) -> None:
    """identify without user_id or anonymous_id raises."""
    with pytest.raises(ColumnError, match="user_id= or anonymous_id="):
        events.cio.identify(dry_run=True)


def test_duplicate_column_names_are_refused() -> None:
    """Two columns with one name make roles ambiguous: refused before sending."""
    frame = pd.DataFrame([[1, 2, 3]], columns=["id", "x", "x"])
    with pytest.raises(ColumnError, match="duplicate column names"):
        frame.cio.identify(user_id="id", dry_run=True)


def test_payload_keys_must_not_collide() -> None:
    """Columns 1 and '1' would both become key '1'; refused."""
    frame = pd.DataFrame({"id": ["a"], 1: [1], "1": [2]})
    with pytest.raises(ColumnError, match="would both be sent as key '1'"):
        frame.cio.identify(user_id="id", dry_run=True)


def test_traits_mapping_renames(events: pd.DataFrame) -> None:
    """traits={column: key} sends the column under another key."""
    plan = make_plan(get_operation("identify"), events, {"user_id": "uid"}, {"sku": "product"})
    paths = [s.path for s in plan.sources if s.column is not None]
    assert ("traits", "product") in paths
    assert ("traits", "event_name") not in paths


def test_unknown_argument_is_a_type_error(events: pd.DataFrame) -> None:
    """A misspelt keyword is caught rather than ignored."""
    with pytest.raises(TypeError, match="unexpected"):
        make_plan(get_operation("identify"), events, {"user_idd": "uid"})
