"""Hypothesis strategies for frames that an operation accepts, or rejects on chosen rows.

The strategies read the same call plan that :func:`pandas_cio.schema` turns
into a pandera schema, so a frame is valid exactly when the library says so::

    from hypothesis import given
    from pandas_cio.testing import invalid_frames, valid_frames

    @given(valid_frames("identify", user_id="id", traits=["plan", "ltv"]))
    def test_my_export_is_accepted(frame):
        result = frame.cio.identify(user_id="id", traits=["plan", "ltv"], dry_run=True)
        assert (result["status"] == "dry_run").all()

    @given(invalid_frames("devices.register", kinds=["bad_choice", "missing_required"]))
    def test_bad_devices_are_refused(drawn):
        result = drawn.frame.cio.devices.register(**arguments_for("devices.register"),
                                                 dry_run=True)
        assert (result["status"][drawn.broken.notna()] == "invalid").all()

pandera's own data synthesis works from dtypes and built-in checks; these
schemas check values whatever the dtype (ids may be strings or integers,
dates may be datetimes or ISO strings) with the library's own checks, which
pandera cannot invert, so the values are drawn here from each column's kind
(its examples and wrong value are rows of :data:`pandas_cio.catalogue.kinds.KINDS`)
and documented JSON type instead.

Without arguments, columns are named after the arguments (``user_id``,
``token``, ``object_type_id``...), plus the documented properties of a
semantic event and two free-form payload columns; :func:`arguments_for` gives
the matching keyword arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, NamedTuple

import pandas as pd
from hypothesis import strategies as st

from pandas_cio.catalogue.events import JsonType, PropertySpec
from pandas_cio.catalogue.kinds import KINDS, Kind
from pandas_cio.catalogue.operation import Operation
from pandas_cio.prepare.plan import CallPlan, Source
from pandas_cio.prepare.roles import Col, col
from pandas_cio.prepare.schemas import plan_for, resolve_operation
from pandas_cio.prepare.stamping import STATE_CALL_TYPES
from pandas_cio.prepare.supersede import KEY_PATHS
from pandas_cio.prepare.values import column_values

__all__ = [
    "INVALID_KINDS",
    "InvalidFrame",
    "arguments_for",
    "invalid_frames",
    "invalid_kinds",
    "valid_frames",
]

#: The kinds of invalid rows :func:`invalid_frames` can make:
#:
#: ``missing_person``   no user id (nor anonymous id) on the row
#: ``missing_required`` no value in a column every row needs (object_id, token, email_id...)
#: ``wrong_type``       a value of the wrong type (a bool id, a text number...)
#: ``bad_choice``       a value outside a documented set (platform "windows")
#: ``bad_timestamp``    a date-time that cannot be read
#: ``no_json_form``     a free-form value JSON cannot carry (a set, infinity)
INVALID_KINDS: tuple[str, ...] = (
    "missing_person",
    "missing_required",
    "wrong_type",
    "bad_choice",
    "bad_timestamp",
    "no_json_form",
)

# Free-form payload columns of the default layout, so payloads are exercised.
_EXTRA_COLUMNS = ("note", "score")
# Roles that take one object for every row, left out of the default layout.
_NOT_COLUMNS = frozenset({"message_id", "context", "integrations"})
# Small bounds keep numbers exact in float64 columns.
_INT_BOUND = 2**31
# A value of the wrong JSON type, for documented payload keys (the value
# kinds' own wrong values are rows of the kinds table).
_WRONG_JSON: dict[JsonType, Any] = {
    "string": 12345,
    "number": "lots",
    "integer": 1.5,
    "boolean": "yes",
    "array": "not an array",
    "object": "not an object",
}


class InvalidFrame(NamedTuple):
    """A frame with some rows broken on purpose.

    Attributes
    ----------
    frame : pandas.DataFrame
        The frame.
    broken : pandas.Series
        Aligned with ``frame``: the kind of breakage of each broken row
        (one of :data:`INVALID_KINDS`), missing for intact rows.
    """

    frame: pd.DataFrame
    broken: pd.Series


def arguments_for(operation: str) -> dict[str, Any]:
    """Return the arguments that go with frames drawn without arguments.

    Parameters
    ----------
    operation : str
        An operation or semantic event name.

    Returns
    -------
    dict
        Keyword arguments for the accessor method (and :func:`pandas_cio.schema`),
        each naming the column of the same name.

    Examples
    --------
    >>> arguments_for("alias")
    {'user_id': 'user_id', 'previous_id': 'previous_id', 'timestamp': 'timestamp'}
    >>> arguments_for("page")["name"]
    Col(name='name')
    """
    op = resolve_operation(operation)
    # Events Journeys turns into device updates refuse anonymous_id= (see make_plan).
    refused = {"anonymous_id"} if "user_id" in op.journeys_needs else set()
    return {
        role.arg: col(role.arg) if role.constant else role.arg
        for role in op.roles
        if role.arg not in _NOT_COLUMNS and role.default is None and role.arg not in refused
    }


def _layout(operation: str, arguments: dict[str, Any]) -> tuple[Operation, CallPlan]:
    op = resolve_operation(operation)
    if arguments:
        return op, plan_for(operation, **arguments)[0]
    names = [c.name if isinstance(c, Col) else c for c in arguments_for(operation).values()]
    extra = [*op.payload_fields, *_EXTRA_COLUMNS] if op.payload is not None else []
    frame = pd.DataFrame(columns=[*names, *extra])
    return op, plan_for(operation, frame, **arguments_for(operation))[0]


def _columns(plan: CallPlan) -> dict[Hashable, Source]:
    """Each column the plan reads, with the first source that reads it."""
    out: dict[Hashable, Source] = {}
    for source in plan.sources:
        if not source.is_constant:
            out.setdefault(source.column, source)
    return out


# codec="utf-8" leaves out lone surrogates, which no UTF-8 request body can carry.
_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)
_ID_TEXT = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=12)


def _number(spec: PropertySpec | None, integer: bool) -> st.SearchStrategy[Any]:
    low = spec.minimum if spec is not None and spec.minimum is not None else -_INT_BOUND
    high = spec.maximum if spec is not None and spec.maximum is not None else _INT_BOUND
    ints = st.integers(int(low), int(high))
    if integer:
        return ints
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False, width=32)
    return st.one_of(ints, floats)


def _json_scalar() -> st.SearchStrategy[Any]:
    return st.one_of(_TEXT, st.integers(-_INT_BOUND, _INT_BOUND), st.booleans())


def _of_type(json_type: JsonType) -> st.SearchStrategy[Any]:
    """A value of one JSON type (for array elements and object members)."""
    return {
        "string": _TEXT,
        "number": _number(None, integer=False),
        "integer": _number(None, integer=True),
        "boolean": st.booleans(),
        "object": st.dictionaries(_ID_TEXT, _json_scalar(), max_size=3),
        "array": st.lists(_json_scalar(), max_size=3),
    }[json_type]


def _documented(spec: PropertySpec) -> st.SearchStrategy[Any]:
    if spec.enum:
        return st.sampled_from(spec.enum)
    if spec.type == "array":
        if spec.items is not None:
            element = st.fixed_dictionaries(
                {}, optional={key: _of_type(kind) for key, kind in spec.items.items()}
            )
            return st.lists(element, max_size=3)
        assert spec.item_type is not None
        return st.lists(_of_type(spec.item_type), max_size=3)
    if spec.type in ("number", "integer"):
        return _number(spec, integer=spec.type == "integer")
    return _of_type(spec.type)


# Draws of each kind beyond its examples in the kinds table (enum values
# are the role's choices). A kind left out is drawn from its examples alone.
_DRAWS: dict[Kind, Callable[[Source], st.SearchStrategy[Any]]] = {
    "id": lambda source: st.one_of(_ID_TEXT, st.integers(0, _INT_BOUND)),
    "text": lambda source: _TEXT.filter(str.strip),  # blank text counts as empty
    "timestamp": lambda source: st.datetimes(
        dt.datetime(2000, 1, 1), dt.datetime(2035, 1, 1), timezones=st.just(dt.UTC)
    ),
    "integer": lambda source: _number(None, integer=True),
    "enum": lambda source: st.sampled_from(source.choices),
    "object": lambda source: _of_type("object"),
    "json": lambda source: _json_scalar(),
}


def _values(source: Source) -> st.SearchStrategy[Any]:
    """Valid values of one column."""
    if source.spec is not None and source.kind != "timestamp":
        return _documented(source.spec)
    examples = KINDS[source.kind].valid
    drawn = [_DRAWS[source.kind](source)] if source.kind in _DRAWS else []
    return st.one_of(*drawn, *([st.sampled_from(examples)] if examples else []))


@st.composite
def _row(draw: st.DrawFn, plan: CallPlan, columns: dict[Hashable, Source]) -> dict[Hashable, Any]:
    row: dict[Hashable, Any] = {}
    for column, source in columns.items():
        if column in plan.identity:
            continue
        value = _values(source)
        optional = source.nullable and not source.needed  # needed: Journeys drops rows without
        row[column] = draw(value if not optional else st.none() | value)
    if plan.identity:
        present = draw(
            st.lists(st.sampled_from(plan.identity), min_size=1, max_size=2, unique=True)
        )
        for column in plan.identity:
            row[column] = draw(_values(columns[column])) if column in present else None
    return row


def _key_of(plan: CallPlan) -> Callable[[dict[Hashable, Any]], Hashable] | None:
    """The person or object a drawn row sets (identify, group), to draw each once.

    Two rows of one key would make the earlier one ``superseded``
    (:mod:`pandas_cio.prepare.supersede`), not accepted; events have no key.
    """
    if plan.operation.call_type not in STATE_CALL_TYPES:
        return None
    sources = {s.path: s for s in plan.sources if s.path in KEY_PATHS.values()}

    def part(row: dict[Hashable, Any], name: str) -> Any:
        source = sources.get(KEY_PATHS[name])
        if source is None:
            return None
        value = source.value if source.is_constant else row.get(source.column)
        return column_values(pd.Series([value], dtype=object), "id")[0]

    def key(row: dict[Hashable, Any]) -> Hashable:
        user = part(row, "user")
        anonymous = part(row, "anonymous") if user is None else None
        return (user, anonymous, part(row, "type") or "1", part(row, "object"))

    return key


def _frame(rows: Sequence[dict[Hashable, Any]], columns: Iterable[Hashable]) -> pd.DataFrame:
    names = list(columns)
    # Built column by column so that pandas infers each column's dtype, as it
    # would for a frame read from a file.
    return pd.DataFrame({name: [row[name] for row in rows] for name in names}, columns=names)


def valid_frames(
    operation: str, *, min_rows: int = 0, max_rows: int = 8, **arguments: Any
) -> st.SearchStrategy[pd.DataFrame]:
    """Draw frames whose every row ``operation`` accepts.

    For ``identify`` and object operations each person or object appears
    once: a repeat would make its earlier row ``superseded``.

    Parameters
    ----------
    operation : str
        An operation name (``"identify"``, ``"objects.relate"``...) or a
        semantic event name (``"Order Completed"``).
    min_rows, max_rows : int
        Bounds on the number of rows.
    **arguments
        The accessor method's arguments (as for :func:`pandas_cio.schema`);
        none: the layout of :func:`arguments_for`.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of pandas.DataFrame
    """
    _, plan = _layout(operation, arguments)
    columns = _columns(plan)
    rows = st.lists(
        _row(plan, columns), min_size=min_rows, max_size=max_rows, unique_by=_key_of(plan)
    )
    return rows.map(lambda drawn: _frame(drawn, columns))


def _breakers(plan: CallPlan, columns: dict[Hashable, Source]) -> dict[str, list[Any]]:
    """For each kind of invalid row, the ways to break a row (column, bad value)."""
    out: dict[str, list[Any]] = {kind: [] for kind in INVALID_KINDS}
    if plan.identity:
        out["missing_person"].append(("identity", None))
    for column, source in columns.items():
        if column in plan.identity:
            continue
        if not source.nullable:
            out["missing_required"].append((column, None))
        if source.spec is not None and source.kind != "timestamp":
            out["wrong_type"].append((column, _WRONG_JSON[source.spec.type]))
        elif source.kind != "json":
            out["wrong_type"].append((column, KINDS[source.kind].invalid))
        if source.choices:
            out["bad_choice"].append((column, "not-a-choice"))
        if source.kind == "timestamp":
            out["bad_timestamp"].append((column, KINDS["timestamp"].invalid))
        if source.kind == "json" and source.spec is None:
            out["no_json_form"].extend([(column, {1, 2}), (column, KINDS["json"].invalid)])
    for column in plan.identity:
        out["wrong_type"].append((column, KINDS["id"].invalid))
    return out


def invalid_kinds(operation: str, **arguments: Any) -> tuple[str, ...]:
    """Return the kinds of invalid rows :func:`invalid_frames` can make for an operation.

    Parameters
    ----------
    operation : str
        An operation or semantic event name.
    **arguments
        As for :func:`valid_frames`.

    Returns
    -------
    tuple of str
        A subset of :data:`INVALID_KINDS`, in its order.
    """
    _, plan = _layout(operation, arguments)
    breakers = _breakers(plan, _columns(plan))
    return tuple(kind for kind in INVALID_KINDS if breakers[kind])


def invalid_frames(
    operation: str,
    *,
    kinds: Sequence[str] | None = None,
    min_rows: int = 1,
    max_rows: int = 8,
    **arguments: Any,
) -> st.SearchStrategy[InvalidFrame]:
    """Draw frames where some rows (at least one) are broken in one of ``kinds``.

    Parameters
    ----------
    operation : str
        An operation or semantic event name.
    kinds : sequence of str, optional
        Kinds of breakage to draw from (see :data:`INVALID_KINDS`); default
        every kind the operation can have (:func:`invalid_kinds`).
    min_rows, max_rows : int
        Bounds on the number of rows (``min_rows`` at least 1).
    **arguments
        As for :func:`valid_frames`.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of InvalidFrame

    Raises
    ------
    ValueError
        A kind is unknown, or the operation cannot have it (a group upsert
        has no person to leave out).
    """
    _, plan = _layout(operation, arguments)
    columns = _columns(plan)
    breakers = _breakers(plan, columns)
    possible = tuple(kind for kind in INVALID_KINDS if breakers[kind])
    chosen = possible if kinds is None else tuple(kinds)
    if unknown := [k for k in chosen if k not in INVALID_KINDS]:
        raise ValueError(f"unknown kinds {unknown}; choose from {INVALID_KINDS}")
    if impossible := [k for k in chosen if k not in possible]:
        raise ValueError(f"{operation} cannot have rows of kind {impossible}; it can: {possible}")
    if not chosen:
        raise ValueError(f"{operation} has no kind of invalid row to draw")

    @st.composite
    def draw_frame(draw: st.DrawFn) -> InvalidFrame:
        rows = draw(
            st.lists(
                _row(plan, columns),
                min_size=max(min_rows, 1),
                max_size=max_rows,
                unique_by=_key_of(plan),
            )
        )
        broken_rows = draw(
            st.lists(st.sampled_from(range(len(rows))), min_size=1, max_size=len(rows), unique=True)
        )
        kinds_of: list[str | None] = [None] * len(rows)
        for i in broken_rows:
            kind = draw(st.sampled_from(chosen))
            column, bad = draw(st.sampled_from(breakers[kind]))
            if column == "identity":
                rows[i] = {**rows[i], **dict.fromkeys(plan.identity)}
            else:
                rows[i] = {**rows[i], column: bad}
            kinds_of[i] = kind
        frame = _frame(rows, columns)
        return InvalidFrame(frame, pd.Series(kinds_of, index=frame.index, dtype=object))

    return draw_frame()
