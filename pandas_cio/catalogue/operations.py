"""The operations as one declarative table.

An :class:`Operation` says which Data Pipelines call a row becomes, which
accessor arguments (roles) it takes, where each role's value lands in the call,
and where "every other column" goes. The accessor, the validator, the encoder,
:func:`pandas_cio.schema` and the project's OpenAPI document all read this
table, so adding an operation is adding a row.

The rows of the people, page, screen, alias and object (``group``) operations
are below; the semantic events (including the Customer.io ones behind
``suppress``, ``devices.register``, ``objects.delete``...) are derived from the
event catalogue in :mod:`pandas_cio.catalogue.semantic`. What a row is made of
(:class:`Operation`, :class:`Role`, the shared roles and the limits) is in
:mod:`pandas_cio.catalogue.operation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..errors import UnknownEventError
from .events import EVENTS
from .operation import (
    COMMON,
    GROUP_OBJECT_TYPE_ID,
    MAX_EVENT_NAME_BYTES,
    OBJECT_ID,
    PERSON,
    USER_ID,
    CallType,
    Operation,
    Role,
)
from .semantic import SEMANTIC_OPERATIONS

__all__ = ["OPERATIONS", "get_operation", "operation_for_event", "register"]

_TABLE: dict[str, Operation] = {}
OPERATIONS: Mapping[str, Operation] = MappingProxyType(_TABLE)
_BY_EVENT: dict[str, Operation] = {}


def register(operation: Operation) -> Operation:
    """Add an operation to the table (names, and the events they send, are unique)."""
    if operation.name in _TABLE:
        raise ValueError(f"operation {operation.name!r} is already registered")
    if operation.event is not None:
        if operation.event in _BY_EVENT:
            raise ValueError(f"event {operation.event!r} already has an operation")
        _BY_EVENT[operation.event] = operation
    _TABLE[operation.name] = operation
    return operation


def get_operation(name: str) -> Operation:
    """Return a registered operation by name."""
    try:
        return _TABLE[name]
    except KeyError:
        raise KeyError(f"unknown operation {name!r}; known: {sorted(_TABLE)}") from None


def operation_for_event(event: str) -> Operation:
    """Return the operation that sends a semantic event.

    Raises
    ------
    UnknownEventError
        The catalogue has the event but the library refuses to send it
        (``Group Deleted``); the message says what to send instead.
    KeyError
        No operation sends the event.
    """
    try:
        return _BY_EVENT[event]
    except KeyError:
        spec = EVENTS.get(event)
        if spec is not None and spec.refused:
            raise UnknownEventError(spec.refused) from None
        raise KeyError(f"no operation sends event {event!r}") from None


register(
    Operation(
        "identify",
        "identify",
        (*PERSON, *COMMON),
        identity="user_or_anonymous",
        payload=("traits",),
        payload_arg="traits",
        method="identify",
        attributes=True,
        summary="Create or update people; every other column becomes a trait.",
    )
)
register(
    Operation(
        "track",
        "track",
        (
            *PERSON,
            Role(
                "event",
                ("event",),
                "text",
                required=True,
                nullable=False,
                constant=True,
                description="The event name.",
                max_bytes=MAX_EVENT_NAME_BYTES,
            ),
            *COMMON,
        ),
        identity="user_or_anonymous",
        payload=("properties",),
        payload_arg="properties",
        method="track",
        summary="Record events; every other column becomes an event property.",
    )
)
PAGE_URL = Role(
    "url",
    ("properties", "url"),
    "text",
    constant=True,
    description="The page's URL (Journeys names the page view by it).",
)
# Per view call: its own roles, and what Journeys needs of them.
_VIEWS: tuple[tuple[CallType, str, tuple[Role, ...], dict[str, str]], ...] = (
    (
        "page",
        "page",
        (PAGE_URL,),
        {"url": "Customer.io Journeys names page views by their url and drops those without one"},
    ),
    (
        "screen",
        "app screen",
        (),
        {"name": "Customer.io Journeys drops screen views without a name"},
    ),
)
for _call_type, _what, _own, _needs in _VIEWS:
    register(
        Operation(
            _call_type,
            _call_type,
            (
                *PERSON,
                Role(
                    "name",
                    ("name",),
                    "text",
                    constant=True,
                    description=f"The {_what}'s name.",
                    # Journeys sends a screen's name as its event name.
                    max_bytes=MAX_EVENT_NAME_BYTES if _call_type == "screen" else None,
                ),
                *_own,
                # The reference documents category inside properties, not beside name.
                Role(
                    "category",
                    ("properties", "category"),
                    "text",
                    constant=True,
                    description=f"The {_what}'s category.",
                ),
                *COMMON,
            ),
            identity="user_or_anonymous",
            payload=("properties",),
            payload_arg="properties",
            method=_call_type,
            summary=f"Record {_what} views; every other column becomes a property.",
            journeys_needs=_needs,
        )
    )
register(
    Operation(
        "alias",
        "alias",
        (
            USER_ID,
            Role(
                "previous_id",
                ("previousId",),
                "id",
                required=True,
                nullable=False,
                description="The id to merge into the person with user_id.",
            ),
            *COMMON,
        ),
        identity="user",
        method="alias",
        summary="Merge the profile of previous_id into the person with user_id.",
    )
)
register(
    Operation(
        "objects.upsert",
        "group",
        (OBJECT_ID, GROUP_OBJECT_TYPE_ID, *COMMON),
        identity="none",
        # Customer.io's Journeys destination reads object attributes only from
        # traits.objectAttributes (and the type from traits.object_type_id):
        # attributes flat in traits reach it as an object with no attributes.
        payload=("traits", "objectAttributes"),
        payload_arg="traits",
        method="objects.upsert",
        attributes=True,
        summary="Create or update objects; every other column becomes an object attribute.",
    )
)
register(
    Operation(
        "objects.relate",
        "group",
        (*PERSON, OBJECT_ID, GROUP_OBJECT_TYPE_ID, *COMMON),
        identity="user_or_anonymous",
        # The reference's group schema has no member for relationship
        # attributes; its traits take any extra member, and Customer.io's
        # destination reads them from traits.relationshipAttributes.
        payload=("traits", "relationshipAttributes"),
        payload_arg="relationship_traits",
        method="objects.relate",
        attributes=True,
        summary="Relate people to objects; every other column becomes a relationship attribute.",
    )
)

for _operation in SEMANTIC_OPERATIONS:
    register(_operation)

del _call_type, _what, _own, _needs, _operation
