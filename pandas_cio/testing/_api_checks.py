"""The calls the Data Pipelines API refuses: shapes that break the reference spec.

In permissive mode (the default) the service answers 200 and drops a refused
call; with ``X-Strict-Mode: 1`` it answers 400 for the request. The fake checks
what the reference spec (``cio_pipelines_api.json`` in the shared reference)
requires of each call type:

- ``type`` is one of identify, track, page, screen, group, alias;
- identify, page and screen have a ``userId`` or an ``anonymousId``;
- track has an ``event`` and a ``userId``, ``anonymousId`` or ``groupId``;
- alias has both ``userId`` and ``previousId``;
- ids, ``event``, ``name``, ``messageId`` and ``timestamp`` are strings;
- ``traits``, ``properties``, ``context`` and ``integrations`` are objects;
- the call is at most 32 KB as compact JSON (checked by the fake itself).

Reasons name the field, never its value: a 400 body must not echo data.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CALL_TYPES", "call_problem"]

#: The call types the service accepts, one endpoint each, plus ``/batch``.
CALL_TYPES: frozenset[str] = frozenset({"identify", "track", "page", "screen", "group", "alias"})

_STRINGS = (
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "event",
    "name",
    "messageId",
    "timestamp",
)
_OBJECTS = ("traits", "properties", "context", "integrations")
_NEEDS_PERSON = frozenset({"identify", "page", "screen"})


def _has(call: dict[str, Any], key: str) -> bool:
    return call.get(key) is not None


def call_problem(call: Any) -> str | None:
    """Return why the Data Pipelines API refuses a call, or None when it accepts it.

    Parameters
    ----------
    call : Any
        One call: a single endpoint's body (with ``type`` filled in) or one
        item of a ``/batch`` list.

    Returns
    -------
    str or None
        A reason naming the offending field, or None.

    Examples
    --------
    >>> call_problem({"type": "track", "userId": "u1"})
    "track call needs an 'event'"
    >>> call_problem({"type": "track", "userId": "u1", "event": "Signed Up"}) is None
    True
    """
    if not isinstance(call, dict):
        return "a call must be a JSON object"
    call_type = call.get("type")
    if call_type not in CALL_TYPES:
        return "a call needs a 'type': identify, track, page, screen, group or alias"
    for key in _STRINGS:
        if _has(call, key) and not isinstance(call[key], str):
            return f"'{key}' must be a string"
    for key in _OBJECTS:
        if _has(call, key) and not isinstance(call[key], dict):
            return f"'{key}' must be an object"
    if call_type in _NEEDS_PERSON and not (_has(call, "userId") or _has(call, "anonymousId")):
        return f"{call_type} call needs a 'userId' or an 'anonymousId'"
    if call_type == "track":
        if not _has(call, "event"):
            return "track call needs an 'event'"
        if not any(_has(call, k) for k in ("userId", "anonymousId", "groupId")):
            return "track call needs a 'userId', an 'anonymousId' or a 'groupId'"
    if call_type == "alias" and not (_has(call, "userId") and _has(call, "previousId")):
        return "alias call needs a 'userId' and a 'previousId'"
    return None
