"""The types a semantic event is described with.

:class:`EventSpec` describes one event, :class:`PropertySpec` one member of its
payload; :data:`CATEGORY_KEYS` names the seven categories an event belongs to.
The events themselves are in :mod:`pandas_cio.catalogue._event_table`, and
:mod:`pandas_cio.catalogue.events` looks them up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeVar

__all__ = [
    "CATEGORY_KEYS",
    "EventSpec",
    "JsonType",
    "PropertySpec",
]

JsonType = Literal["string", "number", "integer", "boolean", "array", "object"]

CATEGORY_KEYS: tuple[str, ...] = (
    "customerio",
    "ab_test",
    "ecommerce",
    "email",
    "live_chat",
    "mobile",
    "video",
)

_V = TypeVar("_V")


def _frozen(mapping: Mapping[str, _V]) -> Mapping[str, _V]:
    """Return a read-only copy, so the shared table cannot be changed by a caller."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class PropertySpec:
    """The documented type and constraints of one member of an event.

    Attributes
    ----------
    type : JsonType
        The JSON type the API documents for the value.
    description : str
        What the value means, in a few words.
    enum : tuple of str, optional
        The only values the API documents, when it restricts them.
    items : Mapping[str, JsonType], optional
        For an array of objects (such as ``products``): each documented key of
        an element and its JSON type.
    item_type : JsonType, optional
        For an array: the JSON type of its elements (``"object"`` when
        ``items`` is given).
    format : str, optional
        A JSON Schema format the API names, such as ``"date-time"``.
    minimum, maximum : float, optional
        Inclusive numeric bounds, when the API documents them.
    """

    type: JsonType
    description: str = ""
    enum: tuple[str, ...] | None = None
    items: Mapping[str, JsonType] | None = None
    item_type: JsonType | None = None
    format: str | None = None
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        """Freeze ``items`` and check that only arrays describe elements."""
        if self.items is not None:
            object.__setattr__(self, "items", _frozen(self.items))
            if self.item_type is None:
                object.__setattr__(self, "item_type", "object")
        if (self.items is not None or self.item_type is not None) and self.type != "array":
            raise ValueError(f"only an array property can describe items, not {self.type!r}")


@dataclass(frozen=True)
class EventSpec:
    """One semantic event: its exact name, category and documented payload.

    Attributes
    ----------
    name : str
        The event name exactly as the API spells it, e.g. ``"Order Completed"``.
    category : str
        One of :data:`CATEGORY_KEYS`.
    properties : Mapping[str, PropertySpec]
        The documented members of the call's ``properties`` object. The API
        accepts further, undocumented members as well.
    required : tuple of str
        Members of ``properties`` the event needs.
    reference : str
        Name of the schema that describes the event in Customer.io's public
        OpenAPI description of the Data Pipelines API.
    summary : str
        When to send the event, in one sentence.
    call_fields : Mapping[str, PropertySpec]
        Members the event documents outside ``properties``, keyed by dotted
        path from the call's root (``"context.device.token"``,
        ``"anonymousId"``). ``type`` and ``event`` are left out, since every
        call sets them, and so are ``userId`` and ``anonymousId`` unless the
        event insists on one of them.
    required_call_fields : tuple of str
        Paths the event needs outside ``properties``. ``"properties"`` itself
        appears here when the call must carry a ``properties`` object even if
        it is empty.
    person : bool
        Whether the call is about a person (needs a ``userId`` or an
        ``anonymousId``). ``Report Delivery Event`` reports on a message
        delivery and needs neither.
    journeys_action : str
        The action of Customer.io's Journeys destination that its default
        presets route the event to (``"trackEvent"``: recorded as an event).
        Any other action does something else with the call, which is why a
        plain ``track()`` refuses these names (see :data:`JOURNEYS_ROUTED`).
    journeys_needs : Mapping[str, PropertySpec]
        Members outside ``properties`` that the Journeys action needs although
        the Data Pipelines API does not: the destination drops calls without
        them after the API has answered 200. Checked unless ``journeys=False``.
    refused : str
        When not empty, the library does not send the event and raises
        :class:`~pandas_cio.errors.UnknownEventError` with this text.
    """

    name: str
    category: str
    properties: Mapping[str, PropertySpec]
    required: tuple[str, ...] = ()
    reference: str = ""
    summary: str = ""
    call_fields: Mapping[str, PropertySpec] = field(default_factory=dict)
    required_call_fields: tuple[str, ...] = ()
    person: bool = True
    journeys_action: str = "trackEvent"
    journeys_needs: Mapping[str, PropertySpec] = field(default_factory=dict)
    refused: str = ""

    def __post_init__(self) -> None:
        """Freeze the mappings and check the entry is consistent."""
        object.__setattr__(self, "properties", _frozen(self.properties))
        object.__setattr__(self, "call_fields", _frozen(self.call_fields))
        object.__setattr__(self, "journeys_needs", _frozen(self.journeys_needs))
        # Checked here so that a slip in the table fails at import, not mid-send.
        if self.category not in CATEGORY_KEYS:
            raise ValueError(f"{self.name!r}: unknown category {self.category!r}")
        if missing := set(self.required) - set(self.properties):
            raise ValueError(f"{self.name!r}: required but undocumented {sorted(missing)}")
        if missing := set(self.required_call_fields) - set(self.call_fields) - {"properties"}:
            raise ValueError(f"{self.name!r}: required but undocumented {sorted(missing)}")
