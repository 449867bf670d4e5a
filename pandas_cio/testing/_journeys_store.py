"""The state of the Journeys model and the destination's actions that change it.

:class:`Store` is not thread-safe: :class:`~pandas_cio.testing.Journeys` holds
its lock around every use. Each action is one method, named after the
destination's action in snake case (``trackPageView`` -> ``_track_page_view``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from pandas_cio.testing import _journeys_actions as act
from pandas_cio.testing import _journeys_fields as fields
from pandas_cio.testing._journeys_profiles import ProfileIndex
from pandas_cio.testing._journeys_types import (
    Deletion,
    DeliveryMetric,
    Device,
    Dropped,
    Event,
    Merge,
    Suppression,
)

__all__ = ["Store"]

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


class Store(ProfileIndex):
    """Profiles, objects, events and the rest, as the actions leave them."""

    def __init__(self) -> None:
        super().__init__()
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.relationships: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.devices: dict[tuple[str, str], Device] = {}
        self.event_ids: set[str] = set()
        self.page_views: list[Event] = []
        self.screen_views: list[Event] = []
        self.merges: list[Merge] = []
        self.deletions: list[Deletion] = []
        self.suppressions: list[Suppression] = []
        self.suppressed: set[str] = set()
        self.metrics: list[DeliveryMetric] = []
        self.dropped: list[Dropped] = []
        # messageIds of calls at least one action applied.
        self.landed: set[str] = set()

    def apply(self, call: dict[str, Any], context: Any = None) -> None:
        """Apply one accepted call; ``context`` is its ``/batch`` request's own context."""
        if isinstance(context, dict) and context:
            own = call.get("context")
            merged = fields.deep_merge(context, own if isinstance(own, dict) else {})
            call = {**call, "context": merged}
        landed = False
        for action in act.actions_for(call):
            before = len(self.dropped)
            getattr(self, _method(action))(call, action)
            landed = landed or all(d.partial for d in self.dropped[before:])
        message_id = fields.message_id(call)
        if landed and message_id is not None:
            self.landed.add(message_id)

    def refused(self, call: Any, reason: str) -> None:
        """Record a call the Data Pipelines API refused."""
        self.dropped.append(fields.dropped(call, "pipelines_api", reason, by="pipelines_api"))

    def _drop(self, call: dict[str, Any], action: str, reason: str) -> None:
        self.dropped.append(fields.dropped(call, action, reason))

    def _is_suppressed(self, call: dict[str, Any], action: str) -> bool:
        if call.get("userId") in self.suppressed:
            self._drop(call, action, "the person is suppressed; Journeys ignores calls for them")
            return True
        return False

    # Actions, one method each, named after the destination's (snake case)

    def _create_update_person(self, call: dict[str, Any], action: str) -> None:
        traits = call.get("traits") if isinstance(call.get("traits"), dict) else {}
        assert isinstance(traits, dict)
        empty = fields.empty_id(call, "userId", "anonymousId")
        if empty:
            self._drop(call, action, f"{empty} is empty; Journeys refuses empty ids")
            return
        email = fields.text(traits.get("email"))
        anonymous_id = fields.text(call.get("anonymousId"))
        identifier = act.resolve_person(
            fields.first(call.get("userId"), traits.get("email")),
            email=email,
            anonymous_id=anonymous_id,
        )
        if identifier is None:
            self._drop(call, action, "identify needs a userId, traits.email or anonymousId")
            return
        if self._is_suppressed(call, action):
            return
        attributes = {k: v for k, v in traits.items() if k not in _PERSON_MAPPED}
        created_at = fields.first(traits.get("created_at"), traits.get("createdAt"))
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
            anonymous = self.profiles.get(("anonymous_id", anonymous_id))
            if anonymous is not None and anonymous is not profile:
                self._absorb(profile, anonymous)
            self._bind(("anonymous_id", anonymous_id), profile)
        profile.attributes.update(attributes)
        self._index_email(profile)
        object_id = traits.get("objectId")
        if act.present(object_id):
            type_id = str(
                fields.first(traits.get("object_type_id"), traits.get("objectTypeId"), "1")
            )
            relation = traits.get("relationshipAttributes")
            key = (type_id, str(object_id), profile.key)
            self.relationships.setdefault(key, {}).update(
                relation if isinstance(relation, dict) else {}
            )

    def _event(self, call: dict[str, Any], action: str, kind: str, name: Any, data: Any) -> None:
        """Land one event, page or screen view on its profile (Track Event and the view actions)."""
        empty = fields.empty_id(call, "userId", "anonymousId")
        if empty:
            self._drop(call, action, f"{empty} is empty; Journeys refuses empty ids")
            return
        anonymous_id = fields.text(call.get("anonymousId"))
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
        problem = act.event_problem(str(name) if kind == "event" else None, attributes)
        if problem:
            self._drop(call, action, problem)
            return
        event_id = call.get("messageId") if isinstance(call.get("messageId"), str) else None
        if event_id is not None:
            if event_id in self.event_ids:
                self._drop(
                    call, action, "an event with this id already landed; Customer.io keeps one"
                )
                return
            self.event_ids.add(event_id)
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
            self.page_views.append(event)
        else:
            self.screen_views.append(event)

    def _track_event(self, call: dict[str, Any], action: str) -> None:
        name = call.get("event")
        if not fields.text(name):
            self._drop(call, action, "track needs an event name")
            return
        self._event(call, action, "event", name, call.get("properties"))

    def _track_page_view(self, call: dict[str, Any], action: str) -> None:
        url = fields.path(call, "properties", "url")
        if not fields.text(url):
            self._drop(
                call, action, "page needs properties.url (the destination uses it as the page name)"
            )
            return
        self._event(call, action, "page", url, call.get("properties"))

    def _track_screen_view(self, call: dict[str, Any], action: str) -> None:
        name = call.get("name")
        if not fields.text(name):
            self._drop(call, action, "screen needs a name")
            return
        self._event(call, action, "screen", name, call.get("properties"))

    def _create_update_object(self, call: dict[str, Any], action: str) -> None:
        traits = call.get("traits") if isinstance(call.get("traits"), dict) else {}
        assert isinstance(traits, dict)
        empty = fields.empty_id(call, "groupId", "userId", "anonymousId")
        if empty:
            self._drop(call, action, f"{empty} is empty; Journeys refuses empty ids")
            return
        object_id = call.get("groupId")
        if not act.present(object_id):
            self._drop(call, action, "group needs a groupId (the object id)")
            return
        type_id = str(fields.first(traits.get("object_type_id"), traits.get("objectTypeId"), "1"))
        given = traits.get("objectAttributes")
        attributes = {k: v for k, v in (given if isinstance(given, dict) else {}).items()}
        attributes.pop("object_type_id", None)
        created_at = fields.first(traits.get("created_at"), traits.get("createdAt"))
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
            reason = f"traits outside objectAttributes are not object attributes: {names}"
            self.dropped.append(replace(fields.dropped(call, action, reason), partial=True))
        self.objects.setdefault((type_id, str(object_id)), {}).update(attributes)
        member = fields.text(call.get("userId")) or fields.text(call.get("anonymousId"))
        if member is not None:
            key = (type_id, str(object_id), member)
            self.relationships.setdefault(key, {}).update(relation or {})

    def _merge_people(self, call: dict[str, Any], action: str) -> None:
        primary, secondary = fields.text(call.get("userId")), fields.text(call.get("previousId"))
        if primary is None or secondary is None:
            self._drop(call, action, "alias needs a non-empty userId and previousId")
            return
        primary_id = act.resolve_person(primary)
        secondary_id = act.resolve_person(secondary)
        assert primary_id is not None and secondary_id is not None
        into = self._profile(primary_id)
        other = self.profiles.get(secondary_id)
        if other is not None and other is not into:
            self._absorb(into, other)
            # The secondary's own id no longer finds anyone; its email and
            # anonymous ids now find the primary.
            del self.profiles[secondary_id]
            into.keys.discard(secondary_id)
        self.merges.append(Merge(primary, secondary, fields.message_id(call)))

    def _person_action(self, call: dict[str, Any], action: str) -> str | None:
        person = fields.text(call.get("userId"))
        if person is None:
            self._drop(call, action, f"{action} needs a userId")
        return person

    def _delete_person(self, call: dict[str, Any], action: str) -> None:
        person = self._person_action(call, action)
        if person is not None:
            self._remove_person(person)
            self.deletions.append(Deletion("person", (person,), fields.message_id(call)))

    def _remove_person(self, person: str) -> None:
        profile = self.lookup(person)
        if profile is not None:
            self._forget(profile)
        for key in [k for k in self.devices if k[0] == person]:
            del self.devices[key]
        for rel in [k for k in self.relationships if k[2] == person]:
            del self.relationships[rel]

    def _suppress_person(self, call: dict[str, Any], action: str) -> None:
        person = self._person_action(call, action)
        if person is not None:
            # Suppression deletes the person and keeps the id from being re-added.
            self._remove_person(person)
            self.suppressed.add(person)
            self.suppressions.append(Suppression(person, True, fields.message_id(call)))

    def _unsuppress_person(self, call: dict[str, Any], action: str) -> None:
        person = self._person_action(call, action)
        if person is not None:
            self.suppressed.discard(person)
            self.suppressions.append(Suppression(person, False, fields.message_id(call)))

    def _device_fields(
        self, call: dict[str, Any], action: str, *, platform: bool
    ) -> tuple[str, str, str] | None:
        person = fields.text(call.get("userId"))
        token = fields.text(fields.path(call, "context", "device", "token"))
        kind = fields.text(fields.path(call, "context", "device", "type"))
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
        old = self.devices.get((person, token))
        merged = {**(old.attributes if old else {}), **attributes}
        self.devices[(person, token)] = Device(
            person,
            token,
            platform,
            act.convert_timestamp(call.get("timestamp")),
            merged,
            fields.message_id(call),
        )

    def _delete_device(self, call: dict[str, Any], action: str) -> None:
        found = self._device_fields(call, action, platform=False)
        if found is None:
            return
        person, token, _ = found
        self.devices.pop((person, token), None)
        self.deletions.append(Deletion("device", (person, token), fields.message_id(call)))

    def _object_key(self, call: dict[str, Any], action: str) -> tuple[str, str] | None:
        object_id = fields.path(call, "properties", "objectId")
        if not act.present(object_id) or object_id == "":
            self._drop(call, action, f"{action} needs properties.objectId")
            return None
        type_id = fields.first(
            fields.path(call, "properties", "object_type_id"),
            fields.path(call, "properties", "objectTypeId"),
            "1",
        )
        return str(type_id), str(object_id)

    def _delete_object(self, call: dict[str, Any], action: str) -> None:
        key = self._object_key(call, action)
        if key is None:
            return
        self.objects.pop(key, None)
        for rel in [k for k in self.relationships if k[:2] == key]:
            del self.relationships[rel]
        self.deletions.append(Deletion("object", key, fields.message_id(call)))

    def _delete_relationship(self, call: dict[str, Any], action: str) -> None:
        member = fields.text(call.get("userId")) or fields.text(call.get("anonymousId"))
        if member is None:
            self._drop(call, action, f"{action} needs a userId or anonymousId")
            return
        key = self._object_key(call, action)
        if key is None:
            return
        self.relationships.pop((*key, member), None)
        self.deletions.append(Deletion("relationship", (*key, member), fields.message_id(call)))

    def _report_delivery_event(self, call: dict[str, Any], action: str) -> None:
        props = call.get("properties") if isinstance(call.get("properties"), dict) else {}
        assert isinstance(props, dict)
        delivery_id, metric = fields.text(props.get("deliveryId")), fields.text(props.get("metric"))
        if delivery_id is None or metric is None:
            self._drop(call, action, f"{action} needs properties.deliveryId and properties.metric")
            return
        if metric not in act.DELIVERY_METRICS:
            choices = ", ".join(sorted(act.DELIVERY_METRICS))
            self._drop(call, action, f"properties.metric must be one of {choices}")
            return
        self.metrics.append(
            DeliveryMetric(
                delivery_id=delivery_id,
                metric=metric,
                timestamp=act.convert_timestamp(call.get("timestamp")),
                recipient=fields.text(props.get("recipient")),
                reason=fields.text(props.get("reason")),
                href=fields.text(props.get("href")),
                action_name=fields.text(props.get("actionName")),
                action_value=fields.text(props.get("actionValue")),
                message_id=fields.message_id(call),
            )
        )

    def _report_content_event(self, call: dict[str, Any], action: str) -> None:
        # Content events feed Customer.io's message reporting, outside this model.
        self._drop(call, action, "Report Content Event is not modelled by the fake")


def _method(action: str) -> str:
    """The model's method for a destination action: ``trackPageView`` -> ``_track_page_view``."""
    return "_" + re.sub(r"([A-Z])", r"_\1", action).lower()
