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
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pandas_cio.testing import _journeys_actions as act
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

# Traits createUpdatePerson maps to fields of its own and removes from the attributes.
_PERSON_MAPPED = (
    "createdAt",
    "created_at",
    "object_type_id",
    "relationshipAttributes",
    "objectTypeId",
)
# Traits createUpdateObject reads; everything else in a group call's traits is ignored.
_OBJECT_READ = frozenset(
    {"objectAttributes", "relationshipAttributes", "object_type_id", "objectTypeId"}
    | {"created_at", "createdAt"}
)


@dataclass
class _Profile:
    """A person or anonymous profile, mutable inside the model only."""

    key: str
    kind: str
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    @property
    def person(self) -> str | None:
        return None if self.kind == "anonymous_id" else self.key


def _path(call: dict[str, Any], *keys: str) -> Any:
    """The value at a dotted path of the call, None when any step is missing or not an object."""
    value: Any = call
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _first(*values: Any) -> Any:
    """The first present value (mapping-kit ``@if exists ... else``)."""
    for value in values:
        if act.present(value):
            return value
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _empty_id(call: dict[str, Any], *keys: str) -> str | None:
    """Name the first id field that is present but empty: Journeys refuses empty ids."""
    for key in keys:
        value = call.get(key)
        if isinstance(value, str) and not value.strip():
            return key
    return None


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
        self._clear()

    def _clear(self) -> None:
        self._profiles: dict[tuple[str, str], _Profile] = {}
        self._objects: dict[tuple[str, str], dict[str, Any]] = {}
        self._relationships: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._devices: dict[tuple[str, str], Device] = {}
        self._event_ids: set[str] = set()
        self._page_views: list[Event] = []
        self._screen_views: list[Event] = []
        self._merges: list[Merge] = []
        self._deletions: list[Deletion] = []
        self._suppressions: list[Suppression] = []
        self._suppressed: set[str] = set()
        self._metrics: list[DeliveryMetric] = []
        self._dropped: list[Dropped] = []

    def __repr__(self) -> str:
        with self._lock:
            people = sum(1 for p in set(map(id, self._profiles.values())))
            return f"<Journeys {people} profiles, {len(self._dropped)} dropped>"

    # Reading

    def reset(self) -> None:
        """Forget everything; :meth:`FakeCio.reset` calls this too."""
        with self._lock:
            self._clear()

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
            profile = self._lookup(person_id)
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
                profiles = self._unique_profiles()
            else:
                found = self._lookup(person_id)
                profiles = [] if found is None else [found]
            return [e for p in profiles for e in p.events]

    @property
    def event_ids(self) -> frozenset[str]:
        """Ids of the events, page and screen views Journeys holds: one each (it de-duplicates)."""
        with self._lock:
            return frozenset(self._event_ids)

    @property
    def page_views(self) -> list[Event]:
        """Page views that landed (``kind="page"``, named by URL), in arrival order."""
        with self._lock:
            return list(self._page_views)

    @property
    def screen_views(self) -> list[Event]:
        """Screen views that landed (``kind="screen"``), in arrival order."""
        with self._lock:
            return list(self._screen_views)

    @property
    def objects(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Objects: ``(object_type_id, object_id)`` to attributes."""
        with self._lock:
            return copy.deepcopy(self._objects)

    @property
    def relationships(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """Relationships: ``(object_type_id, object_id, person)`` to relationship attributes.

        ``person`` is the ``userId`` as sent, or the ``anonymousId`` for an
        anonymous relationship.
        """
        with self._lock:
            return copy.deepcopy(self._relationships)

    @property
    def devices(self) -> dict[tuple[str, str], Device]:
        """Devices: ``(person, token)`` to :class:`Device`."""
        with self._lock:
            return dict(self._devices)

    @property
    def merges(self) -> list[Merge]:
        """Profiles merged by ``alias`` calls, in arrival order."""
        with self._lock:
            return list(self._merges)

    @property
    def deletions(self) -> list[Deletion]:
        """People, objects, relationships and devices deleted, in arrival order."""
        with self._lock:
            return list(self._deletions)

    @property
    def suppressions(self) -> list[Suppression]:
        """Suppressions and unsuppressions, in arrival order."""
        with self._lock:
            return list(self._suppressions)

    @property
    def suppressed(self) -> frozenset[str]:
        """The ``userId`` values suppressed now; Journeys ignores later calls for them."""
        with self._lock:
            return frozenset(self._suppressed)

    @property
    def delivery_metrics(self) -> list[DeliveryMetric]:
        """Metrics reported with ``Report Delivery Event``, in arrival order."""
        with self._lock:
            return list(self._metrics)

    @property
    def dropped(self) -> list[Dropped]:
        """Everything that did not land, with the stage and reason, in arrival order."""
        with self._lock:
            return list(self._dropped)

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
                if isinstance(context, dict) and context:
                    own = call.get("context")
                    call = {
                        **call,
                        "context": _deep_merge(context, own if isinstance(own, dict) else {}),
                    }
                for action in act.actions_for(call):
                    getattr(self, _method(action))(call, action)

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
            self._dropped.append(_dropped(call, "pipelines_api", reason, by="pipelines_api"))

    # Profiles

    def _unique_profiles(self) -> list[_Profile]:
        seen: dict[int, _Profile] = {}
        for profile in self._profiles.values():
            seen.setdefault(id(profile), profile)
        return list(seen.values())

    def _profiles_of(self, *, anonymous: bool) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                p.key: copy.deepcopy(p.attributes)
                for p in self._unique_profiles()
                if (p.kind == "anonymous_id") == anonymous
            }

    def _lookup(self, person_id: str) -> _Profile | None:
        candidates = [("id", person_id), ("email", person_id), ("anonymous_id", person_id)]
        if person_id.startswith("cio_"):
            candidates.insert(0, ("cio_id", person_id[4:]))
        for key in candidates:
            if key in self._profiles:
                return self._profiles[key]
        return None

    def _profile(self, identifier: tuple[str, str]) -> _Profile:
        profile = self._profiles.get(identifier)
        if profile is None:
            kind, value = identifier
            key = "cio_" + value if kind == "cio_id" else value
            profile = self._profiles[identifier] = _Profile(key, kind)
        return profile

    def _index_email(self, profile: _Profile) -> None:
        email = profile.attributes.get("email")
        if isinstance(email, str) and email:
            self._profiles.setdefault(("email", email), profile)

    def _absorb(self, into: _Profile, other: _Profile) -> None:
        """Move ``other``'s attributes (where ``into`` has none) and events into ``into``."""
        for name, value in other.attributes.items():
            into.attributes.setdefault(name, value)
        moved = [replace(e, person=into.person) for e in other.events]
        into.events.extend(moved)
        for key in [k for k, p in self._profiles.items() if p is other]:
            self._profiles[key] = into

    def _forget(self, profile: _Profile) -> None:
        for key in [k for k, p in self._profiles.items() if p is profile]:
            del self._profiles[key]

    def _drop(self, call: dict[str, Any], action: str, reason: str) -> None:
        self._dropped.append(_dropped(call, action, reason))

    def _is_suppressed(self, call: dict[str, Any], action: str) -> bool:
        if call.get("userId") in self._suppressed:
            self._drop(call, action, "the person is suppressed; Journeys ignores calls for them")
            return True
        return False

    # Actions, one method each, named after the destination's (snake case)

    def _create_update_person(self, call: dict[str, Any], action: str) -> None:
        traits = call.get("traits") if isinstance(call.get("traits"), dict) else {}
        assert isinstance(traits, dict)
        empty = _empty_id(call, "userId", "anonymousId")
        if empty:
            self._drop(call, action, f"{empty} is empty; Journeys refuses empty ids")
            return
        email = _text(traits.get("email"))
        anonymous_id = _text(call.get("anonymousId"))
        identifier = act.resolve_person(
            _first(call.get("userId"), traits.get("email")), email=email, anonymous_id=anonymous_id
        )
        if identifier is None:
            self._drop(call, action, "identify needs a userId, traits.email or anonymousId")
            return
        if self._is_suppressed(call, action):
            return
        attributes = {k: v for k, v in traits.items() if k not in _PERSON_MAPPED}
        created_at = _first(traits.get("created_at"), traits.get("createdAt"))
        if created_at is not None:
            attributes["created_at"] = created_at
        if email:
            attributes["email"] = email
        if anonymous_id and identifier[0] != "anonymous_id":
            attributes["anonymous_id"] = anonymous_id
        attributes = act.convert_attributes(attributes)
        problem = act.attribute_problem(attributes, max_count=act.MAX_ATTRIBUTES)
        if problem:
            self._drop(call, action, problem)
            return
        profile = self._profile(identifier)
        if anonymous_id and identifier[0] != "anonymous_id":
            anonymous = self._profiles.get(("anonymous_id", anonymous_id))
            if anonymous is not None and anonymous is not profile:
                self._absorb(profile, anonymous)
            self._profiles[("anonymous_id", anonymous_id)] = profile
        profile.attributes.update(attributes)
        self._index_email(profile)
        object_id = traits.get("objectId")
        if act.present(object_id):
            type_id = str(_first(traits.get("object_type_id"), traits.get("objectTypeId"), "1"))
            relation = traits.get("relationshipAttributes")
            key = (type_id, str(object_id), profile.key)
            self._relationships.setdefault(key, {}).update(
                relation if isinstance(relation, dict) else {}
            )

    def _event(self, call: dict[str, Any], action: str, kind: str, name: Any, data: Any) -> None:
        """Land one event, page or screen view on its profile (Track Event and the view actions)."""
        empty = _empty_id(call, "userId", "anonymousId")
        if empty:
            self._drop(call, action, f"{empty} is empty; Journeys refuses empty ids")
            return
        anonymous_id = _text(call.get("anonymousId"))
        identifier = act.resolve_person(call.get("userId"), anonymous_id=anonymous_id)
        if identifier is None:
            self._drop(call, action, f"{action} needs a userId or anonymousId")
            return
        if self._is_suppressed(call, action):
            return
        attributes = dict(data) if isinstance(data, dict) else {}
        if anonymous_id and identifier[0] != "anonymous_id":
            # buildPayload adds anonymous_id to the body's attributes: the event data.
            attributes["anonymous_id"] = anonymous_id
        attributes = act.convert_attributes(attributes)
        problem = act.event_problem(str(name), attributes)
        if problem:
            self._drop(call, action, problem)
            return
        event_id = call.get("messageId") if isinstance(call.get("messageId"), str) else None
        if event_id is not None:
            if event_id in self._event_ids:
                self._drop(
                    call, action, "an event with this id already landed; Customer.io keeps one"
                )
                return
            self._event_ids.add(event_id)
        profile = self._profile(identifier)
        event = Event(
            kind=kind,  # type: ignore[arg-type]
            name=str(name),
            person=profile.person,
            anonymous_id=anonymous_id,
            id=event_id,
            timestamp=act.convert_timestamp(call.get("timestamp")),
            data=attributes,
            message_id=event_id,
        )
        if kind == "event":
            profile.events.append(event)
        elif kind == "page":
            self._page_views.append(event)
        else:
            self._screen_views.append(event)

    def _track_event(self, call: dict[str, Any], action: str) -> None:
        name = call.get("event")
        if not _text(name):
            self._drop(call, action, "track needs an event name")
            return
        self._event(call, action, "event", name, call.get("properties"))

    def _track_page_view(self, call: dict[str, Any], action: str) -> None:
        url = _path(call, "properties", "url")
        if not _text(url):
            self._drop(
                call, action, "page needs properties.url (the destination uses it as the page name)"
            )
            return
        self._event(call, action, "page", url, call.get("properties"))

    def _track_screen_view(self, call: dict[str, Any], action: str) -> None:
        name = call.get("name")
        if not _text(name):
            self._drop(call, action, "screen needs a name")
            return
        self._event(call, action, "screen", name, call.get("properties"))

    def _create_update_object(self, call: dict[str, Any], action: str) -> None:
        traits = call.get("traits") if isinstance(call.get("traits"), dict) else {}
        assert isinstance(traits, dict)
        empty = _empty_id(call, "groupId", "userId", "anonymousId")
        if empty:
            self._drop(call, action, f"{empty} is empty; Journeys refuses empty ids")
            return
        object_id = call.get("groupId")
        if not act.present(object_id):
            self._drop(call, action, "group needs a groupId (the object id)")
            return
        type_id = str(_first(traits.get("object_type_id"), traits.get("objectTypeId"), "1"))
        given = traits.get("objectAttributes")
        attributes = {k: v for k, v in (given if isinstance(given, dict) else {}).items()}
        attributes.pop("object_type_id", None)
        created_at = _first(traits.get("created_at"), traits.get("createdAt"))
        if created_at is not None:
            attributes["created_at"] = created_at
        attributes = act.convert_attributes(attributes)
        relation = traits.get("relationshipAttributes")
        relation = act.convert_attributes(relation) if isinstance(relation, dict) else None
        problem = act.attribute_problem(attributes) or act.attribute_problem(relation or {})
        if problem:
            self._drop(call, action, problem)
            return
        ignored = sorted(k for k in traits if k not in _OBJECT_READ)
        if ignored:
            # The object still lands; these traits do not (the destination reads
            # object attributes only from traits.objectAttributes).
            names = ", ".join(ignored)
            self._drop(
                call, action, f"traits outside objectAttributes are not object attributes: {names}"
            )
        self._objects.setdefault((type_id, str(object_id)), {}).update(attributes)
        member = _text(call.get("userId")) or _text(call.get("anonymousId"))
        if member is not None:
            key = (type_id, str(object_id), member)
            self._relationships.setdefault(key, {}).update(relation or {})

    def _merge_people(self, call: dict[str, Any], action: str) -> None:
        primary, secondary = _text(call.get("userId")), _text(call.get("previousId"))
        if primary is None or secondary is None:
            self._drop(call, action, "alias needs a non-empty userId and previousId")
            return
        primary_id = act.resolve_person(primary)
        secondary_id = act.resolve_person(secondary)
        assert primary_id is not None and secondary_id is not None
        into = self._profile(primary_id)
        other = self._profiles.get(secondary_id)
        if other is not None and other is not into:
            self._absorb(into, other)
            self._profiles.pop(secondary_id, None)
        self._merges.append(Merge(primary, secondary, _message_id(call)))

    def _person_action(self, call: dict[str, Any], action: str) -> str | None:
        person = _text(call.get("userId"))
        if person is None:
            self._drop(call, action, f"{action} needs a userId")
        return person

    def _delete_person(self, call: dict[str, Any], action: str) -> None:
        person = self._person_action(call, action)
        if person is not None:
            self._remove_person(person)
            self._deletions.append(Deletion("person", (person,), _message_id(call)))

    def _remove_person(self, person: str) -> None:
        profile = self._lookup(person)
        if profile is not None:
            self._forget(profile)
        for key in [k for k in self._devices if k[0] == person]:
            del self._devices[key]
        for rel in [k for k in self._relationships if k[2] == person]:
            del self._relationships[rel]

    def _suppress_person(self, call: dict[str, Any], action: str) -> None:
        person = self._person_action(call, action)
        if person is not None:
            # Suppression deletes the person and keeps the id from being re-added.
            self._remove_person(person)
            self._suppressed.add(person)
            self._suppressions.append(Suppression(person, True, _message_id(call)))

    def _unsuppress_person(self, call: dict[str, Any], action: str) -> None:
        person = self._person_action(call, action)
        if person is not None:
            self._suppressed.discard(person)
            self._suppressions.append(Suppression(person, False, _message_id(call)))

    def _device_fields(
        self, call: dict[str, Any], action: str, *, platform: bool
    ) -> tuple[str, str, str] | None:
        person = _text(call.get("userId"))
        token = _text(_path(call, "context", "device", "token"))
        kind = _text(_path(call, "context", "device", "type"))
        missing = [
            name
            for name, value, needed in (
                ("userId", person, True),
                ("context.device.token", token, True),
                ("context.device.type", kind, platform),
            )
            if needed and value is None
        ]
        if missing:
            self._drop(call, action, f"{action} needs {' and '.join(missing)}")
            return None
        assert person is not None and token is not None
        return person, token, kind or ""

    def _create_update_device(self, call: dict[str, Any], action: str) -> None:
        found = self._device_fields(call, action, platform=True)
        if found is None or self._is_suppressed(call, action):
            return
        person, token, platform = found
        properties = call.get("properties")
        # Only Customer.io's own device event carries device attributes.
        attributes = (
            act.convert_attributes(properties)
            if call.get("event") == "Device Created or Updated" and isinstance(properties, dict)
            else {}
        )
        old = self._devices.get((person, token))
        merged = {**(old.attributes if old else {}), **attributes}
        self._devices[(person, token)] = Device(
            person,
            token,
            platform,
            act.convert_timestamp(call.get("timestamp")),
            merged,
            _message_id(call),
        )

    def _delete_device(self, call: dict[str, Any], action: str) -> None:
        found = self._device_fields(call, action, platform=False)
        if found is None:
            return
        person, token, _ = found
        self._devices.pop((person, token), None)
        self._deletions.append(Deletion("device", (person, token), _message_id(call)))

    def _object_key(self, call: dict[str, Any], action: str) -> tuple[str, str] | None:
        object_id = _path(call, "properties", "objectId")
        if not act.present(object_id) or object_id == "":
            self._drop(call, action, f"{action} needs properties.objectId")
            return None
        type_id = _first(
            _path(call, "properties", "object_type_id"),
            _path(call, "properties", "objectTypeId"),
            "1",
        )
        return str(type_id), str(object_id)

    def _delete_object(self, call: dict[str, Any], action: str) -> None:
        key = self._object_key(call, action)
        if key is None:
            return
        self._objects.pop(key, None)
        for rel in [k for k in self._relationships if k[:2] == key]:
            del self._relationships[rel]
        self._deletions.append(Deletion("object", key, _message_id(call)))

    def _delete_relationship(self, call: dict[str, Any], action: str) -> None:
        member = _text(call.get("userId")) or _text(call.get("anonymousId"))
        if member is None:
            self._drop(call, action, f"{action} needs a userId or anonymousId")
            return
        key = self._object_key(call, action)
        if key is None:
            return
        self._relationships.pop((*key, member), None)
        self._deletions.append(Deletion("relationship", (*key, member), _message_id(call)))

    def _report_delivery_event(self, call: dict[str, Any], action: str) -> None:
        props = call.get("properties") if isinstance(call.get("properties"), dict) else {}
        assert isinstance(props, dict)
        delivery_id, metric = _text(props.get("deliveryId")), _text(props.get("metric"))
        if delivery_id is None or metric is None:
            self._drop(call, action, f"{action} needs properties.deliveryId and properties.metric")
            return
        if metric not in act.DELIVERY_METRICS:
            choices = ", ".join(sorted(act.DELIVERY_METRICS))
            self._drop(call, action, f"properties.metric must be one of {choices}")
            return
        self._metrics.append(
            DeliveryMetric(
                delivery_id=delivery_id,
                metric=metric,
                timestamp=act.convert_timestamp(call.get("timestamp")),
                recipient=_text(props.get("recipient")),
                reason=_text(props.get("reason")),
                href=_text(props.get("href")),
                action_name=_text(props.get("actionName")),
                action_value=_text(props.get("actionValue")),
                message_id=_message_id(call),
            )
        )

    def _report_content_event(self, call: dict[str, Any], action: str) -> None:
        # Content events feed Customer.io's message reporting, outside this model.
        self._drop(call, action, "Report Content Event is not modelled by the fake")


def _method(action: str) -> str:
    """The model's method for a destination action: ``trackPageView`` -> ``_track_page_view``."""
    return "_" + re.sub(r"([A-Z])", r"_\1", action).lower()


def _message_id(call: dict[str, Any]) -> str | None:
    value = call.get("messageId")
    return value if isinstance(value, str) else None


def _dropped(call: Any, action: str, reason: str, *, by: str = "journeys") -> Dropped:
    if not isinstance(call, dict):
        return Dropped(None, "", None, action, reason, by)  # type: ignore[arg-type]
    event = call.get("event")
    return Dropped(
        message_id=_message_id(call),
        call_type=str(call.get("type") or ""),
        event=event if isinstance(event, str) else None,
        action=action,
        reason=reason,
        by=by,  # type: ignore[arg-type]
    )


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
