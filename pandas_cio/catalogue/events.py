"""The catalogue of semantic events the Data Pipelines API defines.

A semantic event is a ``track`` call whose ``event`` name and payload are fixed
in advance, so that Customer.io and downstream destinations can act on it. This
module indexes all 71 of them, :data:`EVENTS`, grouped in the seven categories
of :data:`CATEGORY_KEYS`; the entries themselves are written once, in the
declarative table :mod:`pandas_cio.catalogue._event_table`, and the types that
describe them in :mod:`pandas_cio.catalogue._event_spec`.

Most events carry their data only in the call's ``properties`` object, which
:attr:`EventSpec.properties` describes. Some Customer.io events also need
members elsewhere in the call, for example the device token in
``context.device.token`` or an ``anonymousId`` at the top level; those are in
:attr:`EventSpec.call_fields`, keyed by their dotted path from the call's root.

Names are matched exactly, as the service does, so ``Video Playback interrupted``
keeps its lower-case ``i``: that is how the API's own list of names spells it.

Examples
--------
>>> from pandas_cio.catalogue.events import lookup
>>> spec = lookup("ecommerce", "Order Completed")
>>> spec.properties["revenue"].type
'number'
>>> sorted(lookup("customerio", "Device Deleted").call_fields)
['context.device.token', 'context.device.type', 'userId']
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType

from pandas_cio.errors import UnknownEventError

from ._event_spec import CATEGORY_KEYS, EventSpec, JsonType, PropertySpec
from ._event_table import DELIVERY_METRICS, TABLE

__all__ = [
    "CATEGORY_KEYS",
    "EVENTS",
    "DELIVERY_METRICS",
    "EventSpec",
    "JOURNEYS_ROUTED",
    "JsonType",
    "PropertySpec",
    "events_in",
    "lookup",
]

# How many close spellings an error message offers; more than three reads as noise.
_MAX_SUGGESTIONS = 3

EVENTS: Mapping[str, EventSpec] = MappingProxyType({spec.name: spec for spec in TABLE})
"""Every semantic event, keyed by its exact name."""

JOURNEYS_ROUTED: Mapping[str, EventSpec] = MappingProxyType(
    {name: spec for name, spec in EVENTS.items() if spec.journeys_action != "trackEvent"}
)
"""Events the Journeys destination routes to an action other than recording an event.

Its default presets subscribe these names to actions that delete, suppress or
unsuppress people, create or delete devices, delete objects and relationships,
or report delivery metrics. A plain ``track()`` with one of these names would
do that silently, so it refuses them and points to the method that sends them.
"""

_BY_CATEGORY: Mapping[str, Mapping[str, EventSpec]] = MappingProxyType(
    {
        category: MappingProxyType(
            {name: spec for name, spec in EVENTS.items() if spec.category == category}
        )
        for category in CATEGORY_KEYS
    }
)


def events_in(category: str) -> Mapping[str, EventSpec]:
    """Return the events of one category, keyed by name.

    Parameters
    ----------
    category : str
        One of :data:`CATEGORY_KEYS`.

    Returns
    -------
    Mapping[str, EventSpec]
        A read-only mapping in the order the API lists the events.

    Raises
    ------
    UnknownEventError
        If ``category`` is not one of :data:`CATEGORY_KEYS`.

    Examples
    --------
    >>> list(events_in("ab_test"))
    ['Experiment Viewed']
    """
    try:
        return _BY_CATEGORY[category]
    except KeyError:
        hint = _did_you_mean(category, CATEGORY_KEYS)
        raise UnknownEventError(
            f"Unknown event category {category!r}.{hint} "
            f"Valid categories: {', '.join(CATEGORY_KEYS)}."
        ) from None


def lookup(category: str, name: str) -> EventSpec:
    """Return the event called ``name`` in ``category``.

    Names match exactly, as the service matches them; a near miss raises an
    error that suggests the intended name.

    Parameters
    ----------
    category : str
        One of :data:`CATEGORY_KEYS`.
    name : str
        The event name, e.g. ``"Order Completed"``.

    Returns
    -------
    EventSpec
        The event's catalogue entry.

    Raises
    ------
    UnknownEventError
        If the category is unknown, or it has no event called ``name``. The
        message lists the category's valid names and any close matches.

    Examples
    --------
    >>> lookup("mobile", "Application Opened").properties["from_background"].type
    'boolean'
    >>> try:
    ...     lookup("ecommerce", "order completed")
    ... except UnknownEventError as exc:
    ...     print(str(exc).split(" Valid names")[0])
    'order completed' is not an event of category 'ecommerce'. Did you mean 'Order Completed'?
    """
    events = events_in(category)
    spec = events.get(name)
    if spec is not None:
        return spec
    other = EVENTS.get(name)
    if other is not None:
        hint = f" It belongs to category {other.category!r}."
    else:
        hint = _did_you_mean(name, events)
    raise UnknownEventError(
        f"{name!r} is not an event of category {category!r}.{hint} "
        f"Valid names: {', '.join(repr(valid) for valid in sorted(events))}."
    )


def _did_you_mean(name: str, choices: Mapping[str, object] | tuple[str, ...]) -> str:
    """Return ``" Did you mean ...?"`` for close spellings of ``name``, or ``""``."""
    # Compare case-folded so that "order completed" finds "Order Completed"
    # first, then fall back to difflib for typos.
    by_folded = {choice.casefold(): choice for choice in choices}
    folded = name.casefold()
    if folded in by_folded:
        matches = [by_folded[folded]]
    else:
        close = difflib.get_close_matches(folded, by_folded, n=_MAX_SUGGESTIONS)
        matches = [by_folded[key] for key in close]
    if not matches:
        return ""
    return f" Did you mean {' or '.join(repr(match) for match in matches)}?"
