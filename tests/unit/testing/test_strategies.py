"""Property tests of every operation with the public strategies of pandas_cio.testing."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.errors
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pandas_cio
from pandas_cio.catalogue.operations import OPERATIONS, get_operation
from pandas_cio.testing import (
    INVALID_KINDS,
    InvalidFrame,
    arguments_for,
    invalid_frames,
    invalid_kinds,
    valid_frames,
)

ALL_OPERATIONS = sorted(OPERATIONS)
# Every operation gets its own examples, so a few each keep the suite quick.
QUICK = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def send(operation: str, frame: pd.DataFrame, arguments: dict[str, Any]) -> pd.DataFrame:
    """Dry-run ``operation`` through its accessor method, as a user would call it."""
    op = get_operation(operation)
    namespace, _, method = op.method.rpartition(".")
    target = getattr(frame.cio, namespace) if namespace else frame.cio
    if op.event is not None and namespace == "semantic":
        return getattr(target, method)(op.event, **arguments, dry_run=True, progress=False)
    return getattr(target, method)(**arguments, dry_run=True, progress=False)


# Under a second a case, but 77 cases: about 16 s together.
@pytest.mark.slow
@pytest.mark.parametrize("operation", ALL_OPERATIONS)
@QUICK
@given(data=st.data())
def test_valid_frames_pass_a_dry_run(operation: str, data: st.DataObject) -> None:
    """Every row of a drawn valid frame is accepted: no row is invalid."""
    frame = data.draw(valid_frames(operation, max_rows=6))
    result = send(operation, frame, arguments_for(operation))
    assert result.index.equals(frame.index)
    assert (result["status"] == "dry_run").all(), result["error"].dropna().tolist()


# About 20 s over its 77 cases.
@pytest.mark.slow
@pytest.mark.parametrize("operation", ALL_OPERATIONS)
@QUICK
@given(data=st.data())
def test_broken_rows_are_invalid_and_only_they(operation: str, data: st.DataObject) -> None:
    """Every drawn broken row is invalid with a reason; every intact row passes."""
    drawn = data.draw(invalid_frames(operation, max_rows=6))
    result = send(operation, drawn.frame, arguments_for(operation))
    broken = drawn.broken.notna()
    assert (result.loc[broken, "status"] == "invalid").all()
    assert result.loc[broken, "error"].notna().all()
    assert (result.loc[~broken, "status"] == "dry_run").all()


@QUICK
@given(drawn=valid_frames("identify", max_rows=5, user_id="id", traits=["plan", "ltv"]))
def test_frames_follow_the_callers_own_arguments(drawn: pd.DataFrame) -> None:
    """With arguments, frames have the caller's columns, and the public schema accepts them."""
    assert list(drawn.columns) == ["id", "plan", "ltv"]
    pandas_cio.schema("identify", user_id="id", traits=["plan", "ltv"]).validate(drawn, lazy=True)


@QUICK
@given(
    drawn=invalid_frames(
        "devices.register",
        kinds=["bad_choice", "missing_required", "wrong_type", "missing_person"],
        user_id="uid",
        token="push_token",
        platform=pandas_cio.col("os"),
    )
)
def test_the_public_schema_rejects_exactly_the_broken_rows(drawn: InvalidFrame) -> None:
    """pandas_cio.schema fails on the broken rows and on no other."""
    schema = pandas_cio.schema(
        "devices.register", user_id="uid", token="push_token", platform=pandas_cio.col("os")
    )
    with pytest.raises(pandera.errors.SchemaErrors) as info:
        schema.validate(drawn.frame, lazy=True)
    failing = set(info.value.failure_cases["index"].dropna().astype(int))
    assert failing == set(drawn.frame.index[drawn.broken.notna()])


@QUICK
@given(drawn=invalid_frames("Video Playback Started", kinds=["bad_choice"]))
def test_only_the_chosen_kinds_are_drawn(drawn: InvalidFrame) -> None:
    """kinds= restricts the breakage to those kinds."""
    assert set(drawn.broken.dropna()) == {"bad_choice"}


def test_kinds_an_operation_cannot_have_are_refused() -> None:
    """An object upsert has no person to leave out; unknown kinds are named."""
    assert "missing_person" not in invalid_kinds("objects.upsert")
    with pytest.raises(ValueError, match="cannot have rows of kind"):
        invalid_frames("objects.upsert", kinds=["missing_person"])
    with pytest.raises(ValueError, match="unknown kinds"):
        invalid_frames("identify", kinds=["cosmic_rays"])


def test_every_kind_is_reachable_somewhere() -> None:
    """Each kind of invalid row can be drawn for at least one operation."""
    reachable = {kind for name in ALL_OPERATIONS for kind in invalid_kinds(name)}
    assert reachable == set(INVALID_KINDS)
