"""Event names a plain ``track()`` must not send, each with where it belongs.

Derived from the event catalogue and the operations table, so that the
validator, the planner and the OpenAPI document share one list.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .events import EVENTS, JOURNEYS_ROUTED
from .operations import operation_for_event

__all__ = ["JOURNEYS_OFF", "RESERVED_EVENTS"]


JOURNEYS_OFF = "journeys=False turns this check off"
"""How every Journeys-only error says it can be turned off."""


def _reserved_reason(name: str) -> str:
    spec = EVENTS[name]
    if spec.refused:
        # The reason is followed by "(journeys=False ...)": no full stop between.
        return spec.refused.rstrip(".")
    method = operation_for_event(name).method
    # The category methods take the event name first; the others are the event.
    how = (
        f"df.cio.{method}({name!r}, ...)"
        if method.startswith("semantic.")
        else f"df.cio.{method}(...)"
    )
    return (
        f"{name!r} is not a plain event: Customer.io Journeys routes it to its "
        f"{spec.journeys_action} action; send it on purpose with {how}, not with track(event=...)"
    )


RESERVED_EVENTS: Mapping[str, str] = MappingProxyType(
    {
        name: _reserved_reason(name)
        for name, spec in EVENTS.items()
        if name in JOURNEYS_ROUTED or spec.refused
    }
)
"""Event names a plain ``track()`` refuses, each with the pointer to the right method.

Derived from the catalogue: the names Journeys routes to an action other than
recording an event, and the names the library refuses altogether.
"""
