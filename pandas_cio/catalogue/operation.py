"""What an operation row is made of: :class:`Operation`, :class:`Role`, limits.

The rows themselves are in :mod:`pandas_cio.catalogue.operations` (people, page,
screen, alias, objects) and :mod:`pandas_cio.catalogue.semantic` (derived from
the event catalogue); both build on the roles shared here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from .events import JsonType, PropertySpec
from .kinds import Kind

__all__ = [
    "ANONYMOUS_ID",
    "COMMON",
    "CONTEXT",
    "CallType",
    "GROUP_OBJECT_TYPE_ID",
    "INTEGRATIONS",
    "Identity",
    "JsonType",
    "Kind",
    "MAX_ATTRIBUTES",
    "MAX_ATTRIBUTE_NAME_BYTES",
    "MAX_ATTRIBUTE_VALUE_BYTES",
    "MAX_EVENT_DATA_BYTES",
    "MAX_EVENT_NAME_BYTES",
    "MESSAGE_ID",
    "OBJECT_ID",
    "Operation",
    "PERSON",
    "Role",
    "TIMESTAMP",
    "USER_ID",
]

CallType = Literal["identify", "track", "page", "screen", "group", "alias"]
# Which person a call is about:
#   user               userId on every row
#   user_or_anonymous  userId or anonymousId on every row
#   anonymous          anonymousId on every row (a role default may supply it)
#   none               no person (an object upsert)
Identity = Literal["user", "user_or_anonymous", "anonymous", "none"]


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
        What the values must be (a row of :data:`~pandas_cio.catalogue.kinds.KINDS`).
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
    max_bytes : int or None
        Customer.io Journeys refuses values longer than this many UTF-8 bytes
        (event names); checked unless ``journeys=False``.
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
    max_bytes: int | None = None


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
    journeys_needs : Mapping[str, str]
        Arguments Customer.io Journeys needs a value of in every row although
        the Data Pipelines API does not, each with the reason (the destination
        drops the call without it, after the API answered 200). An argument
        whose path lies in the payload may also be met by a payload column of
        that key (``url`` of a page). ``user_id`` here means anonymous rows
        cannot land, so ``anonymous_id=`` is refused. Checked unless
        ``journeys=False``.
    attributes : bool
        The payload becomes Journeys attributes (people, objects,
        relationships), so Journeys' limits on attributes apply to it.
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
    journeys_needs: Mapping[str, str] = field(default_factory=dict)
    attributes: bool = False

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
        object.__setattr__(self, "journeys_needs", MappingProxyType(dict(self.journeys_needs)))
        if unknown := set(self.journeys_needs) - set(args):
            raise ValueError(f"{self.name}: Journeys needs unknown arguments {sorted(unknown)}")

    def role(self, arg: str) -> Role:
        """Return the role for an argument name (KeyError when absent)."""
        for role in self.roles:
            if role.arg == arg:
                return role
        raise KeyError(arg)


# Limits of Customer.io Journeys ("Invalid API requests" in its docs). It
# refuses such calls after the Data Pipelines API has answered 200, so the
# library checks them first (unless journeys=False).
MAX_ATTRIBUTES = 300
"""Attributes one identify may set."""
MAX_ATTRIBUTE_NAME_BYTES = 150
"""UTF-8 bytes of an attribute's name."""
MAX_ATTRIBUTE_VALUE_BYTES = 1_000
"""Bytes of an attribute's value: a string's UTF-8, a nested value's JSON."""
MAX_EVENT_NAME_BYTES = 100
"""UTF-8 bytes of an event's name."""
MAX_EVENT_DATA_BYTES = 100_000
"""Bytes of an event's data; never reached, as a call over 32 KB is ``too_large``."""

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
