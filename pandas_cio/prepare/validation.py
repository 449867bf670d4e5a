"""Build a pandera schema from a call plan and map its failures to rows.

Validation is lazy: every failing row of every check is collected, each row
gets one readable reason (the first failure of that row, by column order), and
the other rows still go. The schema is public through :func:`pandas_cio.schema`
so users can validate, or generate test data, before sending.

The checks come from three places: the value kinds
(:mod:`pandas_cio.prepare.kind_checks`), the documented payload keys
(:mod:`pandas_cio.prepare.payload_checks`) and Customer.io Journeys' limits
(:mod:`pandas_cio.prepare.journeys_checks`); this module puts them together.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from ..catalogue.kinds import KINDS
from ..catalogue.operation import MAX_ATTRIBUTES
from .call_plan import CallPlan, Source, describe_column, row_reason
from .journeys_checks import (
    attribute_columns,
    attribute_counts,
    attribute_reasons,
    journeys_checks,
    reserved_reasons,
    too_many_attributes,
)
from .kind_checks import elementwise, id_check, kind_rules
from .pandera_setup import SchemaErrors, first_validation, pa
from .payload_checks import spec_checks

__all__ = ["build_schema", "failure_reasons", "validate"]

_PYSPARK_WARNING = "PySpark does not yet fully support"


def _overlap_check(source: Source) -> list[pa.Check]:
    """Rows of a whole-object column that set a member another argument sends."""
    checks: list[pa.Check] = []
    prefix = ".".join(source.path)
    for path, label in source.beneath:

        def clash(value: Any, path: tuple[str, ...] = path) -> bool:
            node = value
            for i, key in enumerate(path):
                if not isinstance(node, dict) or key not in node:
                    return False
                node = node[key]
                if not isinstance(node, dict) and i < len(path) - 1:
                    return True  # a non-object where the field needs an object
            return True

        checks.append(
            pa.Check(
                lambda s, clash=clash: elementwise(s, lambda v: not clash(v)),
                error=(
                    f"sets {prefix}.{'.'.join(path)}, which {label}= sends; give it in one place"
                ),
            )
        )
    return checks


def _checks(source: Source, by_hand: bool = False) -> list[pa.Check]:
    # Documented keys first: only payload columns have a spec, and their own
    # reason ("must be a number") is more precise than the kind's.
    # A documented date-time is read as the timestamp kind reads it, not by its spec.
    documented = source.spec is not None and source.kind != "timestamp"
    checks = spec_checks(source.spec) if source.spec is not None and documented else []
    checks.extend(
        pa.Check(check, error=reason)
        for check, reason in kind_rules(source.kind, source.column, source.choices)
    )
    checks.extend(journeys_checks(source, by_hand))
    checks.extend(_overlap_check(source))
    return checks


def _names(plan: CallPlan) -> dict[Hashable, str]:
    """How reasons name each column: the column and the argument or key that reads it."""
    names: dict[Hashable, str] = {}
    for source in plan.sources:
        if not source.is_constant and source.column not in names:
            names[source.column] = source.describe()
    if plan.message_id is not None:
        names.setdefault(plan.message_id, describe_column(plan.message_id, "message_id"))
    return names


def build_schema(plan: CallPlan, *, by_hand: bool = False) -> pa.DataFrameSchema:
    """Return the pandera schema that rows of ``plan`` must satisfy.

    Parameters
    ----------
    plan : CallPlan
        A resolved plan.
    by_hand : bool
        Leave out the column checks :func:`validate` makes itself (reserved
        event names, each with its own pointer).

    Returns
    -------
    pandera.DataFrameSchema
        Columns are checked by value, never coerced; extra columns are allowed.
    """
    columns: dict[Any, pa.Column] = {}
    for source in plan.sources:
        if source.is_constant:
            continue
        existing = columns.get(source.column)
        checks = _checks(source, by_hand)
        if existing is not None:
            checks = [*existing.checks, *checks]
        nullable = source.nullable and (existing is None or existing.nullable)
        columns[source.column] = pa.Column(checks=checks, nullable=nullable, required=True)
    if plan.message_id is not None:
        columns[plan.message_id] = pa.Column(
            checks=[pa.Check(id_check, error=KINDS["id"].refuse())],
            nullable=False,
        )
    frame_checks: list[pa.Check] = []
    if plan.identity:
        identity = list(plan.identity)

        def has_person(frame: pd.DataFrame) -> pd.Series:
            return frame[identity].notna().any(axis=1)

        # ignore_na=False: pandera otherwise skips rows that are null in every
        # column, which are exactly the rows this check exists to catch.
        frame_checks.append(pa.Check(has_person, error=plan.identity_reason, ignore_na=False))
    counted = attribute_columns(plan)
    if len(counted) > MAX_ATTRIBUTES:
        frame_checks.append(
            pa.Check(
                lambda frame: attribute_counts(plan, frame, counted) <= MAX_ATTRIBUTES,
                error=too_many_attributes(plan),
                ignore_na=False,
            )
        )
    return pa.DataFrameSchema(
        columns=columns,
        checks=frame_checks,
        strict=False,
        coerce=False,
        name=f"cio.{plan.operation.name}",
    )


def failure_reasons(plan: CallPlan, errors: SchemaErrors, n_rows: int) -> dict[int, str]:
    """Map a lazy validation's failure cases to one reason per row position.

    Parameters
    ----------
    plan : CallPlan
        The plan whose schema failed.
    errors : pandera.errors.SchemaErrors
        The collected failures of a frame with a RangeIndex.
    n_rows : int
        Number of rows validated; failures that name no row apply to all.

    Returns
    -------
    dict of int to str
        Row position to reason, e.g. ``"user_id: must be a non-empty string or an integer"``.
    """
    names = _names(plan)
    reasons: dict[int, str] = {}
    cases = errors.failure_cases
    for column, check, index in zip(
        cases["column"].tolist(), cases["check"].tolist(), cases["index"].tolist(), strict=True
    ):
        label = names.get(column, str(column)) if column is not None else "row"
        text = "is missing" if check == "not_nullable" else str(check)
        if (
            column is None
            or (isinstance(column, float) and math.isnan(column))
            or (plan.identity and text == plan.identity_reason)
        ):
            reason = text
        else:
            reason = row_reason(label, text)
        if index is None or (isinstance(index, float) and math.isnan(index)):
            for position in range(n_rows):
                reasons.setdefault(position, reason)
        else:
            reasons.setdefault(int(index), reason)
    return reasons


def validate(plan: CallPlan, frame: pd.DataFrame) -> dict[int, str]:
    """Validate the plan's columns of ``frame``; return reasons by row position.

    The frame is validated with a fresh RangeIndex so that duplicate or
    MultiIndex labels cannot make a failure ambiguous.
    """
    columns = plan.columns
    view = frame[columns].reset_index(drop=True) if columns else frame.reset_index(drop=True)
    schema = build_schema(plan, by_hand=True)
    # The identity check is evaluated here rather than by pandera: pandera
    # reports a failing frame-level check with every column of the row, and
    # that report crashes on strings pyarrow refuses (lone surrogates), after
    # which the failure names no row and would be blamed on every row.
    reasons = _identity_reasons(plan, view)
    for extra in (attribute_reasons(plan, view), reserved_reasons(plan, view)):
        for position, reason in extra.items():
            reasons.setdefault(position, reason)
    schema.checks = []
    try:
        with warnings.catch_warnings(), first_validation():
            warnings.filterwarnings("ignore", _PYSPARK_WARNING, FutureWarning)
            # inplace: the schema never coerces, and `view` is our own frame;
            # without it pandera deep-copies every validated column first.
            schema.validate(view, lazy=True, inplace=True)
    except SchemaErrors as errors:
        for position, reason in failure_reasons(plan, errors, len(view)).items():
            reasons.setdefault(position, reason)
    return reasons


def _identity_reasons(plan: CallPlan, view: pd.DataFrame) -> dict[int, str]:
    """Rows with no value in any identity column, each with the reason."""
    if not plan.identity:
        return {}
    identity = list(plan.identity)
    missing = ~view[identity].notna().any(axis=1).to_numpy()
    return dict.fromkeys(np.flatnonzero(missing).tolist(), plan.identity_reason)
