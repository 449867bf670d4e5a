"""Which columns an operation's payload sends, and under which keys.

The payload argument (``traits=``, ``properties=``...) lists columns, maps
them to keys, or is left out to send every column no other argument uses;
:func:`payload_sources` turns it into the plan's payload sources, refusing
ambiguous keys, identity columns sent as attributes by accident, and
arguments that would send the same member as a column.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace

import pandas as pd

from ..catalogue.operation import Kind, Operation, Role
from ..catalogue.reserved import JOURNEYS_OFF
from ..errors import ColumnError
from .call_plan import Source
from .roles import resolve_column

__all__ = ["PayloadSpec", "payload_sources"]

PayloadSpec = Sequence[Hashable] | Mapping[Hashable, str] | None
"""The payload argument: a list of columns, ``{column: key}``, or None (every other column)."""


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


def payload_sources(
    operation: Operation,
    frame: pd.DataFrame,
    payload: PayloadSpec,
    *,
    used: set[Hashable],
    sources: list[Source],
    deferred: Mapping[str, Role],
    needs: Mapping[str, str],
    journeys: bool,
) -> list[Source]:
    """The payload's sources, one per column sent.

    Parameters
    ----------
    operation : Operation
        The table row (its ``payload`` is not None).
    frame : pandas.DataFrame
        The input frame.
    payload : PayloadSpec
        The payload argument as the caller gave it.
    used : set of hashable
        Columns other arguments name (left out of the default payload).
    sources : list of Source
        The arguments' sources, to refuse a column sent where one of them is.
    deferred : Mapping[str, Role]
        Roles Journeys needs that a payload column of their key may meet.
    needs : Mapping[str, str]
        The reasons Journeys needs them (:attr:`Operation.journeys_needs`).
    journeys : bool
        Whether Journeys' attribute limits apply.
    """
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
    found = [_payload_source(operation, column, key) for column, key in chosen]
    if journeys and operation.attributes:
        found = [replace(p, attribute=True) for p in found]
    for role_arg, role in deferred.items():
        key = role.path[-1]
        if key not in keys:
            raise ColumnError(
                f"{operation.name}() needs {role_arg}= (or a column {key!r}): "
                f"{needs[role_arg]} ({JOURNEYS_OFF})"
            )
        found = [replace(p, needed=needs[role_arg]) if p.path == role.path else p for p in found]
    return found
