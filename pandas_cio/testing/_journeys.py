"""A model of Customer.io Journeys behind the fake: what lands where, and what is dropped.

:class:`Journeys` applies each call the fake accepts the way the Journeys
destination's default actions would (see :mod:`pandas_cio.testing._journeys_actions`
for the sources), and records the result: people and their attributes, objects,
relationships, devices, events, page and screen views, merges, deletions,
suppressions and delivery metrics. A call, or part of one, that the destination
cannot use is recorded in :attr:`Journeys.dropped` with the reason.

Simplifications, each on the safe side for a test: updates apply in arrival
order (the model does not reorder by ``timestamp``); event ids are unique across
the workspace; a call naming a ``cio_`` id or a person that does not exist yet
creates the profile.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from typing import Any

from pandas_cio.testing._journeys_store import Store
from pandas_cio.testing._journeys_types import (
    Deletion,
    DeliveryMetric,
    Device,
    Dropped,
    Event,
    Merge,
    Suppression,
)

__all__ = ["Journeys"]


class Journeys:
    """What reached Customer.io Journeys through the fake, as its destination's actions apply it.

    :class:`~pandas_cio.testing.FakeCio` feeds every call it accepts to its
    ``journeys`` attribute; tests read the results. It can also be fed
    directly with :meth:`ingest`. Every method is thread-safe; the properties
    return copies.

    Examples
    --------
    >>> j = Journeys()
    >>> j.ingest([{"type": "identify", "userId": "u1", "messageId": "m1",
    ...            "traits": {"plan": "pro", "since": "2024-01-02T00:00:00Z"}}])
    >>> j.person("u1")
    {'plan': 'pro', 'since': 1704153600}
    >>> j.ingest([{"type": "page", "userId": "u1", "messageId": "m2", "properties": {}}])
    >>> j.dropped[0].reason
    'page needs properties.url (the destination uses it as the page name)'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._s = Store()

    def __repr__(self) -> str:
        with self._lock:
            people = sum(1 for p in set(map(id, self._s.profiles.values())))
            return f"<Journeys {people} profiles, {len(self._s.dropped)} dropped>"

    # Reading

    def reset(self) -> None:
        """Forget everything; :meth:`FakeCio.reset` calls this too."""
        with self._lock:
            self._s = Store()

    def person(self, person_id: str) -> dict[str, Any] | None:
        """Return a person's attributes, or None when no such person landed.

        Parameters
        ----------
        person_id : str
            The ``userId`` as sent; also found: an email address (a person
            identified by it, or with it as ``email`` attribute), a ``cio_`` id,
            or an ``anonymousId`` (its anonymous profile, or the person it was
            identified as).

        Returns
        -------
        dict or None
            A copy of the attributes, with ISO-8601 strings as Unix seconds.
        """
        with self._lock:
            profile = self._s.lookup(person_id)
            return None if profile is None else copy.deepcopy(profile.attributes)

    @property
    def people(self) -> dict[str, dict[str, Any]]:
        """Identified people: the id they were identified by (as sent) to their attributes."""
        return self._profiles_of(anonymous=False)

    @property
    def anonymous(self) -> dict[str, dict[str, Any]]:
        """Anonymous profiles not identified yet: ``anonymousId`` to attributes."""
        return self._profiles_of(anonymous=True)

    def events(self, person_id: str | None = None) -> list[Event]:
        """Return the custom events (track calls) that landed, in arrival order.

        Parameters
        ----------
        person_id : str or None
            Only the events of this profile, found as :meth:`person` finds it;
            None for every profile's events.

        Returns
        -------
        list of Event
        """
        with self._lock:
            if person_id is None:
                profiles = self._s.unique_profiles()
            else:
                found = self._s.lookup(person_id)
                profiles = [] if found is None else [found]
            return [e for p in profiles for e in p.events]

    def landed(self, message_id: str) -> bool:
        """Return whether the call with this ``messageId`` changed anything in Journeys.

        Parameters
        ----------
        message_id : str
            The call's ``messageId``.

        Returns
        -------
        bool
            True when at least one of the call's actions applied, in whole or
            in part (see :attr:`Dropped.partial`); False for a call the API or
            the destination dropped, a repeated event id, or an unknown id.
        """
        with self._lock:
            return message_id in self._s.landed

    @property
    def landed_ids(self) -> frozenset[str]:
        """The ``messageId`` of every call that changed something in Journeys."""
        with self._lock:
            return frozenset(self._s.landed)

    @property
    def event_ids(self) -> frozenset[str]:
        """Ids of the events, page and screen views Journeys holds: one each (it de-duplicates)."""
        with self._lock:
            return frozenset(self._s.event_ids)

    @property
    def page_views(self) -> list[Event]:
        """Page views that landed (``kind="page"``, named by URL), in arrival order."""
        with self._lock:
            return list(self._s.page_views)

    @property
    def screen_views(self) -> list[Event]:
        """Screen views that landed (``kind="screen"``), in arrival order."""
        with self._lock:
            return list(self._s.screen_views)

    @property
    def objects(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Objects: ``(object_type_id, object_id)`` to attributes."""
        with self._lock:
            return copy.deepcopy(self._s.objects)

    @property
    def relationships(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """Relationships: ``(object_type_id, object_id, person)`` to relationship attributes.

        ``person`` is the ``userId`` as sent, or the ``anonymousId`` for an
        anonymous relationship.
        """
        with self._lock:
            return copy.deepcopy(self._s.relationships)

    @property
    def devices(self) -> dict[tuple[str, str], Device]:
        """Devices: ``(person, token)`` to :class:`Device`."""
        with self._lock:
            return dict(self._s.devices)

    @property
    def merges(self) -> list[Merge]:
        """Profiles merged by ``alias`` calls, in arrival order."""
        with self._lock:
            return list(self._s.merges)

    @property
    def deletions(self) -> list[Deletion]:
        """People, objects, relationships and devices deleted, in arrival order."""
        with self._lock:
            return list(self._s.deletions)

    @property
    def suppressions(self) -> list[Suppression]:
        """Suppressions and unsuppressions, in arrival order."""
        with self._lock:
            return list(self._s.suppressions)

    @property
    def suppressed(self) -> frozenset[str]:
        """The ``userId`` values suppressed now; Journeys ignores later calls for them."""
        with self._lock:
            return frozenset(self._s.suppressed)

    @property
    def delivery_metrics(self) -> list[DeliveryMetric]:
        """Metrics reported with ``Report Delivery Event``, in arrival order."""
        with self._lock:
            return list(self._s.metrics)

    @property
    def dropped(self) -> list[Dropped]:
        """Everything that did not land, with the stage and reason, in arrival order."""
        with self._lock:
            return list(self._s.dropped)

    # Feeding

    def ingest(self, calls: Iterable[dict[str, Any]], *, context: Any = None) -> None:
        """Apply calls the Data Pipelines API accepted, in order.

        Parameters
        ----------
        calls : iterable of dict
            Calls as sent (``type``, ``userId``, ``traits`` ...). They are not
            changed.
        context : dict or None
            A ``/batch`` request's own ``context``, which applies to all its
            calls; a call's ``context`` wins where both set a member.
        """
        with self._lock:
            for call in calls:
                self._s.apply(call, context)

    def refused(self, call: Any, reason: str) -> None:
        """Record a call the Data Pipelines API refused; it never reaches Journeys.

        Parameters
        ----------
        call : Any
            The refused call.
        reason : str
            Why, in the fake's words.
        """
        with self._lock:
            self._s.refused(call, reason)

    def _profiles_of(self, *, anonymous: bool) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                p.key: copy.deepcopy(p.attributes)
                for p in self._s.unique_profiles()
                if (p.kind == "anonymous_id") == anonymous
            }
