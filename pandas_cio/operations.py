"""The operations as one declarative table.

An :class:`Operation` says which Data Pipelines call a row becomes, which
accessor arguments (roles) it takes, where each role's value lands in the call,
and where "every other column" goes. The accessor, the validator and the
encoder all read this table, so adding an operation is adding a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "CallType",
    "Identity",
    "JsonType",
    "Kind",
    "OPERATIONS",
    "Operation",
    "Role",
    "get_operation",
    "register",
]

CallType = Literal["identify", "track", "page", "screen", "group", "alias"]
JsonType = Literal["string", "number", "integer", "boolean", "array", "object"]
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
    """

    arg: str
    path: tuple[str, ...]
    kind: Kind
    required: bool = False
    nullable: bool = True
    constant: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None


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
        Which person the call is about: ``"user"`` needs ``userId`` on every
        row; ``"user_or_anonymous"`` needs one of ``userId``/``anonymousId``.
    payload : tuple of str or None
        Where the remaining columns land (``("traits",)``), or None when the
        operation takes no free-form columns.
    payload_arg : str or None
        The argument that lists payload columns (``"traits"``).
    constants : tuple
        Fixed ``(path, value)`` pairs every call carries, e.g. the event name
        of a Customer.io semantic event.
    payload_types : Mapping[str, JsonType]
        Documented payload keys and their JSON types (semantic events).
    payload_items : Mapping[str, Mapping[str, JsonType]]
        For payload keys that are arrays of objects (``products``), the item
        properties and their types.
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
    payload_types: Mapping[str, JsonType] = field(default_factory=dict)
    payload_items: Mapping[str, Mapping[str, JsonType]] = field(default_factory=dict)
    summary: str = ""

    def role(self, arg: str) -> Role:
        """Return the role for an argument name (KeyError when absent)."""
        for role in self.roles:
            if role.arg == arg:
                return role
        raise KeyError(arg)


# Roles shared by most operations. messageId is special: the encoder derives
# it from content unless the caller names a column for it.
USER_ID = Role("user_id", ("userId",), "id")
ANONYMOUS_ID = Role("anonymous_id", ("anonymousId",), "id")
TIMESTAMP = Role("timestamp", ("timestamp",), "timestamp")
MESSAGE_ID = Role("message_id", ("messageId",), "id")
CONTEXT = Role("context", ("context",), "object", constant=True)
INTEGRATIONS = Role("integrations", ("integrations",), "object", constant=True)
COMMON: tuple[Role, ...] = (TIMESTAMP, MESSAGE_ID, CONTEXT, INTEGRATIONS)
PERSON: tuple[Role, ...] = (USER_ID, ANONYMOUS_ID)

_TABLE: dict[str, Operation] = {}
OPERATIONS: Mapping[str, Operation] = MappingProxyType(_TABLE)


def register(operation: Operation) -> Operation:
    """Add an operation to the table (names are unique)."""
    if operation.name in _TABLE:
        raise ValueError(f"operation {operation.name!r} is already registered")
    _TABLE[operation.name] = operation
    return operation


def get_operation(name: str) -> Operation:
    """Return a registered operation by name."""
    try:
        return _TABLE[name]
    except KeyError:
        raise KeyError(f"unknown operation {name!r}; known: {sorted(_TABLE)}") from None


register(
    Operation(
        "identify",
        "identify",
        (*PERSON, *COMMON),
        identity="user_or_anonymous",
        payload=("traits",),
        payload_arg="traits",
        summary="Create or update people; every other column becomes a trait.",
    )
)
register(
    Operation(
        "track",
        "track",
        (
            *PERSON,
            Role("event", ("event",), "text", required=True, nullable=False, constant=True),
            *COMMON,
        ),
        identity="user_or_anonymous",
        payload=("properties",),
        payload_arg="properties",
        summary="Record events; every other column becomes an event property.",
    )
)
