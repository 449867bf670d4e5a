"""Tests for pandas_cio.catalogue.events, the semantic event catalogue.

Tests marked with the ``reference`` fixture compare the catalogue with
Customer.io's public OpenAPI description, read from ``../shared/reference``
beside the repository or from ``PANDAS_CIO_REFERENCE``; they skip when it is
absent (see ``reference_dir`` in conftest.py). The rest always run.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from reference import CATEGORY_OF_LABEL, EVENT_NAME_ALIASES, REFERENCE_URI, date_time_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from pandas_cio.catalogue.events import (
    CATEGORY_KEYS,
    DELIVERY_METRICS,
    EVENTS,
    JOURNEYS_ROUTED,
    EventSpec,
    PropertySpec,
    events_in,
    lookup,
)
from pandas_cio.errors import UnknownEventError

# The schema of these events leaves objectId optional while its prose says the
# event does nothing without one; the catalogue requires it on purpose.
EXTRA_REQUIRED = {
    "Object Deleted": {"objectId"},
    "Group Deleted": {"objectId"},
    # The Journeys destination's reportDeliveryEvent action requires both.
    "Report Delivery Event": {"deliveryId", "metric"},
}

# Where the catalogue follows the Journeys destination rather than the
# reference: members the destination reads that the reference leaves out, and
# enums the destination takes more values of.
JOURNEYS_PROPERTIES = {"Report Delivery Event": {"actionName"}}
JOURNEYS_ENUMS = {("Report Delivery Event", "metric"): DELIVERY_METRICS}

EXAMPLE_OF_TYPE: Mapping[str, Any] = {
    "string": "x",
    # Not a whole number, so an integer-only schema rejects it.
    "number": 1.5,
    "integer": 3,
    "boolean": True,
    "object": {"key": "value"},
}

ALL_NAMES = sorted(EVENTS)


# Fixtures and helpers for the reference ---------------------------------


@pytest.fixture(scope="module")
def reference(reference_dir: Path) -> dict[str, Any]:
    """Load the public OpenAPI description (conftest's reference_dir skips without it)."""
    path = reference_dir / "cio_pipelines_api.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def semantic_events(reference_dir: Path) -> dict[str, dict[str, str]]:
    """Load the reference's map of event names to category and schema."""
    path = reference_dir / "semantic_events.json"
    loaded: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def schemas(reference: dict[str, Any]) -> dict[str, Any]:
    """Return the reference's component schemas."""
    found: dict[str, Any] = reference["components"]["schemas"]
    return found


@pytest.fixture(scope="module")
def validator_for(reference: dict[str, Any]) -> Any:
    """Return a factory of validators for one reference schema, resolving $refs."""

    def registry_of(contents: dict[str, Any]) -> Registry[Any]:
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        return Registry().with_resource(REFERENCE_URI, resource)

    registries = {
        True: registry_of(_repair_identity_alternatives(reference)),
        False: registry_of(reference),
    }
    checker = date_time_checker()

    def make(schema_name: str, *, repaired: bool = True) -> jsonschema.Draft7Validator:
        ref = {"$ref": f"{REFERENCE_URI}#/components/schemas/{schema_name}"}
        return jsonschema.Draft7Validator(
            ref, registry=registries[repaired], format_checker=checker
        )

    return make


def _repair_identity_alternatives(reference: dict[str, Any]) -> dict[str, Any]:
    """Return a copy where each mobile ``oneOf`` alternative requires its own id.

    The reference offers an "identified" (userId) and an "anonymous"
    (anonymousId) alternative, but requires neither id, so every call matches
    both and ``oneOf`` rejects it. Requiring the id restores the intent.
    """
    repaired = copy.deepcopy(reference)
    for spec in EVENTS.values():
        schema = repaired["components"]["schemas"][spec.reference]
        for alternative in schema.get("oneOf", []):
            identity = "userId" if "userId" in alternative["properties"] else "anonymousId"
            alternative["required"] = [*alternative.get("required", []), identity]
    return repaired


def _deref(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _merge(schema: dict[str, Any], schemas: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Flatten ``allOf`` and ``oneOf`` into one property map and its required names."""
    schema = _deref(schema, schemas)
    properties = dict(schema.get("properties", {}))
    required = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        more, more_required = _merge(part, schemas)
        properties.update(more)
        required |= more_required
    alternatives = [_merge(alt, schemas) for alt in schema.get("oneOf", [])]
    for more, _ in alternatives:
        properties.update(more)
    if alternatives:
        # Only what every alternative requires is required.
        required |= set.intersection(*(more_required for _, more_required in alternatives))
    return properties, required


@dataclass
class ReferenceShape:
    """What the reference documents for one event, in the catalogue's terms."""

    call_shaped: bool
    properties: dict[str, Any]
    required: set[str]
    call_fields: dict[str, Any] = field(default_factory=dict)
    required_call_fields: set[str] = field(default_factory=set)


def _leaves(
    members: dict[str, Any], required: set[str], schemas: dict[str, Any], prefix: str, chain: bool
) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """Yield (dotted path, schema, required all the way down) for each leaf member."""
    for key, member in members.items():
        member = _deref(member, schemas)
        path, is_required = prefix + key, chain and key in required
        if member.get("type") == "object" and member.get("properties"):
            nested, nested_required = _merge(member, schemas)
            yield from _leaves(nested, nested_required, schemas, path + ".", is_required)
        else:
            yield path, member, is_required


def reference_shape(schema_name: str, schemas: dict[str, Any]) -> ReferenceShape:
    """Read one event schema the way the catalogue records it.

    Most schemas describe only the ``properties`` object. Customer.io, email
    and mobile schemas describe the whole call instead; their ``properties``
    member becomes the catalogue's properties and the other members its
    call fields.
    """
    schema = schemas[schema_name]
    members, required = _merge(schema, schemas)
    if not ("oneOf" in schema or "properties" in members or "event" in members):
        return ReferenceShape(False, members, required)
    inner, inner_required = _merge(members.get("properties", {}), schemas)
    shape = ReferenceShape(True, inner, inner_required)
    outside = {k: v for k, v in members.items() if k not in ("type", "event", "properties")}
    for path, member, is_required in _leaves(outside, required, schemas, "", True):
        # Every track call carries an identity; only note one the event insists on.
        if path in ("userId", "anonymousId") and not is_required:
            continue
        shape.call_fields[path] = member
        if is_required:
            shape.required_call_fields.add(path)
    if "properties" in required:
        shape.required_call_fields.add("properties")
    return shape


def assert_same_type(prop: PropertySpec, ref: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Assert a catalogue property says what the reference says about the member."""
    ref = _deref(ref, schemas)
    if "allOf" in ref and "type" not in ref:
        ref = {"type": "object", **ref}
    assert prop.type == ref["type"]
    assert prop.enum == (tuple(ref["enum"]) if "enum" in ref else None)
    assert prop.format == ref.get("format")
    assert prop.minimum == ref.get("minimum")
    assert prop.maximum == ref.get("maximum")
    if prop.type != "array":
        assert prop.items is None
        assert prop.item_type is None
        return
    item = _deref(ref["items"], schemas)
    assert prop.item_type == item["type"]
    if item["type"] == "object":
        item_members, _ = _merge(item, schemas)
        assert prop.items == {key: value["type"] for key, value in item_members.items()}
    else:
        assert prop.items is None


def example_value(prop: PropertySpec) -> Any:
    """Return one value the catalogue says is valid for ``prop``."""
    if prop.enum:
        return prop.enum[0]  # the first: Journeys' wider enums extend the reference's
    if prop.type == "array":
        if prop.items is not None:
            return [{key: EXAMPLE_OF_TYPE[kind] for key, kind in prop.items.items()}]
        assert prop.item_type is not None
        return [EXAMPLE_OF_TYPE[prop.item_type]]
    if prop.format == "date-time":
        return "2024-05-01T12:00:00+00:00"
    value = EXAMPLE_OF_TYPE[prop.type]
    if prop.minimum is not None:
        value = max(value, prop.minimum)
    if prop.maximum is not None:
        value = min(value, prop.maximum)
    return value


def example_call(spec: EventSpec) -> dict[str, Any]:
    """Build a minimal track call with one valid value for every catalogued member."""
    call: dict[str, Any] = {
        "type": "track",
        "event": spec.name,
        "properties": {key: example_value(prop) for key, prop in spec.properties.items()},
    }
    if "anonymousId" not in spec.call_fields:
        call["userId"] = "u1"
    for path, prop in spec.call_fields.items():
        *parents, leaf = path.split(".")
        target = call
        for parent in parents:
            target = target.setdefault(parent, {})
        target.setdefault(leaf, example_value(prop))
    return call


def instance_for(spec: EventSpec, call: dict[str, Any], shape: ReferenceShape) -> Any:
    """Return the part of ``call`` the event's reference schema describes."""
    if not shape.call_shaped:
        return call["properties"]
    instance = copy.deepcopy(call)
    instance["event"] = EVENT_NAME_ALIASES.get(spec.name, spec.name)
    return instance


# Names and categories -----------------------------------------------------


def test_catalogue_has_exactly_the_reference_names_and_categories(
    semantic_events: dict[str, dict[str, str]],
) -> None:
    """The catalogue holds the 71 reference names, each in the reference's category."""
    expected = {name: CATEGORY_OF_LABEL[info["category"]] for name, info in semantic_events.items()}
    assert {name: spec.category for name, spec in EVENTS.items()} == expected


def test_catalogue_points_at_the_mapped_schemas(
    semantic_events: dict[str, dict[str, str]],
) -> None:
    """Each event records the schema name the reference's event map gives it."""
    assert {name: spec.reference for name, spec in EVENTS.items()} == {
        name: info["schema"] for name, info in semantic_events.items()
    }


def test_names_follow_the_introduction_table(reference: dict[str, Any]) -> None:
    """The names per category are those of the table in the spec's introduction."""
    table: dict[str, set[str]] = {}
    for line in reference["info"]["description"].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] in CATEGORY_OF_LABEL:
            table[CATEGORY_OF_LABEL[cells[0]]] = set(re.findall(r"`([^`]+)`", cells[1]))
    assert table == {category: set(events_in(category)) for category in CATEGORY_KEYS}


@pytest.mark.parametrize("name", ["Product List Viewed", "Product Viewed"])
def test_misattributed_names_use_their_own_schema(name: str, schemas: dict[str, Any]) -> None:
    """Names the spec's prose points at another schema use the schema titled with them."""
    assert schemas[lookup("ecommerce", name).reference]["title"] == name


# Types against the reference ------------------------------------------------


@pytest.mark.parametrize("name", ALL_NAMES)
def test_property_types_match_reference(name: str, schemas: dict[str, Any]) -> None:
    """Every catalogued member has the reference's type, and none is missing."""
    spec = EVENTS[name]
    shape = reference_shape(spec.reference, schemas)
    extra = JOURNEYS_PROPERTIES.get(name, set())
    assert set(spec.properties) - extra == set(shape.properties)
    for key, prop in spec.properties.items():
        if key in extra:
            continue
        wider = JOURNEYS_ENUMS.get((name, key))
        if wider is not None:
            reference_enum = tuple(_deref(shape.properties[key], schemas)["enum"])
            assert prop.enum == wider and set(reference_enum) <= set(wider)
            prop = dataclasses.replace(prop, enum=reference_enum)
        assert_same_type(prop, shape.properties[key], schemas)
    assert set(spec.call_fields) == set(shape.call_fields)
    for path, prop in spec.call_fields.items():
        assert_same_type(prop, shape.call_fields[path], schemas)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_required_members_match_reference(name: str, schemas: dict[str, Any]) -> None:
    """Required members are the reference's, plus the documented deliberate extras."""
    spec = EVENTS[name]
    shape = reference_shape(spec.reference, schemas)
    assert set(spec.required) == shape.required | EXTRA_REQUIRED.get(name, set())
    assert set(spec.required_call_fields) == shape.required_call_fields


# Calls built from the catalogue validate against the reference ---------------


@pytest.mark.parametrize("name", ALL_NAMES)
def test_example_call_validates_against_reference(
    name: str, schemas: dict[str, Any], validator_for: Any
) -> None:
    """A track call with one example value per catalogued member passes the event schema."""
    spec = EVENTS[name]
    shape = reference_shape(spec.reference, schemas)
    instance = instance_for(spec, example_call(spec), shape)
    validator_for(spec.reference).validate(instance)


@pytest.mark.parametrize(
    ("name", "breakage"),
    [
        ("Order Completed", lambda call: call["properties"].update(revenue="lots")),
        ("Product Viewed", lambda call: call["properties"].update(quantity=1.5)),
        ("Video Playback Paused", lambda call: call["properties"].update(sound=101)),
        ("Video Content Started", lambda call: call["properties"].update(airdate="yesterday")),
        ("Device Created or Updated", lambda call: call["context"]["device"].pop("token")),
        ("Email Opened", lambda call: call["properties"].pop("email_id")),
        ("Relationship Deleted", lambda call: call.pop("properties")),
        ("Application Opened", lambda call: call["properties"].update(from_background="yes")),
    ],
)
def test_reference_validation_rejects_broken_calls(
    name: str, breakage: Any, schemas: dict[str, Any], validator_for: Any
) -> None:
    """The validation above is not vacuous: a call broken on purpose fails it."""
    spec = EVENTS[name]
    call = example_call(spec)
    breakage(call)
    instance = instance_for(spec, call, reference_shape(spec.reference, schemas))
    with pytest.raises(jsonschema.ValidationError):
        validator_for(spec.reference).validate(instance)


def test_reference_mobile_alternatives_overlap(validator_for: Any) -> None:
    """The unrepaired mobile schemas reject every call, which is why the tests repair them."""
    call = example_call(lookup("mobile", "Application Installed"))
    with pytest.raises(jsonschema.ValidationError, match="valid under each of"):
        validator_for("app_installed", repaired=False).validate(call)


# The catalogue on its own ------------------------------------------------------


def test_catalogue_has_71_events_keyed_by_name() -> None:
    """There are 71 events and each is filed under its own name."""
    assert len(EVENTS) == 71
    assert all(name == spec.name for name, spec in EVENTS.items())


def test_categories_partition_the_catalogue() -> None:
    """Every category is non-empty and together they hold each event once."""
    seen: list[str] = []
    for category in CATEGORY_KEYS:
        members = events_in(category)
        assert members
        assert all(spec.category == category for spec in members.values())
        seen.extend(members)
    assert sorted(seen) == ALL_NAMES


def test_special_events_put_data_outside_properties() -> None:
    """Device events carry the token in context.device; object deletes need an anonymousId."""
    device = lookup("customerio", "Device Created or Updated")
    assert device.required_call_fields == ("userId", "context.device.token")
    assert device.call_fields["context.device.type"].enum == ("ios", "android")
    deleted = lookup("customerio", "Object Deleted")
    assert deleted.required_call_fields == ("anonymousId", "properties")
    assert deleted.required == ("objectId",)


def test_every_event_has_a_summary_and_every_member_a_description() -> None:
    """Summaries and descriptions are filled in for the project's own documentation."""
    for spec in EVENTS.values():
        assert spec.summary, spec.name
        for key, prop in {**spec.properties, **spec.call_fields}.items():
            assert prop.description, f"{spec.name}: {key}"


def test_catalogue_is_read_only() -> None:
    """The shared table cannot be changed by a caller."""
    spec = lookup("ecommerce", "Order Completed")
    with pytest.raises(TypeError):
        spec.properties["revenue"] = PropertySpec("string")  # type: ignore[index]
    with pytest.raises(TypeError):
        EVENTS["Made Up"] = spec  # type: ignore[index]
    products = spec.properties["products"].items
    assert products is not None
    with pytest.raises(TypeError):
        products["price"] = "string"  # type: ignore[index]


def test_inconsistent_entries_are_refused() -> None:
    """An entry requiring an undocumented member, or a bad category, raises ValueError."""
    with pytest.raises(ValueError, match="required but undocumented"):
        EventSpec("X", "video", {}, required=("missing",))
    with pytest.raises(ValueError, match="unknown category"):
        EventSpec("X", "Video", {})
    with pytest.raises(ValueError, match="only an array"):
        PropertySpec("string", items={"a": "string"})


def test_array_of_objects_defaults_item_type() -> None:
    """An array described by ``items`` has object elements."""
    assert PropertySpec("array", items={"a": "string"}).item_type == "object"


# lookup and its errors --------------------------------------------------------


def test_lookup_returns_the_entry() -> None:
    """An exact name in the right category returns its entry."""
    assert lookup("video", "Video Ad Started") is EVENTS["Video Ad Started"]


def test_lookup_error_lists_valid_names() -> None:
    """An unknown name raises UnknownEventError listing the category's names."""
    with pytest.raises(UnknownEventError) as info:
        lookup("live_chat", "Chat Opened")
    for name in events_in("live_chat"):
        assert repr(name) in str(info.value)
    assert "Did you mean" not in str(info.value)


def test_lookup_is_exact_but_suggests_other_case() -> None:
    """A name that differs only in case is refused with the exact spelling suggested."""
    with pytest.raises(UnknownEventError, match="Did you mean 'Video Playback interrupted'"):
        lookup("video", "Video Playback Interrupted")


def test_lookup_suggests_close_spelling() -> None:
    """A misspelt name is refused with the close names suggested."""
    with pytest.raises(UnknownEventError, match="Did you mean 'Order Completed'"):
        lookup("ecommerce", "Order Complted")


def test_lookup_names_the_right_category() -> None:
    """A real name asked for in the wrong category says where it belongs."""
    with pytest.raises(UnknownEventError, match="belongs to category 'email'"):
        lookup("ecommerce", "Email Opened")


def test_unknown_category_lists_categories() -> None:
    """An unknown category raises UnknownEventError naming the valid ones."""
    with pytest.raises(UnknownEventError, match="Did you mean 'ecommerce'") as info:
        events_in("ecomerce")
    assert all(category in str(info.value) for category in CATEGORY_KEYS)


def test_unknown_event_error_is_a_value_error() -> None:
    """Callers that guard bad input with ``except ValueError`` catch lookup errors."""
    with pytest.raises(ValueError, match="App Launched"):
        lookup("mobile", "App Launched")


# What the Journeys destination does with each name ----------------------------

# The names the default presets of Customer.io's Journeys destination
# (segmentio/action-destinations, destinations/customerio: index.ts and each
# action's defaultSubscription) route to an action other than trackEvent.
JOURNEYS_PRESETS = {
    "User Deleted": "deletePerson",
    "User Suppressed": "suppressPerson",
    "User Unsuppressed": "unsuppressPerson",
    "Device Created or Updated": "createUpdateDevice",
    "Application Installed": "createUpdateDevice",
    "Application Opened": "createUpdateDevice",
    "Device Deleted": "deleteDevice",
    "Application Uninstalled": "deleteDevice",
    "Object Deleted": "deleteObject",
    "Relationship Deleted": "deleteRelationship",
    "Report Delivery Event": "reportDeliveryEvent",
}


def test_journeys_routed_names_are_the_destination_presets() -> None:
    """The catalogue routes exactly the names the destination's presets take away from events."""
    assert {name: spec.journeys_action for name, spec in JOURNEYS_ROUTED.items()} == (
        JOURNEYS_PRESETS
    )


def test_journeys_needs_of_the_app_device_events() -> None:
    """Install and open need the user, token and platform; uninstall the user and token."""
    for name in ("Application Installed", "Application Opened"):
        assert set(EVENTS[name].journeys_needs) == {
            "userId",
            "context.device.token",
            "context.device.type",
        }
    assert set(EVENTS["Application Uninstalled"].journeys_needs) == {
        "userId",
        "context.device.token",
    }


def test_report_delivery_event_follows_the_destination() -> None:
    """Eight metrics, actionName and actionValue, no person, deliveryId and metric required."""
    spec = EVENTS["Report Delivery Event"]
    assert spec.properties["metric"].enum == (
        "delivered",
        "opened",
        "clicked",
        "converted",
        "bounced",
        "spammed",
        "dropped",
        "deferred",
    )
    assert {"actionName", "actionValue"} <= set(spec.properties)
    assert spec.person is False
    assert set(spec.required) == {"deliveryId", "metric"}


def test_group_deleted_is_refused_in_the_catalogue() -> None:
    """Group Deleted stays catalogued (the API names it) but says what to send instead."""
    assert "objects.delete" in EVENTS["Group Deleted"].refused
