"""The operations as one declarative table.

An :class:`Operation` says which Data Pipelines call a row becomes, which
accessor arguments (roles) it takes, where each role's value lands in the call,
and where "every other column" goes. The accessor, the validator, the encoder,
:func:`pandas_cio.schema` and the project's OpenAPI document all read this
table, so adding an operation is adding a row.

The rows of the people, page, screen, alias and object (``group``) operations
are below; the semantic events (including the Customer.io ones behind
``suppress``, ``devices.register``, ``objects.delete``...) are derived from the
event catalogue in :mod:`pandas_cio.operations_semantic`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from .events import JsonType, PropertySpec

__all__ = [
    "CallType",
    "Identity",
    "JsonType",
    "Kind",
    "OPERATIONS",
    "Operation",
    "Role",
    "get_operation",
    "operation_for_event",
    "register",
]

CallType = Literal["identify", "track", "page", "screen", "group", "alias"]
# Which person a call is about:
#   user               userId on every row
#   user_or_anonymous  userId or anonymousId on every row
#   anonymous          anonymousId on every row (a role default may supply it)
#   none               no person (an object upsert)
Identity = Literal["user", "user_or_anonymous", "anonymous", "none"]

# What a role's values must be:
#   id        a non-empty string or an integral number; sent as a string
#   text      a non-empty string
#   timestamp a date-time (datetime dtype, datetime objects or ISO 8601 strings); sent in UTC
#   integer   an integral number
#   enum      one of Role.choices
#   object    a dict (or a JSON object constant)
#   json      anything JSON can carry
Kind = Literal["id", "text", "timestamp", "integer", "enum", "object", "json"]


@dataclass(frozen=True)
class Role:
    """One accessor argument of an operation.

    Attributes
    ----------
    arg : str
        The keyword argument's name, e.g. ``"user_id"``.
    path : tuple of str
        Where the value lands in the call, e.g. ``("context", "device", "token")``.
    kind : Kind
        What the values must be (see the module's comment).
    required : bool
        The argument must be given.
    nullable : bool
        A row may lack a value (the key is then omitted from that call).
    constant : bool
        The argument may be one value for every row instead of a column.
    choices : tuple of str
        Allowed values, for ``kind="enum"``.
    default : Any
        Constant used when the argument is not given (None: nothing).
    description : str
        One line for the docs and the OpenAPI document.
    """

    arg: str
    path: tuple[str, ...]
    kind: Kind
    required: bool = False
    nullable: bool = True
    constant: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    description: str = ""


@dataclass(frozen=True)
class Operation:
    """One row of the operations table.

    Attributes
    ----------
    name : str
        Stable operation key, e.g. ``"identify"`` or ``"devices.register"``;
        part of every messageId, so it never changes once released.
    call_type : CallType
        The Data Pipelines call type.
    roles : tuple of Role
        The arguments that name columns or constants.
    identity : Identity
        Which person the call is about (see :data:`Identity`).
    payload : tuple of str or None
        Where the remaining columns land (``("traits",)``), or None when the
        operation takes no free-form columns.
    payload_arg : str or None
        The argument that lists payload columns (``"traits"``).
    constants : tuple
        Fixed ``(path, value)`` pairs every call carries, e.g. the event name
        of a semantic event. A constant ``{}`` object is sent even when no
        column adds to it (events whose schema requires ``properties``).
    payload_fields : Mapping[str, PropertySpec]
        Documented payload keys with their JSON type and constraints
        (semantic events); undocumented keys are allowed and unchecked.
    payload_required : tuple of str
        Documented payload keys every row needs a value for.
    event : str or None
        The semantic event the operation sends, if any.
    method : str
        The accessor call that runs it, e.g. ``"objects.upsert"`` or
        ``"semantic.ecommerce"``.
    summary : str
        One line for docs and ``--help``.
    """

    name: str
    call_type: CallType
    roles: tuple[Role, ...]
    identity: Identity
    payload: tuple[str, ...] | None = None
    payload_arg: str | None = None
    constants: tuple[tuple[tuple[str, ...], Any], ...] = ()
    payload_fields: Mapping[str, PropertySpec] = field(default_factory=dict)
    payload_required: tuple[str, ...] = ()
    event: str | None = None
    method: str = ""
    summary: str = ""

    def __post_init__(self) -> None:
        """Check the row is consistent, so a slip fails at import, not mid-send."""
        args = [role.arg for role in self.roles]
        if len(set(args)) != len(args):
            raise ValueError(f"{self.name}: duplicate role arguments {args}")
        if missing := set(self.payload_required) - set(self.payload_fields):
            raise ValueError(f"{self.name}: required but undocumented {sorted(missing)}")
        if self.payload_fields and self.payload is None:
            raise ValueError(f"{self.name}: payload fields without a payload")
        object.__setattr__(self, "payload_fields", MappingProxyType(dict(self.payload_fields)))

    def role(self, arg: str) -> Role:
        """Return the role for an argument name (KeyError when absent)."""
        for role in self.roles:
            if role.arg == arg:
                return role
        raise KeyError(arg)


# Roles shared by most operations. messageId is special: the encoder derives
# it from content unless the caller names a column for it.
USER_ID = Role("user_id", ("userId",), "id", description="The person's id.")
ANONYMOUS_ID = Role(
    "anonymous_id", ("anonymousId",), "id", description="An anonymous id, for rows without one."
)
TIMESTAMP = Role(
    "timestamp", ("timestamp",), "timestamp", description="When it happened (for backfills)."
)
MESSAGE_ID = Role("message_id", ("messageId",), "id", description="Your own messageIds.")
CONTEXT = Role(
    "context", ("context",), "object", constant=True, description="The call's context object."
)
INTEGRATIONS = Role(
    "integrations",
    ("integrations",),
    "object",
    constant=True,
    description="Destinations to enable or disable.",
)
COMMON: tuple[Role, ...] = (TIMESTAMP, MESSAGE_ID, CONTEXT, INTEGRATIONS)
PERSON: tuple[Role, ...] = (USER_ID, ANONYMOUS_ID)

OBJECT_ID = Role(
    "object_id", ("groupId",), "id", required=True, nullable=False, description="The object's id."
)
# The reference's group schema types traits.object_type_id as a string
# ("object type IDs are stringified integers"), so the id kind sends "1" for 1.
GROUP_OBJECT_TYPE_ID = Role(
    "object_type_id",
    ("traits", "object_type_id"),
    "id",
    constant=True,
    description="The object type (the service assumes 1 when left out).",
)

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
    """Return the operation that sends a semantic event (KeyError when none does)."""
    try:
        return _BY_EVENT[event]
    except KeyError:
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
_VIEWS: tuple[tuple[CallType, str], ...] = (("page", "page"), ("screen", "app screen"))
for _call_type, _what in _VIEWS:
    register(
        Operation(
            _call_type,
            _call_type,
            (
                *PERSON,
                Role("name", ("name",), "text", constant=True, description=f"The {_what}'s name."),
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
        payload=("traits",),
        payload_arg="traits",
        method="objects.upsert",
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
        summary="Relate people to objects; every other column becomes a relationship attribute.",
    )
)

# The semantic events register themselves from the catalogue; imported last
# because that module builds on the roles and register() above.
from . import operations_semantic as _semantic  # noqa: E402

del _call_type, _what, _semantic
