"""The code that decides whether values are of a role's kind, one entry per kind.

The facts of each kind (its refusal, wire form, examples) are rows of
:data:`pandas_cio.catalogue.kinds.KINDS`; :data:`CHECKS` holds, for the same
kinds, the column checks validation runs and the check of a constant that
:func:`pandas_cio.prepare.plan.make_plan` runs once. The checks are plain
functions of a Series (no pandera here), each with the reason of the rows it
fails; :mod:`pandas_cio.prepare.validation` makes pandera checks of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..catalogue.kinds import KINDS, Kind
from .dates import TimestampReading, date_issue_reasons, read_timestamps

__all__ = [
    "CHECKS",
    "KindChecks",
    "Rule",
    "SeriesCheck",
    "constant_ok",
    "elementwise",
    "finite_check",
    "id_check",
    "is_integral",
    "is_text_dtype",
    "kind_rules",
]

SeriesCheck = Callable[[pd.Series], pd.Series]
"""A column check: True for each row that passes (missing values pass)."""

Rule = tuple[SeriesCheck, str]
"""A column check and the reason of the rows it fails."""


def is_text_dtype(dtype: Any) -> bool:
    """A pandas string dtype (not object): every non-missing value is a str."""
    return bool(pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype))


def elementwise(series: pd.Series, ok: Callable[[Any], bool]) -> pd.Series:
    """Apply ``ok`` to each non-missing value; missing values pass."""
    return series.map(ok, na_action="ignore").fillna(True).astype(bool)


def is_integral(value: Any) -> bool:
    """An integral number (not a bool): ``3``, ``3.0``, ``Decimal(3)``."""
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | np.integer):
        return True
    if isinstance(value, float | np.floating | Decimal):
        return bool(math.isfinite(value) and value == int(value))
    return False


def id_check(series: pd.Series) -> pd.Series:
    """Ids: non-blank strings or integral numbers, fast for whole dtypes."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pd.Series(False, index=series.index)
    if pd.api.types.is_integer_dtype(dtype):
        return pd.Series(True, index=series.index)
    if pd.api.types.is_float_dtype(dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(values) & (values == np.floor(values))
        return pd.Series(ok | np.isnan(values), index=series.index)
    if is_text_dtype(dtype):
        return (series.str.strip().str.len() > 0).fillna(True).astype(bool)
    return elementwise(series, lambda v: (isinstance(v, str) and bool(v.strip())) or is_integral(v))


def _is_text(value: Any) -> bool:
    # Blank is empty: a token, event name or url of spaces names nothing, and
    # Customer.io Journeys refuses empty ids (a device token is one).
    return isinstance(value, str) and bool(value.strip())


def _text_check(series: pd.Series) -> pd.Series:
    if is_text_dtype(series.dtype):
        return (series.str.strip().str.len() > 0).fillna(True).astype(bool)
    return elementwise(series, _is_text)


class _Timestamps:
    """Read a timestamp column once for its checks (pandera hands each a new Series)."""

    def __init__(self) -> None:
        self._last: tuple[pd.Series, TimestampReading] | None = None

    def __call__(self, series: pd.Series) -> TimestampReading:
        last = self._last
        if last is not None and last[0].index.equals(series.index) and last[0].equals(series):
            return last[1]
        reading = read_timestamps(series)
        self._last = (series, reading)
        return reading


def _timestamp_rules(column: Hashable, choices: tuple[str, ...]) -> list[Rule]:
    """A date-time, read one date format per column (see :mod:`pandas_cio.prepare.dates`)."""
    read = _Timestamps()

    def readable(series: pd.Series) -> pd.Series:
        reading = read(series)
        # Rows with a date issue fail that issue's own check, with its reason.
        issues = pd.Series(reading.issues != 0, index=series.index)
        return reading.stamps.notna() | series.isna() | issues

    # The row's reason names the column already (see plan.row_reason).
    named = (f"column {column!r}: ", f"column {column!r} ")

    def without(code: int) -> SeriesCheck:
        return lambda s: pd.Series(read(s).issues != code, index=s.index)

    rules: list[Rule] = [
        (without(code), why.removeprefix(named[0]).removeprefix(named[1]))
        for code, why in date_issue_reasons(column).items()
    ]
    return [*rules, (readable, KINDS["timestamp"].refuse())]


def finite_check(series: pd.Series) -> pd.Series:
    """Infinity has no JSON form; orjson would silently write null."""
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(~np.isinf(values), index=series.index)
    if pd.api.types.is_object_dtype(series.dtype):
        return elementwise(
            series, lambda v: not (isinstance(v, float | np.floating) and math.isinf(v))
        )
    return pd.Series(True, index=series.index)


def _no_json_form(series: pd.Series) -> pd.Series:
    """Whole dtypes with no faithful JSON form: durations, periods, intervals, complex."""
    dtype = series.dtype
    bad = (
        pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype | pd.IntervalDtype)
        or pd.api.types.is_complex_dtype(dtype)
    )
    return series.isna() if bad else pd.Series(True, index=series.index)


def _one(kind: Kind, check: SeriesCheck) -> Callable[[Hashable, tuple[str, ...]], list[Rule]]:
    """The rules of a kind with one check, refused with the kind's own reason."""
    return lambda column, choices: [(check, KINDS[kind].refuse())]


def _enum_rules(column: Hashable, choices: tuple[str, ...]) -> list[Rule]:
    allowed = set(choices)
    check: SeriesCheck = lambda s: elementwise(s, lambda v: v in allowed)  # noqa: E731
    return [(check, KINDS["enum"].refuse(sorted(allowed)))]


def _json_rules(column: Hashable, choices: tuple[str, ...]) -> list[Rule]:
    return [
        (finite_check, KINDS["json"].refuse()),
        (_no_json_form, "has no JSON form (convert durations, periods first)"),
    ]


def _not_bool(value: Any, converted: Any, choices: tuple[str, ...]) -> bool:
    # id and timestamp: the conversion gives None for a value that is not one.
    return converted is not None and not isinstance(value, bool)


@dataclass(frozen=True)
class KindChecks:
    """How values of one kind are checked.

    Attributes
    ----------
    column : callable
        ``(column, choices) -> rules``: the checks of a column of the kind,
        each with its reason, in the order a row's first failure is told.
    constant : callable or None
        ``(value, converted, choices) -> bool``: whether a constant given for
        a role of the kind is one (``converted`` is its wire value); None:
        every constant is (json).
    """

    column: Callable[[Hashable, tuple[str, ...]], list[Rule]]
    constant: Callable[[Any, Any, tuple[str, ...]], bool] | None


CHECKS: Mapping[Kind, KindChecks] = MappingProxyType(
    {
        "id": KindChecks(_one("id", id_check), _not_bool),
        "text": KindChecks(_one("text", _text_check), lambda v, c, ch: _is_text(v)),
        "timestamp": KindChecks(_timestamp_rules, _not_bool),
        "integer": KindChecks(
            _one("integer", lambda s: elementwise(s, is_integral)),
            # A constant is typed by hand: 2.0 is more likely a slip than meant.
            lambda v, c, ch: isinstance(v, int | np.integer) and not isinstance(v, bool),
        ),
        "enum": KindChecks(_enum_rules, lambda v, c, ch: v in ch),
        "object": KindChecks(
            _one("object", lambda s: elementwise(s, lambda v: isinstance(v, dict))),
            lambda v, c, ch: isinstance(v, dict),
        ),
        "json": KindChecks(_json_rules, None),
    }
)
"""Each kind's checks, keyed like :data:`~pandas_cio.catalogue.kinds.KINDS`."""

if set(CHECKS) != set(KINDS):  # pragma: no cover - a slip fails at import
    raise ValueError(f"kinds without checks: {sorted(set(KINDS) - set(CHECKS))}")


def kind_rules(kind: Kind, column: Hashable, choices: tuple[str, ...] = ()) -> list[Rule]:
    """The checks of a column of ``kind``, each with the reason of the rows it fails."""
    return CHECKS[kind].column(column, choices)


def constant_ok(kind: Kind, value: Any, converted: Any, choices: tuple[str, ...] = ()) -> bool:
    """Whether ``value``, given as a constant for a role of ``kind``, is one."""
    check = CHECKS[kind].constant
    return check is None or check(value, converted, choices)
