"""Records of what lands in the fake's model of Customer.io Journeys, and of what does not.

Each record is a small frozen dataclass, so a test can compare it with ``==`` and
keep it after the model moves on. Records that carry attributes hold plain dicts
(copies of the model's state), which makes them unhashable: compare them, do
not put them in sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DeliveryMetric",
    "Deletion",
    "Device",
    "Dropped",
    "Event",
    "Merge",
    "Suppression",
]


@dataclass(frozen=True)
class Event:
    """One event, page view or screen view that landed on a profile.

    Attributes
    ----------
    kind : {"event", "page", "screen"}
        Which action made it: Track Event, Track Page View or Track Screen View.
    name : str
        The event name; for a page view the page URL (``properties.url``), as
        the destination names page views; for a screen view the screen name.
    person : str or None
        The profile the event landed on: the ``userId`` as sent, or None for
        an anonymous profile.
    anonymous_id : str or None
        The ``anonymousId`` of the call, when it had one.
    id : str or None
        The Track API event id, which the destination takes from ``messageId``.
        Customer.io keeps one event per id.
    timestamp : int, float, str or None
        The call's ``timestamp`` as the destination passes it on: ISO-8601
        strings become Unix seconds, numbers stay as they are.
    data : dict
        The event's attributes: ``properties`` with ISO-8601 strings converted
        to Unix seconds (nested objects too, not lists). When the call has
        both a ``userId`` and an ``anonymousId`` the destination adds
        ``anonymous_id`` here, and so does the model.
    message_id : str or None
        The call's ``messageId``.
    """

    kind: Literal["event", "page", "screen"]
    name: str
    person: str | None
    anonymous_id: str | None
    id: str | None
    timestamp: int | float | str | None
    data: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None


@dataclass(frozen=True)
class Device:
    """A mobile device on a person's profile.

    Attributes
    ----------
    person : str
        The ``userId`` the device belongs to.
    token : str
        The device token, from ``context.device.token``.
    platform : str
        From ``context.device.type`` (``"ios"``, ``"android"``).
    last_used : int, float, str or None
        The call's ``timestamp``, converted to Unix seconds.
    attributes : dict
        Device attributes: the ``properties`` of a ``Device Created or Updated``
        call (Customer.io's semantic event); empty for the ``Application *``
        events, whose device action reads no properties.
    message_id : str or None
        The ``messageId`` of the call that last wrote the device.
    """

    person: str
    token: str
    platform: str
    last_used: int | float | str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None


@dataclass(frozen=True)
class Merge:
    """Two profiles merged by an ``alias`` call.

    Attributes
    ----------
    primary : str
        The ``userId``: the profile that remains.
    secondary : str
        The ``previousId``: the profile merged into the primary and removed.
    message_id : str or None
        The call's ``messageId``.
    """

    primary: str
    secondary: str
    message_id: str | None = None


@dataclass(frozen=True)
class Deletion:
    """Something a call deleted.

    Attributes
    ----------
    kind : {"person", "object", "relationship", "device"}
        What was deleted.
    target : tuple of str
        Its key: ``(person,)``, ``(type_id, object_id)``,
        ``(type_id, object_id, person)`` or ``(person, token)``.
    message_id : str or None
        The call's ``messageId``.
    """

    kind: Literal["person", "object", "relationship", "device"]
    target: tuple[str, ...]
    message_id: str | None = None


@dataclass(frozen=True)
class Suppression:
    """A person suppressed (``User Suppressed``) or unsuppressed (``User Unsuppressed``).

    Attributes
    ----------
    person : str
        The ``userId``.
    suppressed : bool
        True for a suppression, False for an unsuppression.
    message_id : str or None
        The call's ``messageId``.
    """

    person: str
    suppressed: bool
    message_id: str | None = None


@dataclass(frozen=True)
class DeliveryMetric:
    """A delivery metric reported with ``Report Delivery Event``.

    Attributes
    ----------
    delivery_id : str
        ``properties.deliveryId``.
    metric : str
        ``properties.metric``: delivered, opened, clicked, converted, bounced,
        spammed, dropped or deferred.
    timestamp : int, float, str or None
        The call's ``timestamp`` in Unix seconds.
    recipient, reason, href, action_name, action_value : str or None
        ``properties.recipient``, ``reason``, ``href``, ``actionName`` and
        ``actionValue``.
    message_id : str or None
        The call's ``messageId``.
    """

    delivery_id: str
    metric: str
    timestamp: int | float | str | None
    recipient: str | None = None
    reason: str | None = None
    href: str | None = None
    action_name: str | None = None
    action_value: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class Dropped:
    """Data that never landed in Journeys, and why.

    Attributes
    ----------
    message_id : str or None
        The ``messageId`` of the call.
    call_type : str
        The call's ``type`` (``"track"``, ``"group"`` ...), or ``""`` when it had none.
    event : str or None
        The ``event`` of a track call, for telling semantic events apart.
    action : str
        Who dropped it: ``"pipelines_api"`` for a call the Data Pipelines API
        refused, or the Journeys action that could not use it
        (``"createUpdateDevice"``, ``"trackPageView"`` ...).
    reason : str
        What was missing or wrong, naming fields, never quoting their values.
    by : {"pipelines_api", "journeys"}
        The stage that dropped it.
    partial : bool
        True when the call still landed in part and only what ``reason``
        names was lost (a group call's traits outside ``objectAttributes``).
    """

    message_id: str | None
    call_type: str
    event: str | None
    action: str
    reason: str
    by: Literal["pipelines_api", "journeys"] = "journeys"
    partial: bool = False
