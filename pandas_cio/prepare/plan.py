"""Resolve an accessor call's arguments against a frame into a :class:`CallPlan`.

A plan is the one description of "which value of which column goes where in
the call" that validation and encoding both read. Every argument error is
raised here, before any row is looked at, with the column named.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from ..catalogue.events import PropertySpec
from ..catalogue.operations import Kind, Operation, Role
from ..catalogue.reserved import JOURNEYS_OFF, RESERVED_EVENTS
from ..errors import ColumnError, UnknownArgumentError
from ..suggest import unknown_keywords_message
from .roles import Col, Lit, resolve_column, resolve_value
from .values import column_values

__all__ = [
    "CONSTANT",
    "JOURNEYS_OFF",
    "RESERVED_EVENTS",
    "CallPlan",
    "Missing",
    "PayloadSpec",
    "Source",
    "describe_column",
    "make_plan",
    "row_reason",
]

Missing = Literal["omit", "null"]
PERSON_ARGS = ("user_id", "anonymous_id")
PayloadSpec = Sequence[Hashable] | Mapping[Hashable, str] | None


class _Constant:
    """Marks a :class:`Source` whose value is a constant rather than a column."""

    def __repr__(self) -> str:
        return "CONSTANT"


CONSTANT: Final = _Constant()


@dataclass(frozen=True)
class Source:
    """Where one value of the call comes from.

    Attributes
    ----------
    path : tuple of str
        Where it lands in the call.
    kind : Kind
        What the values must be.
    label : str
        The argument or payload key, used in error reasons.
    column : hashable
        The source column, or :data:`CONSTANT` for a constant (not None:
        None is a legal column label).
    value : Any
        The constant when ``column`` is :data:`CONSTANT`.
    nullable : bool
        Whether a row may lack the value.
    choices : tuple of str
        Allowed values (an enum role, or a documented payload key with an enum).
    spec : PropertySpec or None
        Documented type and constraints of a payload key (semantic events),
        checked by validation.
    needed : str
        When not empty, every row needs a value because Customer.io Journeys
        does (the reason, for the row's error); set only with ``journeys=True``.
    max_bytes : int or None
        Journeys refuses longer values (UTF-8 bytes of a string).
    attribute : bool
        A payload column that becomes a Journeys attribute: its name and
        values are held to Journeys' attribute limits.
    reserved : bool
        The values are event names; names Journeys routes to another action
        (:data:`~pandas_cio.catalogue.events.JOURNEYS_ROUTED`) are refused.
    beneath : tuple of (path, label)
        For a whole-object column (``context=``): the members other
        arguments place beneath it, relative to it, with their arguments.
        A row whose object sets one of them is refused, as for a constant.
    in_payload : bool
        A payload column (``label`` is its key), not an argument's.
    """

    path: tuple[str, ...]
    kind: Kind
    label: str
    column: Hashable = CONSTANT
    value: Any = None
    nullable: bool = True
    choices: tuple[str, ...] = ()
    spec: PropertySpec | None = None
    needed: str = ""
    max_bytes: int | None = None
    attribute: bool = False
    reserved: bool = False
    beneath: tuple[tuple[tuple[str, ...], str], ...] = ()
    in_payload: bool = False

    @property
    def is_constant(self) -> bool:
        """Whether the value is one constant for every row."""
        return self.column is CONSTANT

    def describe(self) -> str:
        """The source as a row's reason names it (see :func:`describe_column`)."""
        if self.is_constant:
            return f"{self.label}="
        return describe_column(self.column, self.label, in_payload=self.in_payload)

    def reason(self, text: str) -> str:
        """A row's reason about this source's value (see :func:`row_reason`)."""
        return row_reason(self.describe(), text)


def describe_column(column: Hashable, name: str, *, in_payload: bool = False) -> str:
    """Name a column in a row's reason: the column, then what reads it.

    Parameters
    ----------
    column : hashable
        The column label, as the frame has it.
    name : str
        The argument that names the column (``timestamp``), or the payload
        key it is sent as.
    in_payload : bool
        Whether ``name`` is a payload key rather than an argument.

    Returns
    -------
    str
        ``"signup_at (timestamp=)"``, ``"price_usd (sent as price)"``, or just
        the column when it is called like its argument or key.

    Examples
    --------
    >>> describe_column("signup_at", "timestamp")
    'signup_at (timestamp=)'
    >>> describe_column("platform", "platform")
    'platform'
    """
    shown = str(column)
    if shown == name:
        return shown
    return f"{shown} (sent as {name})" if in_payload else f"{shown} ({name}=)"


def row_reason(described: str, text: str) -> str:
    """Compose a row's reason: what is wrong (``text``) with which column.

    The one place the shape of a row's reason is decided; validation and
    encoding both call it.

    Examples
    --------
    >>> row_reason(describe_column("os", "platform"), "must be one of android, ios")
    'os (platform=): must be one of android, ios'
    """
    return f"{described}: {text}"


@dataclass(frozen=True)
class CallPlan:
    """Everything needed to validate and encode a frame for one operation.

    Attributes
    ----------
    operation : Operation
        The table row.
    sources : tuple of Source
        The call's values in the order they are written.
    message_id : hashable or None
        The column that holds messageIds, or None to derive them from content.
    identity : tuple of hashable
        Columns of which each row needs at least one non-missing value.
    missing : {"omit", "null"}
        What a missing payload value becomes.
    journeys : bool
        Whether the checks that only Customer.io Journeys needs apply.
    """

    operation: Operation
    sources: tuple[Source, ...]
    message_id: Hashable | None
    identity: tuple[Hashable, ...]
    missing: Missing = "omit"
    journeys: bool = True

    @property
    def identity_reason(self) -> str:
        """The reason of a row with no value in any identity column.

        Composed like every other row's reason (:func:`row_reason`): the
        column and the argument that reads it, then the check.

        Examples
        --------
        ``id (user_id=): is missing`` for one identity column, and
        ``uid (user_id=) or anon (anonymous_id=): one of them needs a value``
        for two.
        """
        described: list[str] = []
        for column in dict.fromkeys(self.identity):
            # The argument that named the column (user_id or anonymous_id).
            args = [
                s.label
                for s in self.sources
                if not s.is_constant and s.column == column and s.label in PERSON_ARGS
            ]
            described.extend(describe_column(column, arg) for arg in args or [str(column)])
        if len(described) == 1:
            return row_reason(described[0], "is missing")
        return row_reason(" or ".join(described), "one of them needs a value")

    @property
    def columns(self) -> list[Hashable]:
        """Every column the plan reads, each once, in call order."""
        seen: dict[Hashable, None] = {}
        for source in self.sources:
            if not source.is_constant:
                seen.setdefault(source.column, None)
        if self.message_id is not None:
            seen.setdefault(self.message_id, None)
        return list(seen)


def _check_frame(frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated:
        raise ColumnError(f"the frame has duplicate column names: {duplicated!r}; rename them")


def _has_column(frame: pd.DataFrame, label: Hashable) -> bool:
    try:
        return label in frame.columns
    except TypeError:
        return False


# Column names that say "this is the person's id": sent as a trait or property
# they would set an attribute called userId, never the call's userId.
_IDENTITY_NAMES = {"userid": "user_id", "anonymousid": "anonymous_id"}


def _refuse_identity_columns(operation: Operation, columns: list[Hashable], arg: str) -> None:
    """Refuse a ``userId`` (``anonymous_id``...) column the default payload would send.

    Such a column is almost always meant as the person, and sent as a payload
    key it would only set an attribute of that name. Listing it in the
    payload argument sends it all the same, since then it was asked for.
    """
    roles = {role.arg for role in operation.roles}
    for column in columns:
        if not isinstance(column, str):
            continue
        role = _IDENTITY_NAMES.get(column.replace("_", "").replace("-", "").lower())
        if role is None or role not in roles:
            continue
        raise ColumnError(
            f"{operation.name}(): column {column!r} would be sent as {arg}.{column}, an "
            f"attribute, not as the person's id; to send it as the id pass "
            f"{role}={column!r}; to send it as {arg} list the columns with {arg}=[...]; "
            f"else leave it out: df.drop(columns={column!r})"
        )


def _payload_columns(
    frame: pd.DataFrame, operation: Operation, spec: PayloadSpec, used: set[Hashable]
) -> list[tuple[Hashable, str]]:
    arg = operation.payload_arg or "payload"
    chosen: list[tuple[Hashable, str]]
    if spec is None:
        chosen = [(c, str(c)) for c in frame.columns if c not in used]
        _refuse_identity_columns(operation, [c for c, _ in chosen], arg)
    elif isinstance(spec, Mapping):
        chosen = [(resolve_column(frame, arg, c), str(k)) for c, k in spec.items()]
    elif isinstance(spec, str | bytes) or not isinstance(spec, Sequence):
        hint = ""
        if isinstance(spec, Hashable) and _has_column(frame, spec):
            hint = f"; for the one column, pass {arg}=[{spec!r}]"
        raise ColumnError(f"{arg}= takes a list of columns or a {{column: key}} mapping{hint}")
    else:
        chosen = [(resolve_column(frame, arg, c), str(resolve_column(frame, arg, c))) for c in spec]
    keys: dict[str, Hashable] = {}
    for column, key in chosen:
        if column is None or (isinstance(column, float) and column != column):
            # A header-less CSV or a bad rename leaves labels None or NaN; sending
            # them as keys "None"/"nan" would be an accident, so ask for a name.
            raise ColumnError(
                f"{arg}: a column is labelled {column!r}, which cannot be a JSON key; "
                f"rename it, or list the columns to send with {arg}=[...]"
            )
        if key in keys:
            raise ColumnError(
                f"{arg}: columns {keys[key]!r} and {column!r} would both be sent as key {key!r}"
            )
        keys[key] = column
    return chosen


def _utf8_bytes(value: Any) -> int:
    return len(str(value).encode("utf-8", "surrogatepass"))


def _check_constant_for_journeys(operation: Operation, role: Role, value: Any) -> None:
    """Refuse, before anything is sent, a constant Journeys would drop."""
    if role.max_bytes is not None and isinstance(value, str):
        size = _utf8_bytes(value)
        if size > role.max_bytes:
            raise ColumnError(
                f"{operation.name}(): {role.arg}= is {size} bytes; Customer.io Journeys "
                f"refuses event names over {role.max_bytes} bytes ({JOURNEYS_OFF})"
            )
    if operation.name == "track" and role.arg == "event" and value in RESERVED_EVENTS:
        raise ColumnError(f"track(event={value!r}): {RESERVED_EVENTS[value]} ({JOURNEYS_OFF})")


def _flatten(
    value: Mapping[Any, Any], prefix: tuple[str, ...]
) -> list[tuple[tuple[str, ...], Any]]:
    """Leaves of a nested dict as (path, value); an empty dict is a leaf of its own."""
    if not value or not all(isinstance(k, str) for k in value):
        return [(prefix, value)]
    leaves: list[tuple[tuple[str, ...], Any]] = []
    for key, member in value.items():
        if isinstance(member, dict) and member:
            leaves.extend(_flatten(member, (*prefix, key)))
        else:
            leaves.append(((*prefix, key), member))
    return leaves


def _merge_constant(
    operation: Operation, role: Role, value: dict[str, Any], sources: list[Source]
) -> list[Source]:
    """A constant object role (``context=``) as one source per leaf, merged deeply.

    Fields the operation puts beneath it (``token=`` into ``context.device``)
    keep every sibling the caller gave; the same leaf given twice raises.
    """
    taken = {source.path: source.label for source in sources}
    merged: list[Source] = []
    for path, member in _flatten(value, role.path):
        for other, label in taken.items():
            if other == path or (
                len(other) != len(path) and other[: len(path)] == path[: len(other)]
            ):
                beneath = len(other) > len(path)
                if beneath and member == {}:
                    break  # an empty object adds nothing to the fields beneath it
                raise ColumnError(
                    f"{operation.name}(): {role.arg}= sets {'.'.join(path)} and "
                    f"{label}= sends {'.'.join(other)}; give it in one place"
                )
        else:
            merged.append(Source(path, "json", role.arg, value=member))
    return merged


def _with_beneath(source: Source, sources: list[Source]) -> Source:
    """Note, on a whole-object column, the members other sources put beneath it."""
    if source.kind != "object" or source.is_constant:
        return source
    depth = len(source.path)
    beneath = tuple(
        (other.path[depth:], other.label)
        for other in sources
        if len(other.path) > depth and other.path[:depth] == source.path
    )
    return replace(source, beneath=beneath) if beneath else source


def _constant(operation: Operation, role: Role, value: Any) -> Any:
    """Check a constant once, as validation checks a column, and convert it for the wire."""
    if role.kind == "json":
        return value
    converted = column_values(pd.Series([value], dtype=object), role.kind)[0]
    if role.kind == "text":
        ok = isinstance(value, str) and bool(value.strip())
    elif role.kind == "enum":
        ok = value in role.choices
    elif role.kind == "object":
        ok = isinstance(value, dict)
    elif role.kind == "integer":
        ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    else:  # id and timestamp: the conversion gives None for a value that is not one
        ok = converted is not None and not isinstance(value, bool)
    if not ok:
        needs = {
            "id": "a non-empty string or an integer",
            "text": "a non-empty string",
            "timestamp": "a date-time",
            "integer": "an integer",
            "enum": f"one of {', '.join(role.choices)}",
            "object": "an object (dict)",
        }[role.kind]
        raise ColumnError(f"{operation.name}(): {role.arg}={value!r} must be {needs}")
    return converted


def _payload_source(operation: Operation, column: Hashable, key: str) -> Source:
    spec = operation.payload_fields.get(key)
    if spec is None:
        return Source(
            (*(operation.payload or ()), key), "json", key, column=column, in_payload=True
        )
    # Documented date-times are read and sent like the timestamp role: ISO 8601 in UTC.
    kind: Kind = "timestamp" if spec.format == "date-time" else "json"
    return Source(
        (*(operation.payload or ()), key),
        kind,
        key,
        column=column,
        nullable=key not in operation.payload_required,
        choices=spec.enum or (),
        spec=spec,
        in_payload=True,
    )


def make_plan(
    operation: Operation,
    frame: pd.DataFrame,
    args: Mapping[str, Any],
    payload: PayloadSpec = None,
    *,
    missing: Missing = "omit",
    journeys: bool = True,
) -> CallPlan:
    """Resolve an operation's arguments against a frame.

    Parameters
    ----------
    operation : Operation
        The table row.
    frame : pandas.DataFrame
        The input frame.
    args : Mapping[str, Any]
        Role arguments as the caller gave them (None means not given).
    payload : list of hashable, mapping or None
        Payload columns (a list, or ``{column: key}``); None means every
        column no role uses.
    missing : {"omit", "null"}
        What missing payload values become.
    journeys : bool
        Apply the checks only Customer.io Journeys needs: the arguments of
        :attr:`Operation.journeys_needs`, its limits, and the event names a
        plain ``track()`` must not send (:data:`RESERVED_EVENTS`).

    Returns
    -------
    CallPlan

    Raises
    ------
    ColumnError
        A role names a missing column, a required role is absent, the
        frame's column names are ambiguous, two arguments send the same
        member, or (with ``journeys``) a constant Journeys would drop.
    """
    _check_frame(frame)
    if missing not in ("omit", "null"):
        raise ValueError(f"missing= must be 'omit' or 'null', not {missing!r}")
    if not isinstance(journeys, bool):
        raise TypeError(f"journeys= must be True or False, not {journeys!r}")
    known = {role.arg for role in operation.roles}
    unknown = set(args) - known
    if unknown:
        raise UnknownArgumentError(
            unknown_keywords_message(f"{operation.name}()", sorted(unknown), sorted(known))
        )
    needs = operation.journeys_needs if journeys else {}

    sources: list[Source] = [
        Source(path, "json", "constant", value=v) for path, v in operation.constants
    ]
    sources.insert(0, Source(("type",), "text", "type", value=operation.call_type))
    used: set[Hashable] = set()
    message_id: Hashable | None = None
    given: dict[str, Col | Lit] = {}
    deferred: dict[str, Role] = {}  # needed roles a payload column of their key may meet
    objects: list[tuple[Role, dict[str, Any]]] = []
    if "user_id" in needs and args.get("anonymous_id") is not None:
        raise ColumnError(
            f"{operation.name}() cannot take anonymous_id=: {needs['user_id']}, so rows of "
            f"anonymous people never land; send user_id= ({JOURNEYS_OFF})"
        )
    for role in operation.roles:
        value = args.get(role.arg)
        if value is None:
            if role.required:
                raise ColumnError(f"{operation.name}() needs {role.arg}=")
            if role.arg in needs:
                if operation.payload and role.path[:-1] == operation.payload:
                    deferred[role.arg] = role
                    continue
                raise ColumnError(
                    f"{operation.name}() needs {role.arg}=: {needs[role.arg]} ({JOURNEYS_OFF})"
                )
            if role.default is None:
                continue
            value = Lit(role.default)
        if role.constant:
            ref = resolve_value(frame, role.arg, value)
        else:
            ref = Col(resolve_column(frame, role.arg, value))
        given[role.arg] = ref
        if isinstance(ref, Col):
            used.add(ref.name)
        if role.arg == "message_id":
            message_id = ref.name if isinstance(ref, Col) else None
            continue
        constant = None
        if isinstance(ref, Lit):
            constant = _constant(operation, role, ref.value)
            if journeys:
                _check_constant_for_journeys(operation, role, ref.value)
            if role.kind == "object" and isinstance(constant, dict):
                objects.append((role, constant))  # merged deeply once every field is known
                continue
        sources.append(
            Source(
                role.path,
                role.kind,
                role.arg,
                column=ref.name if isinstance(ref, Col) else CONSTANT,
                value=constant,
                nullable=role.nullable,
                choices=role.choices,
                needed=needs.get(role.arg, ""),
                max_bytes=role.max_bytes if journeys else None,
                reserved=journeys and operation.name == "track" and role.arg == "event",
            )
        )

    identity: tuple[Hashable, ...] = ()
    if operation.identity == "user" or "user_id" in needs:
        if "user_id" not in given:
            raise ColumnError(f"{operation.name}() needs user_id=")
    elif operation.identity in ("user_or_anonymous", "anonymous"):
        candidates = ("anonymous_id",) if operation.identity == "anonymous" else PERSON_ARGS
        person = [a for a in candidates if a in given]
        if not person:
            needed = (
                "user_id= or anonymous_id="
                if operation.identity != "anonymous"
                else ("anonymous_id=")
            )
            raise ColumnError(f"{operation.name}() needs {needed}")
        refs = [given[a] for a in person]
        if all(isinstance(r, Col) for r in refs):
            identity = tuple(r.name for r in refs if isinstance(r, Col))
    if operation.identity == "user" or "user_id" in needs:
        ref = given["user_id"]
        if isinstance(ref, Col):
            identity = (ref.name,)

    if operation.payload is not None:
        chosen = _payload_columns(frame, operation, payload, used)
        keys = {key: column for column, key in chosen}
        arg = operation.payload_arg or "payload"
        absent = [key for key in operation.payload_required if key not in keys]
        if absent:
            raise ColumnError(
                f"{operation.name}() needs a column for {', '.join(map(repr, absent))}: "
                f"name the column so, or map one to it with {arg}={{column: key}}"
            )
        for source in sources:
            if source.path[:-1] == operation.payload and source.path[-1] in keys:
                raise ColumnError(
                    f"{operation.name}(): {source.label}= and column {keys[source.path[-1]]!r} "
                    f"would both be sent as {'.'.join(source.path)}; leave the column out "
                    f"of {arg}= or drop {source.label}="
                )
        payload_sources = [_payload_source(operation, column, key) for column, key in chosen]
        if journeys and operation.attributes:
            payload_sources = [replace(p, attribute=True) for p in payload_sources]
        for role_arg, role in deferred.items():
            key = role.path[-1]
            if key not in keys:
                raise ColumnError(
                    f"{operation.name}() needs {role_arg}= (or a column {key!r}): "
                    f"{needs[role_arg]} ({JOURNEYS_OFF})"
                )
            payload_sources = [
                replace(p, needed=needs[role_arg]) if p.path == role.path else p
                for p in payload_sources
            ]
        sources.extend(payload_sources)
    elif payload is not None:
        raise TypeError(f"{operation.name}() takes no payload columns")
    for role, value in objects:
        sources.extend(_merge_constant(operation, role, value, sources))
    sources = [_with_beneath(source, sources) for source in sources]
    return CallPlan(operation, tuple(sources), message_id, identity, missing, journeys)
