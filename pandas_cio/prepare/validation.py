"""Build a pandera schema from a call plan and map its failures to rows.

Validation is lazy: every failing row of every check is collected, each row
gets one readable reason (the first failure of that row, by column order), and
the other rows still go. The schema is public through :func:`pandas_cio.schema`
so users can validate, or generate test data, before sending.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
import pandas as pd

from ..catalogue.events import PropertySpec
from ..catalogue.operations import (
    MAX_ATTRIBUTE_NAME_BYTES,
    MAX_ATTRIBUTE_VALUE_BYTES,
    MAX_ATTRIBUTES,
    JsonType,
)
from .dates import TimestampReading, date_issue_reasons, read_timestamps
from .pandera_setup import SchemaErrors, first_validation, pa
from .plan import JOURNEYS_OFF, RESERVED_EVENTS, CallPlan, Source, describe_column, row_reason
from .values import JSON_OPTIONS, json_default

try:
    import pyarrow as pa_arrow
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - pyarrow is a dependency; measure row by row
    pa_arrow = None

__all__ = ["build_schema", "failure_reasons", "validate"]

_PYSPARK_WARNING = "PySpark does not yet fully support"

SeriesCheck = Callable[[pd.Series], pd.Series]


def _is_text_dtype(dtype: Any) -> bool:
    """A pandas string dtype (not object): every non-missing value is a str."""
    return bool(pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype))


def _elementwise(series: pd.Series, ok: Callable[[Any], bool]) -> pd.Series:
    return series.map(ok, na_action="ignore").fillna(True).astype(bool)


def _is_integral(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | np.integer):
        return True
    if isinstance(value, float | np.floating | Decimal):
        return bool(math.isfinite(value) and value == int(value))
    return False


def _id_check(series: pd.Series) -> pd.Series:
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
    if _is_text_dtype(dtype):
        return (series.str.strip().str.len() > 0).fillna(True).astype(bool)
    return _elementwise(
        series, lambda v: (isinstance(v, str) and bool(v.strip())) or _is_integral(v)
    )


def _text_check(series: pd.Series) -> pd.Series:
    # Blank is empty: a token, event name or url of spaces names nothing, and
    # Customer.io Journeys refuses empty ids (a device token is one).
    if _is_text_dtype(series.dtype):
        return (series.str.strip().str.len() > 0).fillna(True).astype(bool)
    return _elementwise(series, lambda v: isinstance(v, str) and bool(v.strip()))


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


def _timestamp_checks(column: Hashable) -> list[pa.Check]:
    """A date-time, read one date format per column (see :mod:`pandas_cio.prepare.dates`)."""
    read = _Timestamps()

    def readable(series: pd.Series) -> pd.Series:
        reading = read(series)
        # Rows with a date issue fail that issue's own check, with its reason.
        issues = pd.Series(reading.issues != 0, index=series.index)
        return reading.stamps.notna() | series.isna() | issues

    # The row's reason names the column already (see plan.row_reason).
    named = (f"column {column!r}: ", f"column {column!r} ")
    checks = [
        pa.Check(
            lambda s, code=code: pd.Series(read(s).issues != code, index=s.index),
            error=why.removeprefix(named[0]).removeprefix(named[1]),
        )
        for code, why in date_issue_reasons(column).items()
    ]
    return [*checks, pa.Check(readable, error="must be a date-time")]


def _finite_check(series: pd.Series) -> pd.Series:
    """Infinity has no JSON form; orjson would silently write null."""
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(~np.isinf(values), index=series.index)
    if pd.api.types.is_object_dtype(series.dtype):
        return _elementwise(
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


_TYPE_OK: dict[JsonType, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: (
        isinstance(v, int | float | np.integer | np.floating | Decimal)
        and not isinstance(v, bool | np.bool_)
    ),
    "integer": _is_integral,
    "boolean": lambda v: isinstance(v, bool | np.bool_),
    "array": lambda v: isinstance(v, list | tuple | np.ndarray),
    "object": lambda v: isinstance(v, dict),
}


def _json_type_check(json_type: JsonType) -> SeriesCheck:
    ok = _TYPE_OK[json_type]

    def check(series: pd.Series) -> pd.Series:
        dtype = series.dtype
        if json_type in ("number", "integer") and pd.api.types.is_integer_dtype(dtype):
            return pd.Series(True, index=series.index)
        if json_type == "number" and pd.api.types.is_float_dtype(dtype):
            return pd.Series(True, index=series.index)
        if json_type == "boolean" and pd.api.types.is_bool_dtype(dtype):
            return pd.Series(True, index=series.index)
        if json_type == "string" and _is_text_dtype(dtype):
            return pd.Series(True, index=series.index)
        return _elementwise(series, ok)

    return check


_ARTICLE = {"integer": "an integer", "object": "an object (dict)", "array": "an array (list)"}


def _finite_number(value: Any) -> bool:
    return not isinstance(value, float | np.floating) or math.isfinite(value)


def _item_ok(json_type: JsonType, value: Any) -> bool:
    """A JSON value nested in an array: no null, no infinity, the documented type."""
    return value is not None and _finite_number(value) and _TYPE_OK[json_type](value)


def _array_check(element_ok: Callable[[Any], bool]) -> SeriesCheck:
    """Check every element of the array cells; cells that are not arrays fail the type check."""

    def ok(value: Any) -> bool:
        return not _TYPE_OK["array"](value) or all(element_ok(e) for e in value)

    return lambda series: _elementwise(series, ok)


_EXACT: dict[JsonType, frozenset[type]] = {
    "string": frozenset({str}),
    "number": frozenset({int}),  # floats go the long way, which refuses infinity
    "integer": frozenset({int}),
    "boolean": frozenset({bool}),
    "array": frozenset({list}),
    "object": frozenset({dict}),
}

# Codes of _FirstBadMember: the row is fine, or an element is not an object;
# codes 0, 1, ... name the documented key whose value is wrong.
_MEMBERS_OK, _NOT_AN_OBJECT = -1, -2


class _FirstBadMember:
    """Find, in one pass, the first problem in each cell of an array-of-objects column.

    One check per documented key keeps each reason precise ("every element's
    price must be a number"); this shared pass keeps the cost at one visit
    per element instead of one per key. The last result is kept for the
    next check of the same column (a schema is built per validation).
    """

    def __init__(self, items: Mapping[str, JsonType]) -> None:
        self.index = {key: i for i, key in enumerate(items)}
        self.types = list(items.values())
        # Exact Python types that are always right for a key: the common case
        # then costs one set lookup instead of the general check.
        self.exact = [_EXACT[t] for t in self.types]
        self._last: tuple[np.ndarray, pd.Index, pd.Series] | None = None

    def _code(self, value: Any) -> int:
        if not _TYPE_OK["array"](value):
            return _MEMBERS_OK  # missing, or not an array: the type check reports it
        index, types, exact = self.index, self.types, self.exact
        for element in value:
            if not isinstance(element, dict):
                return _NOT_AN_OBJECT
            for key, member in element.items():
                i = index.get(key)
                # A null member is no value: Arrow structs (a list<struct>
                # column read from Parquet) have every field, null where absent.
                if (
                    i is not None
                    and member is not None
                    and type(member) not in exact[i]
                    and not _item_ok(types[i], member)
                ):
                    return i
        return _MEMBERS_OK

    def __call__(self, series: pd.Series) -> pd.Series:
        # pandera hands each check a new Series over the same column: compare the
        # memory it views. The cached array stays referenced, so while it is
        # cached no other array can take its address.
        cells = series.to_numpy(dtype=object)
        last = self._last
        if (
            last is not None
            and last[0].ctypes.data == cells.ctypes.data
            and len(last[0]) == len(cells)
            and last[1].equals(series.index)
        ):
            return last[2]
        if _VOUCHED:
            known = _VOUCHED.get
            found = [known(id(v)) for v in cells]
            values = [
                self._code(v) if code is None else code
                for v, code in zip(cells, found, strict=True)
            ]
        else:
            values = [self._code(v) for v in cells]
        codes = pd.Series(values, index=series.index, dtype="int64")
        self._last = (cells, series.index, codes)
        return codes


# Arrays whose elements were checked column by column before they were built
# (grouping.py): id of the list -> its _FirstBadMember code. An id is here only
# while vouched_arrays runs, which holds the lists, so no other object can
# have that id meanwhile. Plain ints: the collector never walks this dict.
_VOUCHED: dict[int, int] = {}


@contextmanager
def vouched_arrays(arrays: Sequence[list[Any]], codes: np.ndarray) -> Iterator[None]:
    """Let validation take each array's element check from ``codes`` while in the block.

    Parameters
    ----------
    arrays : sequence of list
        Arrays of objects, as built for an array-of-objects column.
    codes : numpy.ndarray
        For each array: -1 when every element is right, else the documented
        position of the key of the first wrong member (first element first,
        keys in element order), as :class:`_FirstBadMember` would find it.
    """
    ids = list(map(id, arrays))
    _VOUCHED.update(zip(ids, codes.tolist(), strict=True))
    try:
        yield
    finally:
        for key in ids:
            _VOUCHED.pop(key, None)
        del arrays  # held until here, so the ids stayed theirs


def member_failures(series: pd.Series, values: Sequence[Any], json_type: JsonType) -> np.ndarray:
    """Which of a column's values would be a wrong member of an array element.

    Parameters
    ----------
    series : pandas.Series
        The column the values come from (its dtype decides the fast paths).
    values : sequence
        The column's JSON-ready values (``None`` where missing: a missing
        member is left out of its element, so it is never wrong).
    json_type : JsonType
        The member's documented type.

    Returns
    -------
    numpy.ndarray of bool
        True where :class:`_FirstBadMember` would find the member wrong.
    """
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and json_type in ("number", "integer"):
        return np.zeros(len(values), dtype=bool)
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and json_type == "number":
        return np.zeros(len(values), dtype=bool)  # infinity was made missing
    if _is_text_dtype(dtype) and json_type == "string":
        return np.zeros(len(values), dtype=bool)
    exact = _EXACT[json_type]
    return np.fromiter(
        (v is not None and type(v) not in exact and not _item_ok(json_type, v) for v in values),
        dtype=bool,
        count=len(values),
    )


def _not_code(first_bad: _FirstBadMember, code: int) -> SeriesCheck:
    return lambda series: first_bad(series) != code


def _spec_checks(spec: PropertySpec) -> list[pa.Check]:
    """Checks of a documented payload key: type, enum, bounds and array elements."""
    article = _ARTICLE.get(spec.type, f"a {spec.type}")
    checks = [pa.Check(_json_type_check(spec.type), error=f"must be {article}")]
    if spec.enum:
        allowed = frozenset(spec.enum)
        checks.append(
            pa.Check(
                lambda s: _elementwise(s, lambda v: isinstance(v, str) and v in allowed),
                error=f"must be one of {', '.join(spec.enum)}",
            )
        )
    if spec.minimum is not None or spec.maximum is not None:
        low = -math.inf if spec.minimum is None else spec.minimum
        high = math.inf if spec.maximum is None else spec.maximum
        checks.append(
            pa.Check(
                lambda s: _elementwise(s, lambda v: not _TYPE_OK["number"](v) or low <= v <= high),
                error=f"must be between {spec.minimum} and {spec.maximum}",
            )
        )
    if spec.items is not None:
        first_bad = _FirstBadMember(spec.items)
        checks.append(
            pa.Check(_not_code(first_bad, _NOT_AN_OBJECT), error="must be an array of objects")
        )
        for code, (key, item_type) in enumerate(spec.items.items()):
            article = _ARTICLE.get(item_type, f"a {item_type}")
            checks.append(
                pa.Check(
                    _not_code(first_bad, code), error=f"every element's {key} must be {article}"
                )
            )
    elif spec.item_type is not None:
        item_type = spec.item_type
        article = _ARTICLE.get(item_type, f"a {item_type}")
        checks.append(
            pa.Check(
                _array_check(lambda e: _item_ok(item_type, e)),
                error=f"every element must be {article}",
            )
        )
    return checks


def _json_bytes(value: Any) -> int:
    """Bytes of a value on the wire: a string's UTF-8, anything nested its JSON."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, dict | list | tuple | np.ndarray):
        try:
            return len(orjson.dumps(value, default=json_default, option=JSON_OPTIONS))
        except TypeError:
            return 0  # no JSON form: the type checks report the row
    return 0  # numbers, booleans and date-times are far below any limit


def byte_sizes(series: pd.Series, limit: int) -> np.ndarray:
    """Wire bytes of each value of a column, exact where they may exceed ``limit``.

    Strings are measured with Arrow's kernels; other objects one by one, but
    only when they can be long (a string of at most ``limit // 4`` characters
    cannot exceed ``limit`` UTF-8 bytes). Missing values and numbers count 0.
    """
    dtype = series.dtype
    if not (pd.api.types.is_object_dtype(dtype) or _is_text_dtype(dtype)):
        return np.zeros(len(series), dtype=np.int64)
    kind = "string" if _is_text_dtype(dtype) else pd.api.types.infer_dtype(series, skipna=True)
    if kind == "empty":
        return np.zeros(len(series), dtype=np.int64)
    if kind == "string" and pa_arrow is not None:
        try:
            values = pa_arrow.array(series, type=pa_arrow.large_string(), from_pandas=True)
        except (pa_arrow.ArrowException, UnicodeError):
            pass  # lone surrogates: measured one by one below
        else:
            lengths = pc.fill_null(pc.binary_length(values), 0)
            return np.asarray(lengths.to_numpy(zero_copy_only=False), dtype=np.int64)
    quick = limit // 4

    def size(value: Any) -> int:
        if isinstance(value, str) and len(value) <= quick:
            return 0
        return _json_bytes(value)

    cells = series.to_numpy(dtype=object)
    return np.fromiter((size(v) for v in cells), dtype=np.int64, count=len(cells))


def reserved_names(series: pd.Series) -> pd.Series:
    """The reserved event name of each cell (missing where a cell holds none).

    One hash lookup over the column finds the few cells that hold one; only
    those are looked at again.
    """
    names = list(RESERVED_EVENTS)
    try:
        hits = series.isin(names).to_numpy(dtype=bool)
    except TypeError:  # unhashable cells are no names; the text check reports them
        hits = _elementwise(series, lambda v: isinstance(v, str) and v in RESERVED_EVENTS).to_numpy(
            dtype=bool
        )
    out = pd.Series(None, index=series.index, dtype=object)
    if hits.any():
        out[hits] = series[hits].astype(object)
    return out


def _journeys_checks(source: Source, by_hand: bool) -> list[pa.Check]:
    """Checks only Customer.io Journeys needs (the plan sets them with journeys=True).

    ``by_hand``: leave out the checks :func:`validate` makes itself, with a
    reason per row that pandera cannot give.
    """
    checks: list[pa.Check] = []
    if source.needed:
        checks.append(
            pa.Check(
                lambda s: s.notna(),
                error=f"is missing; {source.needed} ({JOURNEYS_OFF})",
                ignore_na=False,
            )
        )
    if source.max_bytes is not None:
        limit = source.max_bytes
        checks.append(
            pa.Check(
                lambda s: pd.Series(byte_sizes(s, limit) <= limit, index=s.index),
                error=(
                    f"over {limit} bytes, which Customer.io Journeys refuses in an event "
                    f"name ({JOURNEYS_OFF})"
                ),
            )
        )
    if source.reserved and not by_hand:
        checks.append(
            pa.Check(
                lambda s: reserved_names(s).isna(),
                error=(
                    "is an event name Customer.io Journeys routes to another action; send "
                    "it with the method that sends it on purpose, not track(event=...) "
                    f"({JOURNEYS_OFF})"
                ),
            )
        )
    if source.attribute:
        name_bytes = len(str(source.label).encode("utf-8", "surrogatepass"))
        if name_bytes > MAX_ATTRIBUTE_NAME_BYTES:
            checks.append(
                pa.Check(
                    lambda s: s.isna(),
                    error=(
                        f"the attribute name is {name_bytes} bytes; Customer.io Journeys "
                        f"refuses names over {MAX_ATTRIBUTE_NAME_BYTES} bytes; rename the "
                        f"column ({JOURNEYS_OFF})"
                    ),
                    ignore_na=False,
                )
            )
        value_limit = MAX_ATTRIBUTE_VALUE_BYTES
        checks.append(
            pa.Check(
                lambda s: pd.Series(byte_sizes(s, value_limit) <= value_limit, index=s.index),
                error=(
                    f"over {value_limit:,} bytes, which Customer.io Journeys refuses in an "
                    f"attribute value ({JOURNEYS_OFF})"
                ),
            )
        )
    return checks


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
                lambda s, clash=clash: _elementwise(s, lambda v: not clash(v)),
                error=(
                    f"sets {prefix}.{'.'.join(path)}, which {label}= sends; give it in one place"
                ),
            )
        )
    return checks


def _checks(source: Source, by_hand: bool = False) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if source.kind == "id":
        checks.append(pa.Check(_id_check, error="must be a non-empty string or an integer"))
    elif source.kind == "text":
        checks.append(pa.Check(_text_check, error="must be a non-empty string"))
    elif source.kind == "timestamp":
        checks.extend(_timestamp_checks(source.column))
    elif source.kind == "integer":
        checks.append(pa.Check(lambda s: _elementwise(s, _is_integral), error="must be an integer"))
    elif source.kind == "enum":
        choices = set(source.choices)
        checks.append(
            pa.Check(
                lambda s: _elementwise(s, lambda v: v in choices),
                error=f"must be one of {', '.join(sorted(choices))}",
            )
        )
    elif source.kind == "object":
        checks.append(pa.Check(_json_type_check("object"), error="must be an object (dict)"))
    if source.spec is not None and source.kind != "timestamp":
        checks.extend(_spec_checks(source.spec))
    if source.kind == "json":
        checks.append(pa.Check(_finite_check, error="must be a finite number, not infinity"))
        checks.append(
            pa.Check(_no_json_form, error="has no JSON form (convert durations, periods first)")
        )
    checks.extend(_journeys_checks(source, by_hand))
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
            checks=[pa.Check(_id_check, error="must be a non-empty string or an integer")],
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
    counted = _attribute_columns(plan)
    if len(counted) > MAX_ATTRIBUTES:
        frame_checks.append(
            pa.Check(
                lambda frame: _attribute_counts(plan, frame, counted) <= MAX_ATTRIBUTES,
                error=_too_many_attributes(plan),
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
    for extra in (_attribute_reasons(plan, view), _reserved_reasons(plan, view)):
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


def _attribute_columns(plan: CallPlan) -> list[Hashable]:
    """Columns whose values become attributes of the call (Journeys counts them)."""
    return [s.column for s in plan.sources if s.attribute and not s.is_constant]


def _attribute_counts(plan: CallPlan, view: pd.DataFrame, columns: list[Hashable]) -> pd.Series:
    if plan.missing == "null":  # missing values are sent as null and count too
        return pd.Series(len(columns), index=view.index)
    return view[columns].notna().sum(axis=1)


def _too_many_attributes(plan: CallPlan) -> str:
    arg = plan.operation.payload_arg or "payload"
    return (
        f"{arg}: more than {MAX_ATTRIBUTES} attributes; Customer.io Journeys refuses "
        f"calls that set more; send the columns in several calls ({JOURNEYS_OFF})"
    )


def _attribute_reasons(plan: CallPlan, view: pd.DataFrame) -> dict[int, str]:
    """Rows that set more attributes than Journeys takes in one call."""
    columns = _attribute_columns(plan)
    if len(columns) <= MAX_ATTRIBUTES:
        return {}
    over = (_attribute_counts(plan, view, columns) > MAX_ATTRIBUTES).to_numpy()
    return dict.fromkeys(np.flatnonzero(over).tolist(), _too_many_attributes(plan))


def _reserved_reasons(plan: CallPlan, view: pd.DataFrame) -> dict[int, str]:
    """Rows whose event name Journeys routes to another action, each with its method."""
    reasons: dict[int, str] = {}
    for source in plan.sources:
        if not source.reserved or source.is_constant:
            continue
        names = reserved_names(view[source.column]).to_numpy(dtype=object)
        for position in np.flatnonzero(pd.notna(names)).tolist():
            reason = RESERVED_EVENTS[names[position]]
            reasons.setdefault(position, source.reason(f"{reason} ({JOURNEYS_OFF})"))
    return reasons


def _identity_reasons(plan: CallPlan, view: pd.DataFrame) -> dict[int, str]:
    """Rows with no value in any identity column, each with the reason."""
    if not plan.identity:
        return {}
    identity = list(plan.identity)
    missing = ~view[identity].notna().any(axis=1).to_numpy()
    return dict.fromkeys(np.flatnonzero(missing).tolist(), plan.identity_reason)
