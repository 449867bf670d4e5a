"""Each operation's pandera schema, for users' own validation and tests.

:func:`schema` returns the very schema the pipeline validates rows with, for
the same arguments an accessor method takes::

    import pandas_cio

    people = pandas_cio.schema("identify", user_id="id", traits=["plan", "ltv"])
    people.validate(frame, lazy=True)

    orders = pandas_cio.schema("Order Completed", user_id="customer_id")

Without a frame, bare strings of arguments that take columns name columns,
and bare strings of arguments that also take constants (``event=``,
``name=``, ``object_type_id=``...) are constants; wrap a column name in
:func:`pandas_cio.col` to mean the column. With ``frame=``, the rules are
exactly the accessor's (see :mod:`pandas_cio.prepare.roles`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd

from ..catalogue.events import EVENTS
from ..catalogue.operation import Operation
from ..catalogue.operations import OPERATIONS, get_operation, operation_for_event
from ..errors import UnknownEventError
from .pandera_setup import pa
from .plan import CallPlan, PayloadSpec, make_plan
from .roles import Col, Lit
from .validation import build_schema

__all__ = ["plan_for", "resolve_operation", "schema"]


def resolve_operation(name: str) -> Operation:
    """Return the operation called ``name``, or the one that sends event ``name``.

    Parameters
    ----------
    name : str
        An operation name (``"identify"``, ``"objects.upsert"``) or a semantic
        event name exactly as the API spells it (``"Order Completed"``).

    Returns
    -------
    Operation

    Raises
    ------
    UnknownEventError
        ``name`` is neither; the message lists the operations.
    """
    if name in OPERATIONS:
        return get_operation(name)
    if name in EVENTS:
        return operation_for_event(name)
    named = ", ".join(sorted(n for n in OPERATIONS if not n.startswith("semantic:")))
    raise UnknownEventError(
        f"{name!r} is neither an operation nor a semantic event name. Operations: {named}; "
        "or any of the 71 event names, such as 'Order Completed'."
    )


def _columns(operation: Operation, arguments: Mapping[str, Any], payload: PayloadSpec) -> list[Any]:
    """The columns a frame would need for these arguments (a frame-free schema)."""
    columns: dict[Hashable, None] = {}
    for role in operation.roles:
        value = arguments.get(role.arg)
        if value is None or isinstance(value, Lit):
            continue
        if isinstance(value, Col):
            columns[value.name] = None
        elif not role.constant:
            columns[value] = None
    if payload is not None:  # a list of columns, or a mapping keyed by column
        columns.update(dict.fromkeys(payload))
    else:
        columns.update(dict.fromkeys(operation.payload_fields))
        # A value Journeys needs that a payload column may give (a page's url).
        for role in operation.roles:
            if (
                role.arg in operation.journeys_needs
                and arguments.get(role.arg) is None
                and operation.payload
                and role.path[:-1] == operation.payload
            ):
                columns[role.path[-1]] = None
    return list(columns)


def plan_for(
    operation: str, frame: pd.DataFrame | None = None, /, *, journeys: bool = True, **arguments: Any
) -> tuple[CallPlan, bool]:
    """Resolve an operation's arguments into a call plan, with or without a frame.

    Parameters
    ----------
    operation : str
        An operation or semantic event name (see :func:`resolve_operation`).
    frame : pandas.DataFrame, optional
        The frame the arguments refer to; without one, a frame with just the
        named columns (and, when the payload argument is not given, the
        operation's documented payload keys) stands in.
    journeys : bool
        Include the checks only Customer.io Journeys needs, as a send does
        by default.
    **arguments
        The accessor method's arguments, including its payload argument
        (``traits=``, ``properties=``, ``relationship_traits=``).

    Returns
    -------
    (CallPlan, bool)
        The plan, and whether documented payload keys stand in for "every
        other column" (they are then optional).
    """
    op = resolve_operation(operation)
    arguments = {k: v for k, v in arguments.items() if v is not None}
    payload: PayloadSpec = None
    if op.payload_arg is not None:
        payload = arguments.pop(op.payload_arg, None)
    stand_in = frame is None and payload is None and bool(op.payload_fields)
    if frame is None:
        frame = pd.DataFrame(columns=_columns(op, arguments, payload))
        constant = {role.arg for role in op.roles if role.constant}
        arguments = {
            k: Lit(v) if k in constant and not isinstance(v, Col | Lit) else v
            for k, v in arguments.items()
        }
    return make_plan(op, frame, arguments, payload, journeys=journeys), stand_in


def schema(
    operation: str, frame: pd.DataFrame | None = None, /, *, journeys: bool = True, **arguments: Any
) -> pa.DataFrameSchema:
    """Return the pandera schema rows of ``operation`` must satisfy.

    Parameters
    ----------
    operation : str
        An operation name (``"identify"``, ``"track"``, ``"page"``,
        ``"objects.relate"``, ``"devices.register"``, ``"suppress"``...) or a
        semantic event name (``"Order Completed"``).
    frame : pandas.DataFrame, optional
        Resolve the arguments against this frame, as the accessor would.
    journeys : bool
        Include the checks only Customer.io Journeys needs (a page's url,
        its limits on attributes and event names...), as a send does by
        default; False for the schema of ``journeys=False`` sends.
    **arguments
        The accessor method's arguments, such as ``user_id="id"`` and
        ``traits=["plan"]``.

    Returns
    -------
    pandera.DataFrameSchema
        Checks by value (never coerces) and allows extra columns. Without a
        frame and a payload argument, a semantic event's documented
        properties are optional columns, checked when present.

    Raises
    ------
    UnknownEventError
        The name is neither an operation nor an event.
    ColumnError
        An argument names a column ``frame`` lacks, or a required one is missing.

    Examples
    --------
    >>> import pandas as pd, pandas_cio
    >>> s = pandas_cio.schema("identify", user_id="id", traits=["plan"])
    >>> sorted(s.columns)
    ['id', 'plan']
    >>> s.validate(pd.DataFrame({"id": ["u1"], "plan": ["pro"]}))["id"].tolist()
    ['u1']
    """
    plan, stand_in = plan_for(operation, frame, journeys=journeys, **arguments)
    built = build_schema(plan)
    if stand_in:
        optional = [k for k in plan.operation.payload_fields if k in built.columns]
        required = set(plan.operation.payload_required)
        built = built.update_columns(
            {k: {"required": False} for k in optional if k not in required}
        )
    return built
