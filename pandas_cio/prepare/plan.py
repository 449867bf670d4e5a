"""Resolve an accessor call's arguments against a frame into a :class:`CallPlan`.

A plan is the one description of "which value of which column goes where in
the call" that validation and encoding both read. Every argument error is
raised here, before any row is looked at, with the column named. What a plan
is lives in :mod:`pandas_cio.prepare.call_plan`, the payload columns are
chosen by :mod:`pandas_cio.prepare.payload` and constants are checked by
:mod:`pandas_cio.prepare.constants`; this module resolves the arguments and
the person, and is where the rest of the package imports a plan's names from.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd

from ..catalogue.operation import Operation, Role
from ..catalogue.reserved import JOURNEYS_OFF, RESERVED_EVENTS
from ..errors import ColumnError, UnknownArgumentError
from ..suggest import unknown_keywords_message
from .call_plan import (
    CONSTANT,
    PERSON_ARGS,
    CallPlan,
    Missing,
    Source,
    describe_column,
    row_reason,
)
from .constants import check_constant_for_journeys, constant_value, merge_constant, with_beneath
from .payload import PayloadSpec, payload_sources
from .roles import Col, Lit, resolve_column, resolve_value

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


def _check_frame(frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated:
        raise ColumnError(f"the frame has duplicate column names: {duplicated!r}; rename them")


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
            constant = constant_value(operation, role, ref.value)
            if journeys:
                check_constant_for_journeys(operation, role, ref.value)
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
        sources.extend(
            payload_sources(
                operation,
                frame,
                payload,
                used=used,
                sources=sources,
                deferred=deferred,
                needs=needs,
                journeys=journeys,
            )
        )
    elif payload is not None:
        raise TypeError(f"{operation.name}() takes no payload columns")
    for role, value in objects:
        sources.extend(merge_constant(operation, role, value, sources))
    sources = [with_beneath(source, sources) for source in sources]
    return CallPlan(operation, tuple(sources), message_id, identity, missing, journeys)
