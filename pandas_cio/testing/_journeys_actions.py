"""What the Customer.io Journeys destination does with a call: routing, identifiers, values.

Built from the destination's public source (``segmentio/action-destinations``,
``packages/destination-actions/src/destinations/customerio/``), newest stored
versions, rewritten here:

- ``index.ts`` presets and each action's ``defaultSubscription`` decide which
  actions a call triggers (:func:`actions_for`);
- ``utils.ts`` ``resolveIdentifiers`` picks the identifier of a person
  (:func:`resolve_person`), ``convertAttributeTimestamps`` and
  ``convertValidTimestamp`` turn ISO-8601 strings into Unix seconds
  (:func:`convert_attributes`, :func:`convert_timestamp`);
- the limits are those of Customer.io's "Invalid API requests" page
  (:func:`attribute_problem`, :func:`event_problem`).

Where the Segment source and Customer.io's own semantic events differ
(``Device Created or Updated`` and ``Device Deleted`` have no Segment preset;
Customer.io's Journeys destination routes them to its device actions), this
module follows Customer.io's documentation and says so.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = [
    "DELIVERY_METRICS",
    "MAX_ATTRIBUTES",
    "MAX_ATTRIBUTE_NAME_BYTES",
    "MAX_ATTRIBUTE_VALUE_BYTES",
    "MAX_EVENT_DATA_BYTES",
    "MAX_EVENT_NAME_BYTES",
    "actions_for",
    "attribute_problem",
    "convert_attributes",
    "convert_timestamp",
    "event_problem",
    "is_email",
    "present",
    "resolve_person",
]

#: Journeys limits ("Invalid API requests"): past them Journeys refuses the
#: call, after the Data Pipelines API has already answered 200.
MAX_ATTRIBUTES = 300
MAX_ATTRIBUTE_NAME_BYTES = 150
MAX_ATTRIBUTE_VALUE_BYTES = 1000
MAX_EVENT_NAME_BYTES = 100
MAX_EVENT_DATA_BYTES = 100_000

#: The metrics Report Delivery Event accepts (its ``metric`` field's choices).
DELIVERY_METRICS: frozenset[str] = frozenset(
    {"delivered", "opened", "clicked", "converted", "bounced", "spammed", "dropped", "deferred"}
)

# Track Event's preset subscribes to every track call except these, which
# other actions handle (index.ts). The device events are added because
# Customer.io handles them as device operations, not as activity.
_NOT_EVENTS = frozenset(
    {
        "Relationship Deleted",
        "User Deleted",
        "User Suppressed",
        "User Unsuppressed",
        "Object Deleted",
        "Report Delivery Event",
        "Report Content Event",
        "Device Created or Updated",
        "Device Deleted",
    }
)

# Track event names that trigger an action besides (or instead of) Track Event.
_EVENT_ACTIONS: dict[str, str] = {
    "Application Installed": "createUpdateDevice",
    "Application Opened": "createUpdateDevice",
    "Device Created or Updated": "createUpdateDevice",
    "Application Uninstalled": "deleteDevice",
    "Device Deleted": "deleteDevice",
    "User Deleted": "deletePerson",
    "User Suppressed": "suppressPerson",
    "User Unsuppressed": "unsuppressPerson",
    "Object Deleted": "deleteObject",
    "Relationship Deleted": "deleteRelationship",
    "Report Delivery Event": "reportDeliveryEvent",
    "Report Content Event": "reportContentEvent",
}

_CALL_ACTIONS: dict[str, str] = {
    "identify": "createUpdatePerson",
    "page": "trackPageView",
    "screen": "trackScreenView",
    "group": "createUpdateObject",
    "alias": "mergePeople",
}

# The destination tests ids with ajv's "email" format; this is the same shape.
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
    re.IGNORECASE,
)

# utils.ts isIsoDate: a date, optionally a time, fraction and zone.
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}((T\d{2}:\d{2}(:\d{2})?)(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?)?$"
)
_FRACTION = re.compile(r"\.(\d{1,9})")
_NUMERIC = re.compile(r"^\d+(\.\d+)?$")


def present(value: Any) -> bool:
    """Return whether a mapped field has a value (mapping-kit ``exists``: not missing, not null).

    Parameters
    ----------
    value : Any
        The value at the field's path, None when missing.

    Returns
    -------
    bool
    """
    return value is not None


def actions_for(call: dict[str, Any]) -> list[str]:
    """Return the Journeys actions a call triggers, in the order the model applies them.

    Parameters
    ----------
    call : dict
        A call as the Data Pipelines API accepted it.

    Returns
    -------
    list of str
        Action names as in the destination (``"trackEvent"``,
        ``"createUpdateDevice"`` ...). ``Application Installed`` / ``Opened`` /
        ``Uninstalled`` give two: the device action and ``"trackEvent"``, as
        both presets match. ``Group Deleted`` has no preset of its own and
        is an ordinary event.
    """
    call_type = call.get("type")
    if call_type != "track":
        action = _CALL_ACTIONS.get(str(call_type))
        return [action] if action else []
    event = call.get("event")
    actions = []
    if event in _EVENT_ACTIONS:
        actions.append(_EVENT_ACTIONS[event])
    if event not in _NOT_EVENTS:
        actions.append("trackEvent")
    return actions


def is_email(value: str) -> bool:
    """Return whether ``value`` is shaped like an email address, as the destination tests ids.

    Parameters
    ----------
    value : str

    Returns
    -------
    bool
    """
    return bool(_EMAIL.match(value))


def resolve_person(
    person_id: Any, *, email: Any = None, anonymous_id: Any = None
) -> tuple[str, str] | None:
    """Pick the identifier Journeys uses for a person (``resolveIdentifiers``).

    Parameters
    ----------
    person_id : Any
        The mapped person id (usually ``userId``).
    email : Any
        The mapped email, used when there is no person id.
    anonymous_id : Any
        The ``anonymousId``, used when there is neither.

    Returns
    -------
    tuple of (str, str) or None
        ``("cio_id", id_without_prefix)`` for an id starting with ``cio_``,
        ``("email", id)`` for an email-shaped id, ``("id", id)`` otherwise,
        then ``("email", email)``, then ``("anonymous_id", anonymous_id)``;
        None when nothing identifies the person.
    """
    if isinstance(person_id, str) and person_id:
        if person_id.startswith("cio_"):
            return ("cio_id", person_id[4:])
        if is_email(person_id):
            return ("email", person_id)
        return ("id", person_id)
    if person_id not in (None, "") and not isinstance(person_id, str):
        return ("id", str(person_id))
    if isinstance(email, str) and email:
        return ("email", email)
    if isinstance(anonymous_id, str) and anonymous_id:
        return ("anonymous_id", anonymous_id)
    return None


def _iso_to_unix(value: str) -> int | None:
    """Unix seconds of an ISO-8601 string, or None when it is not a valid one."""
    if not _ISO_DATE.match(value):
        return None
    # Python parses at most microseconds; the destination's parser keeps
    # milliseconds at best and floors to whole seconds anyway.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        # The destination parses zone-less strings in its server's zone: UTC.
        parsed = parsed.replace(tzinfo=UTC)
    return math.floor(parsed.timestamp())


def convert_attributes(values: dict[str, Any]) -> dict[str, Any]:
    """Turn ISO-8601 strings to Unix seconds, nested objects too (``convertAttributeTimestamps``).

    Lists are left as they are, as the destination leaves them.

    Parameters
    ----------
    values : dict
        Attributes or event data.

    Returns
    -------
    dict
        A new dict; ``values`` is not changed.
    """
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, str):
            unix = _iso_to_unix(value)
            out[key] = value if unix is None else unix
        elif isinstance(value, dict):
            out[key] = convert_attributes(value)
        else:
            out[key] = value
    return out


def convert_timestamp(value: Any) -> Any:
    """Convert a call's timestamp to Unix seconds (``convertValidTimestamp``).

    Parameters
    ----------
    value : Any
        The ``timestamp`` of the call.

    Returns
    -------
    Any
        Unix seconds for a parseable date string; digit-only strings, numbers
        and unparseable strings unchanged; None stays None.
    """
    if not isinstance(value, str) or _NUMERIC.match(value):
        return value
    unix = _iso_to_unix(value)
    return value if unix is None else unix


def _size(value: Any) -> int:
    """Bytes of a value as Journeys measures it: UTF-8 of a string, compact JSON otherwise."""
    if isinstance(value, str):
        return len(value.encode())
    return len(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))


def attribute_problem(attributes: dict[str, Any], *, max_count: int | None = None) -> str | None:
    """Return why Journeys refuses these attributes, or None.

    Parameters
    ----------
    attributes : dict
        Person, object or relationship attributes as the destination sends them.
    max_count : int or None
        The most attributes allowed in one call (300 for an identify); None
        checks names and values only.

    Returns
    -------
    str or None
        A reason naming the attribute (never its value), or None.
    """
    if max_count is not None and len(attributes) > max_count:
        return f"{len(attributes)} attributes in one call; Journeys takes at most {max_count}"
    for name, value in attributes.items():
        if len(str(name).encode()) > MAX_ATTRIBUTE_NAME_BYTES:
            return f"an attribute name is over {MAX_ATTRIBUTE_NAME_BYTES} bytes"
        if value is not None and _size(value) > MAX_ATTRIBUTE_VALUE_BYTES:
            return f"attribute {name!r} is over {MAX_ATTRIBUTE_VALUE_BYTES} bytes"
    return None


def event_problem(name: str | None, data: dict[str, Any]) -> str | None:
    """Return why Journeys refuses an event with this name and data, or None.

    Parameters
    ----------
    name : str or None
        The event name; None skips the name check. The model checks it for
        custom events only: Customer.io documents the 100-byte limit for track
        calls, and a page view is named by its URL, which is often longer.
    data : dict
        The event's attributes.

    Returns
    -------
    str or None
    """
    if name is not None and len(name.encode()) > MAX_EVENT_NAME_BYTES:
        return f"event name is over {MAX_EVENT_NAME_BYTES} bytes"
    if _size(data) > MAX_EVENT_DATA_BYTES:
        return f"event data is over {MAX_EVENT_DATA_BYTES} bytes"
    return None
