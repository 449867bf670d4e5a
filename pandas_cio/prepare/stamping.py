"""What ``timestamp=`` means, and what an event without one is.

A call's messageId is derived from its content (:mod:`pandas_cio.prepare.message_ids`),
so two sends of the same content carry the same id and the service keeps one.
For a call that sets state (``identify`` and ``group`` calls: people, objects,
relationships) that is right: sending the same traits again changes nothing.
For an event it is wrong when the content has no time in it: Monday's
``Logged In`` and Tuesday's would be one event to Customer.io (and to a
ledger, which would skip Tuesday's as ``unchanged``).

So an event operation (every call type other than ``identify`` and
``group``) is *stamped* when it has no ``timestamp=``: every call carries the
time the send started as its ``timestamp``, which is also its messageId's
time part. A retry inside the send keeps its id; a re-run is a new
occurrence with new ids. Rows of a ``timestamp=`` column that have no value
are sent without a timestamp (the service then uses the time it receives
them) and get the send's start as their messageId's time part.

With a ``ledger=`` an event without a timestamp cannot be recognised on the
next run, so the send refuses to start (:class:`~pandas_cio.errors.ConfigurationError`)
unless ``timestamp=`` names a column (re-runs and resumes are then
idempotent) or is ``"now"`` (each run sends its events anew, knowingly);
rows whose timestamp is missing are ``invalid`` in that case.

``timestamp=`` takes:

- a column (the usual case, for backfills and idempotent re-runs);
- ``"now"`` (when the frame has no column of that name) or ``lit("now")``:
  stamp every call with the send's start, for any operation;
- one date-time for every row: a ``datetime``, ``pandas.Timestamp`` or
  ``lit("2026-05-01T09:00:00Z")``; re-sending the rows of a stamped send with
  its stamp (``result.attrs["cio"]["timestamp"]``) gives them their ids again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..catalogue.operation import Operation
from ..errors import ColumnError, ConfigurationError
from .plan import CallPlan, Source
from .roles import Lit
from .values import column_values, parse_timestamps

__all__ = ["NOW", "STATE_CALL_TYPES", "Stamp", "is_event", "resolve", "untimed_rows"]

# Calls that set the state of a person or an object: sending one twice is
# the same as sending it once, so they need no time to be told apart.
STATE_CALL_TYPES = frozenset({"identify", "group"})
# The value of timestamp= that asks for the send's start time.
NOW = "now"

_INSTANTS = (dt.datetime, pd.Timestamp, np.datetime64)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def is_event(operation: Operation) -> bool:
    """Whether the operation's calls are occurrences (not the state of a person or object)."""
    return operation.call_type not in STATE_CALL_TYPES


@dataclass(frozen=True)
class Stamp:
    """How one send handles time.

    Attributes
    ----------
    args : Mapping
        The role arguments for :func:`~pandas_cio.prepare.plan.make_plan`, with a
        constant ``timestamp=`` taken out.
    constant : str or None
        The ISO 8601 timestamp every call carries, when it is one constant
        (the send's start, or the caller's date-time).
    untimed_ms : int
        messageId time part of a call without a timestamp.
    """

    args: Mapping[str, Any]
    constant: str | None
    untimed_ms: int

    def apply(self, plan: CallPlan) -> CallPlan:
        """Return the plan with the constant timestamp as one of its sources."""
        if self.constant is None:
            return plan
        source = Source(("timestamp",), "timestamp", "timestamp", value=self.constant)
        return replace(plan, sources=(*plan.sources, source))


def _iso(value: Any) -> str | None:
    (text,) = column_values(pd.Series([value], dtype=object), "timestamp")
    return None if text is None else str(text)


def _means_now(frame: pd.DataFrame, value: Any) -> bool:
    if isinstance(value, Lit):
        return isinstance(value.value, str) and value.value == NOW
    if not isinstance(value, str) or value != NOW:
        return False
    # A column named "now" is named by "now", as for every column role.
    return NOW not in frame.columns


def resolve(
    operation: Operation,
    frame: pd.DataFrame,
    args: Mapping[str, Any],
    *,
    started: dt.datetime,
    ledger: bool,
) -> Stamp:
    """Decide the timestamp of a send's calls (see the module docstring).

    Parameters
    ----------
    operation : Operation
        The operation.
    frame : pandas.DataFrame
        The input frame.
    args : Mapping
        The role arguments as the caller gave them.
    started : datetime.datetime
        When the send started (timezone-aware).
    ledger : bool
        Whether the send has a ledger.

    Returns
    -------
    Stamp

    Raises
    ------
    ConfigurationError
        An event operation with a ledger and no ``timestamp=``.
    ColumnError
        ``timestamp=`` is a constant that is not a date-time.
    """
    event = is_event(operation)
    # Whole milliseconds, in integers: the text and the id's time part agree exactly.
    started_ms = (started - _EPOCH) // dt.timedelta(milliseconds=1)
    started_iso = _iso(_EPOCH + dt.timedelta(milliseconds=started_ms))
    assert started_iso is not None
    untimed = started_ms if event else 0
    value = args.get("timestamp")
    rest = {k: v for k, v in args.items() if k != "timestamp"}
    if value is None:
        if not event:
            return Stamp(args, None, untimed)
        if ledger:
            raise ConfigurationError(
                f"{operation.method or operation.name}() with ledger= needs timestamp=: an event "
                "without one looks the same on every run, so the ledger could not tell today's "
                "from yesterday's. Pass timestamp= a column of when each event happened (re-runs "
                f'and resumed sends are then idempotent), or timestamp="{NOW}" to stamp the '
                "events with this send's start time, accepting that every run sends them anew."
            )
        return Stamp(rest, started_iso, untimed)
    if _means_now(frame, value):
        return Stamp(rest, started_iso, untimed)
    constant = value.value if isinstance(value, Lit) else value
    if isinstance(value, Lit) or isinstance(constant, _INSTANTS):
        iso = _iso(constant)
        if iso is None or isinstance(constant, bool):
            raise ColumnError(
                f"{operation.method or operation.name}(): timestamp={constant!r} must be a "
                f'column, "{NOW}", or one date-time for every row'
            )
        return Stamp(rest, iso, untimed)
    return Stamp(args, None, untimed)  # a column: make_plan resolves it


def untimed_rows(plan: CallPlan, frame: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    """Positions among ``positions`` whose event has no timestamp value (its column is empty).

    Used with a ledger, where such an event could not be recognised when the
    send is resumed or re-run; empty when the timestamp is not a column.
    """
    source = next((s for s in plan.sources if s.path == ("timestamp",)), None)
    if source is None or source.is_constant or not is_event(plan.operation) or not len(positions):
        return np.zeros(0, dtype=np.int64)
    column = frame[source.column].iloc[positions]
    missing = parse_timestamps(column).isna().to_numpy()
    return np.asarray(positions, dtype=np.int64)[missing]
