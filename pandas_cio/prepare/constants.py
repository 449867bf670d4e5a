"""Arguments given as one constant for every row: checked once, converted, merged.

A constant is checked as validation checks a column of its kind, before any
row is looked at, so a wrong one raises at once with the argument named. A
constant object (``context=``) is merged leaf by leaf with the members other
arguments place beneath it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from ..catalogue.kinds import KINDS
from ..catalogue.operation import Operation, Role
from ..catalogue.reserved import JOURNEYS_OFF, RESERVED_EVENTS
from ..errors import ColumnError
from .call_plan import Source
from .kind_checks import CHECKS, constant_ok
from .values import column_values

__all__ = ["check_constant_for_journeys", "constant_value", "merge_constant", "with_beneath"]


def _utf8_bytes(value: Any) -> int:
    return len(str(value).encode("utf-8", "surrogatepass"))


def check_constant_for_journeys(operation: Operation, role: Role, value: Any) -> None:
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


def merge_constant(
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


def with_beneath(source: Source, sources: list[Source]) -> Source:
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


def constant_value(operation: Operation, role: Role, value: Any) -> Any:
    """Check a constant once, as validation checks a column, and convert it for the wire."""
    if CHECKS[role.kind].constant is None:
        return value  # every value is one of this kind (json): sent as given
    converted = column_values(pd.Series([value], dtype=object), role.kind)[0]
    if not constant_ok(role.kind, value, converted, role.choices):
        # The role's own order of choices: a constant is refused before any row.
        refusal = KINDS[role.kind].refuse(role.choices)
        raise ColumnError(f"{operation.name}(): {role.arg}={value!r} {refusal}")
    return converted
