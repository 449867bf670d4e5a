"""Reading a call's fields the way the Journeys destination's mappings do.

Shared by the store's actions: dotted paths, the first present value, ids,
and the :class:`~pandas_cio.testing.Dropped` record of a call an action refused.
"""

from __future__ import annotations

from typing import Any

from pandas_cio.testing import _journeys_actions as act
from pandas_cio.testing._journeys_types import Dropped

__all__ = ["deep_merge", "dropped", "empty_id", "first", "message_id", "path", "text"]


def path(call: dict[str, Any], *keys: str) -> Any:
    """The value at a dotted path of the call, None when any step is missing or not an object."""
    value: Any = call
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def first(*values: Any) -> Any:
    """The first present value (mapping-kit ``@if exists ... else``)."""
    for value in values:
        if act.present(value):
            return value
    return None


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def empty_id(call: dict[str, Any], *keys: str) -> str | None:
    """Name the first id field that is present but empty: Journeys refuses empty ids."""
    for key in keys:
        value = call.get(key)
        if isinstance(value, str) and not value.strip():
            return key
    return None


def message_id(call: dict[str, Any]) -> str | None:
    value = call.get("messageId")
    return value if isinstance(value, str) else None


def dropped(call: Any, action: str, reason: str, *, by: str = "journeys") -> Dropped:
    if not isinstance(call, dict):
        return Dropped(None, "", None, action, reason, by)  # type: ignore[arg-type]
    event = call.get("event")
    return Dropped(
        message_id=message_id(call),
        call_type=str(call.get("type") or ""),
        event=event if isinstance(event, str) else None,
        action=action,
        reason=reason,
        by=by,  # type: ignore[arg-type]
    )


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out
