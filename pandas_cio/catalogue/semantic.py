"""Rows of the operations table derived from the semantic event catalogue.

Every event of :data:`pandas_cio.catalogue.events.EVENTS` becomes one ``track``
operation whose ``event`` is fixed and whose documented properties are typed
payload fields. Members the catalogue documents outside ``properties`` (the
device token in ``context.device.token``, an email recipient in
``context.traits.email``...) and a few properties that identify something
(``objectId``) become accessor arguments, as :data:`ARGUMENTS` says. A member
the catalogue gains without an entry there fails at import, so no member is
ever silently sent in the wrong place.

The Customer.io events that have their own accessor methods keep the names of
those methods (:data:`METHOD_NAMES`), so ``df.cio.suppress(user_id=...)`` and
``df.cio.semantic.customerio("User Suppressed", user_id=...)`` are the same
operation and send the same messageIds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from .events import EVENTS, EventSpec
from .operation import (
    COMMON,
    PERSON,
    USER_ID,
    Identity,
    Operation,
    Role,
)

__all__ = [
    "ARGUMENTS",
    "METHOD_NAMES",
    "SEMANTIC_OPERATIONS",
    "UNUSED_ANONYMOUS_ID",
    "semantic_operation",
]

# Object Deleted needs an anonymousId that the service ignores; a fixed value
# keeps messageIds deterministic and tells a reader where the call came from.
UNUSED_ANONYMOUS_ID = "pandas_cio"

ARGUMENTS: Mapping[str, Role] = MappingProxyType(
    {
        "userId": USER_ID,
        "anonymousId": Role(
            "anonymous_id",
            ("anonymousId",),
            "id",
            constant=True,
            default=UNUSED_ANONYMOUS_ID,
            description="Required by the service but unused; defaults to 'pandas_cio'.",
        ),
        "context.device.token": Role(
            "token",
            ("context", "device", "token"),
            "text",
            required=True,
            nullable=False,
            description="The device token.",
        ),
        "context.device.type": Role(
            "platform",
            ("context", "device", "type"),
            "enum",
            constant=True,
            choices=("ios", "android"),
            description="The device platform: ios or android.",
        ),
        "context.traits.email": Role(
            "email", ("context", "traits", "email"), "text", description="Recipient's email."
        ),
        "context.traits.ip": Role(
            "ip", ("context", "traits", "ip"), "text", description="IP the recipient acted from."
        ),
        "context.traits.user_agent": Role(
            "user_agent",
            ("context", "traits", "user_agent"),
            "text",
            description="User agent the recipient acted from.",
        ),
        "properties.objectId": Role(
            "object_id",
            ("properties", "objectId"),
            "id",
            required=True,
            nullable=False,
            description="The object's id.",
        ),
        # The reference's schema types objectTypeId as an integer (its example
        # shows "1"); the schema is the checkable contract, so integers it is.
        "properties.objectTypeId": Role(
            "object_type_id",
            ("properties", "objectTypeId"),
            "integer",
            constant=True,
            description="The object type (the service assumes 1 when left out).",
        ),
    }
)
"""Catalogue members that become accessor arguments, keyed by dotted call path."""

METHOD_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "User Deleted": "delete",
        "User Suppressed": "suppress",
        "User Unsuppressed": "unsuppress",
        "Device Created or Updated": "devices.register",
        "Device Deleted": "devices.delete",
        "Relationship Deleted": "objects.unrelate",
        "Object Deleted": "objects.delete",
    }
)
"""Events sent by an accessor method of their own, and that method's name."""

# Timestamps are a common role of every operation already.
_COMMON_PATHS = frozenset({"timestamp"})


def _identity(spec: EventSpec) -> tuple[Identity, tuple[Role, ...]]:
    if "userId" in spec.required_call_fields:
        return "user", ()
    if "anonymousId" in spec.required_call_fields:
        return "anonymous", ()
    if not spec.person:
        # The API's track schema still wants a userId or an anonymousId: the
        # unused default fills in when the caller gives neither.
        return "none", (USER_ID, ARGUMENTS["anonymousId"])
    return "user_or_anonymous", PERSON


def _journeys_roles(spec: EventSpec, roles: list[Role]) -> dict[str, str]:
    """Add the roles Journeys needs beyond the API's; return {argument: reason}.

    A member only Journeys needs is optional for the API, so its role is
    optional here; the plan insists on it unless ``journeys=False``.
    """
    needs: dict[str, str] = {}
    action = spec.journeys_action
    for path in spec.journeys_needs:
        role = ARGUMENTS[path]
        if all(r.arg != role.arg for r in roles):
            roles.append(replace(role, required=False, nullable=True))
        needs[role.arg] = (
            f"Customer.io Journeys routes {spec.name!r} to its {action} action, "
            f"which drops calls without {path}"
        )
    return needs


def semantic_operation(spec: EventSpec) -> Operation:
    """Return the operations-table row that sends one semantic event.

    Parameters
    ----------
    spec : EventSpec
        The catalogue entry.

    Returns
    -------
    Operation
        A ``track`` operation with the event name fixed, the catalogue's
        call members as arguments and its properties as typed payload fields.

    Raises
    ------
    KeyError
        The event documents a member outside ``properties`` that
        :data:`ARGUMENTS` does not place.
    """
    identity, person = _identity(spec)
    roles: list[Role] = list(person)
    for path in (*spec.call_fields, *spec.journeys_needs):
        if path not in ARGUMENTS and path not in _COMMON_PATHS:
            raise KeyError(f"{spec.name!r}: no accessor argument for call member {path!r}")
    for path in spec.call_fields:
        if path not in _COMMON_PATHS:
            roles.append(ARGUMENTS[path])
    journeys_needs = _journeys_roles(spec, roles)
    promoted = {key for key in spec.properties if f"properties.{key}" in ARGUMENTS}
    roles.extend(ARGUMENTS[f"properties.{key}"] for key in spec.properties if key in promoted)
    constants: list[tuple[tuple[str, ...], object]] = [(("event",), spec.name)]
    if "properties" in spec.required_call_fields:
        constants.append((("properties",), {}))
    method = METHOD_NAMES.get(spec.name, f"semantic.{spec.category}")
    return Operation(
        METHOD_NAMES.get(spec.name, f"semantic:{spec.name}"),
        "track",
        (*roles, *COMMON),
        identity=identity,
        payload=("properties",),
        payload_arg="properties",
        constants=tuple(constants),
        payload_fields={k: v for k, v in spec.properties.items() if k not in promoted},
        payload_required=tuple(k for k in spec.required if k not in promoted),
        event=spec.name,
        method=method,
        summary=spec.summary,
        journeys_needs=journeys_needs,
    )


# Refused events have no operation (see operations.operation_for_event).
SEMANTIC_OPERATIONS: tuple[Operation, ...] = tuple(
    semantic_operation(spec) for spec in EVENTS.values() if not spec.refused
)
