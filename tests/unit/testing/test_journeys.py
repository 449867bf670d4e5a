"""The Journeys model, fed with hand-built calls: what lands where, and what is dropped."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pandas_cio.catalogue.events import DELIVERY_METRICS
from pandas_cio.testing import Deletion, DeliveryMetric, Device, Journeys, Merge, Suppression
from pandas_cio.testing._journeys_actions import (
    actions_for,
    convert_attributes,
    convert_timestamp,
    resolve_person,
)

# The catalogue owns the list (tests/unit/catalogue pins it); every metric must land.
METRICS = DELIVERY_METRICS


def fed(*calls: dict[str, Any]) -> Journeys:
    """A fresh model fed with ``calls``; each gets a messageId when it has none."""
    journeys = Journeys()
    journeys.ingest({"messageId": f"m{i}", **c} for i, c in enumerate(calls))
    return journeys


def identify(user_id: str | None = "u1", **traits: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"type": "identify", "traits": traits}
    if user_id is not None:
        call["userId"] = user_id
    return call


def track(event: str, user_id: str | None = "u1", **extra: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"type": "track", "event": event, **extra}
    if user_id is not None:
        call["userId"] = user_id
    return call


def reasons(journeys: Journeys) -> list[str]:
    return [d.reason for d in journeys.dropped]


# Identify


def test_identify_traits_become_attributes() -> None:
    """Traits land as attributes, created_at is mapped, mapping-only traits are left out."""
    j = fed(
        identify(plan="pro", createdAt="2024-01-02", object_type_id="2", objectTypeId="2"),
    )
    assert j.person("u1") == {"plan": "pro", "created_at": 1704153600}
    assert j.people == {"u1": {"plan": "pro", "created_at": 1704153600}}


def test_identify_email_and_anonymous_id() -> None:
    """traits.email is an attribute and finds the person; the anonymousId becomes anonymous_id."""
    j = fed({**identify(email="a@example.com"), "anonymousId": "an1"})
    assert j.person("u1") == {"email": "a@example.com", "anonymous_id": "an1"}
    assert j.person("a@example.com") == j.person("u1") == j.person("an1")


def test_identify_without_user_id_uses_email() -> None:
    """With no userId the destination identifies the person by traits.email."""
    j = fed(identify(None, email="b@example.com", plan="free"))
    assert j.people == {"b@example.com": {"email": "b@example.com", "plan": "free"}}


def test_identify_email_shaped_and_cio_ids() -> None:
    """An email-shaped userId is an email identifier, a cio_ one Customer.io's own id."""
    assert resolve_person("c@example.com") == ("email", "c@example.com")
    assert resolve_person("cio_abc") == ("cio_id", "abc")
    assert resolve_person("42") == ("id", "42")
    assert resolve_person(None, anonymous_id="an") == ("anonymous_id", "an")
    assert resolve_person(None) is None
    j = fed(identify("cio_abc", plan="x"), identify("c@example.com", plan="y"))
    assert j.person("cio_abc") == {"plan": "x"}
    assert j.person("c@example.com") == {"plan": "y"}


def test_identify_anonymous_only_is_an_anonymous_profile() -> None:
    """An identify with only an anonymousId updates the anonymous profile."""
    j = fed({"type": "identify", "anonymousId": "an1", "traits": {"seen": True}})
    assert j.people == {}
    assert j.anonymous == {"an1": {"seen": True}}


def test_identify_with_anonymous_id_adopts_anonymous_events() -> None:
    """Identifying with an anonymousId moves that profile's events to the person."""
    j = fed(
        track("Viewed", None, anonymousId="an1"), {**identify(plan="pro"), "anonymousId": "an1"}
    )
    assert [(e.name, e.person) for e in j.events("u1")] == [("Viewed", "u1")]
    assert j.anonymous == {}


def test_identify_updates_and_keeps_other_attributes() -> None:
    """A second identify adds and replaces attributes, never removes them."""
    j = fed(identify(plan="free", city="Oslo"), identify(plan="pro"))
    assert j.person("u1") == {"plan": "pro", "city": "Oslo"}


def test_identify_with_object_id_relates_the_person() -> None:
    """traits.objectId relates the person to that object, with relationshipAttributes."""
    j = fed(identify(objectId="acme", object_type_id="3", relationshipAttributes={"role": "admin"}))
    assert j.relationships == {("3", "acme", "u1"): {"role": "admin"}}


# Timestamps


@pytest.mark.parametrize(
    ("text", "unix"),
    [
        ("2024-01-02", 1704153600),
        ("2024-01-02T03:04", 1704164640),
        ("2024-01-02T03:04:05Z", 1704164645),
        ("2024-01-02T03:04:05.999999999Z", 1704164645),
        ("2024-01-02T03:04:05+01:00", 1704161045),
        ("2024-01-02T03:04:05+0100", 1704161045),
    ],
)
def test_iso_strings_become_unix_seconds(text: str, unix: int) -> None:
    """ISO-8601 dates and date-times become Unix seconds, zones honoured, fractions floored."""
    assert convert_attributes({"at": text}) == {"at": unix}


@pytest.mark.parametrize(
    "text", ["2024-02-30", "03/05/2024", "2024-01-02 03:04:05", "soon", "20240102"]
)
def test_other_strings_stay_text(text: str) -> None:
    """Impossible dates and other formats are left as they are."""
    assert convert_attributes({"at": text}) == {"at": text}


def test_conversion_goes_into_objects_not_lists() -> None:
    """Nested objects are converted, lists are not, as the destination does."""
    values = {"a": {"b": "2024-01-02"}, "c": ["2024-01-02"], "n": 5}
    assert convert_attributes(values) == {"a": {"b": 1704153600}, "c": ["2024-01-02"], "n": 5}


def test_call_timestamp_conversion() -> None:
    """A call's timestamp becomes Unix seconds; digit strings and numbers stay."""
    assert convert_timestamp("2024-01-02T00:00:00.000Z") == 1704153600
    assert convert_timestamp("1704153600") == "1704153600"
    assert convert_timestamp(1704153600) == 1704153600
    assert convert_timestamp(None) is None


@settings(max_examples=50, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)))
def test_iso_conversion_matches_the_clock(moment: datetime) -> None:
    """Any UTC date-time written in ISO-8601 converts to its floor in Unix seconds."""
    aware = moment.replace(tzinfo=UTC)
    text = aware.isoformat().replace("+00:00", "Z")
    expected = int((aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1))
    assert convert_attributes({"t": text}) == {"t": expected}


# Events, pages, screens


def test_track_lands_on_the_person_with_id_and_unix_timestamp() -> None:
    """An event keeps its name and data; its id is the messageId; timestamps are Unix seconds."""
    j = fed(
        track(
            "Signed Up",
            properties={"plan": "pro", "at": "2024-01-02"},
            timestamp="2024-01-02T00:00:00Z",
        )
    )
    (event,) = j.events("u1")
    assert (event.kind, event.name, event.person, event.id) == ("event", "Signed Up", "u1", "m0")
    assert event.data == {"plan": "pro", "at": 1704153600}
    assert event.timestamp == 1704153600
    assert j.event_ids == {"m0"}


def test_track_anonymous_lands_on_the_anonymous_profile() -> None:
    """A track with only an anonymousId lands on the anonymous profile."""
    j = fed(track("Viewed", None, anonymousId="an1"))
    (event,) = j.events("an1")
    assert (event.person, event.anonymous_id) == (None, "an1")
    assert j.events() == [event]


def test_track_with_both_ids_adds_anonymous_id_to_the_data() -> None:
    """With a userId and an anonymousId, the destination adds anonymous_id to the event data."""
    j = fed(track("Viewed", anonymousId="an1", properties={"a": 1}))
    assert j.events("u1")[0].data == {"a": 1, "anonymous_id": "an1"}


def test_same_event_id_is_kept_once() -> None:
    """Two events with the same id are kept once; the second is recorded as dropped."""
    j = Journeys()
    j.ingest([track("A", messageId="x"), track("A", messageId="x"), track("A", messageId="y")])
    assert [e.id for e in j.events("u1")] == ["x", "y"]
    assert [(d.message_id, d.action) for d in j.dropped] == [("x", "trackEvent")]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=30))
def test_landed_events_equal_distinct_ids(ids: list[str]) -> None:
    """However ids repeat, the events that land are exactly the distinct ids, first come first."""
    j = Journeys()
    j.ingest(track("E", messageId=i) for i in ids)
    assert [e.id for e in j.events()] == list(dict.fromkeys(ids))
    assert len(j.dropped) == len(ids) - len(set(ids))


def test_page_is_named_by_its_url() -> None:
    """A page view is named by properties.url and keeps every property."""
    j = fed(
        {
            "type": "page",
            "userId": "u1",
            "name": "Pricing",
            "properties": {"url": "https://x.io/p", "title": "T"},
        }
    )
    (view,) = j.page_views
    assert (view.kind, view.name, view.data) == (
        "page",
        "https://x.io/p",
        {"url": "https://x.io/p", "title": "T"},
    )
    assert j.events("u1") == []


def test_page_without_url_is_dropped() -> None:
    """A page without properties.url reaches no page view."""
    j = fed({"type": "page", "userId": "u1", "name": "Pricing", "properties": {"title": "T"}})
    assert j.page_views == []
    assert [(d.message_id, d.action) for d in j.dropped] == [("m0", "trackPageView")]
    assert "properties.url" in j.dropped[0].reason


def test_screen_needs_a_name() -> None:
    """A screen view is named by the call's name; without one it is dropped."""
    j = fed({"type": "screen", "userId": "u1", "name": "Home"}, {"type": "screen", "userId": "u1"})
    assert [v.name for v in j.screen_views] == ["Home"]
    assert [(d.message_id, d.action) for d in j.dropped] == [("m1", "trackScreenView")]


# Objects and relationships


def test_group_reads_object_attributes_only_from_object_attributes() -> None:
    """Object attributes come from traits.objectAttributes; flat traits are recorded as not read."""
    j = fed(
        {
            "type": "group",
            "groupId": "acme",
            "traits": {
                "object_type_id": "2",
                "plan": "flat",
                "objectAttributes": {"plan": "ent", "since": "2024-01-02"},
            },
        }
    )
    assert j.objects == {("2", "acme"): {"plan": "ent", "since": 1704153600}}
    assert j.relationships == {}
    (drop,) = j.dropped
    assert drop.action == "createUpdateObject" and "plan" in drop.reason


def test_group_type_defaults_to_1_and_reads_object_type_id() -> None:
    """The type comes from object_type_id, else objectTypeId, else "1"."""
    j = fed(
        {"type": "group", "groupId": "a", "traits": {}},
        {"type": "group", "groupId": "b", "traits": {"objectTypeId": 4}},
    )
    assert set(j.objects) == {("1", "a"), ("4", "b")}


def test_group_with_person_relates_with_relationship_attributes() -> None:
    """A userId or anonymousId relates the person, with relationshipAttributes converted."""
    rel = {"role": "admin", "since": "2024-01-02"}
    j = fed(
        {
            "type": "group",
            "groupId": "acme",
            "userId": "u1",
            "traits": {"relationshipAttributes": rel},
        },
        {"type": "group", "groupId": "acme", "anonymousId": "an1", "traits": {}},
    )
    assert j.relationships == {
        ("1", "acme", "u1"): {"role": "admin", "since": 1704153600},
        ("1", "acme", "an1"): {},
    }


def test_group_without_group_id_is_dropped() -> None:
    """A group call without groupId creates nothing."""
    j = fed({"type": "group", "userId": "u1", "traits": {}})
    assert j.objects == {} and reasons(j) == ["group needs a groupId (the object id)"]


def test_object_deleted_removes_object_and_relationships() -> None:
    """Object Deleted (properties.objectId, objectTypeId) removes the object and relationships."""
    j = fed(
        {"type": "group", "groupId": "acme", "userId": "u1", "traits": {"objectTypeId": 1}},
        track(
            "Object Deleted",
            None,
            anonymousId="x",
            properties={"objectId": "acme", "objectTypeId": 1},
        ),
    )
    assert j.objects == {} and j.relationships == {}
    assert j.deletions == [Deletion("object", ("1", "acme"), "m1")]
    assert j.events() == []


def test_relationship_deleted() -> None:
    """Relationship Deleted removes one person's relationship to the object."""
    j = fed(
        {"type": "group", "groupId": "acme", "userId": "u1", "traits": {}},
        track("Relationship Deleted", properties={"objectId": "acme"}),
        track("Relationship Deleted", properties={}),
    )
    assert j.relationships == {} and ("1", "acme") in j.objects
    assert j.deletions == [Deletion("relationship", ("1", "acme", "u1"), "m1")]
    assert reasons(j) == ["deleteRelationship needs properties.objectId"]


def test_group_deleted_is_only_an_event() -> None:
    """Group Deleted has no action of its own: it lands as a custom event, the object stays."""
    assert actions_for(track("Group Deleted")) == ["trackEvent"]
    j = fed(
        {"type": "group", "groupId": "acme", "traits": {}},
        track("Group Deleted", None, anonymousId="x", properties={"objectId": "acme"}),
    )
    assert ("1", "acme") in j.objects and j.deletions == []
    assert [e.name for e in j.events("x")] == ["Group Deleted"]


# People operations


def test_alias_merges_secondary_into_primary() -> None:
    """alias keeps the primary, fills in the secondary's attributes and events, removes it."""
    j = fed(
        identify("old", plan="free", city="Oslo"),
        track("Viewed", "old"),
        identify("new", plan="pro"),
        {"type": "alias", "userId": "new", "previousId": "old"},
    )
    assert j.people == {"new": {"plan": "pro", "city": "Oslo"}}
    assert [e.person for e in j.events("new")] == ["new"]
    assert j.merges == [Merge("new", "old", "m3")]


def test_user_deleted_removes_the_person() -> None:
    """User Deleted deletes the person, their events and devices, and lands no event."""
    device = {"context": {"device": {"token": "t", "type": "ios"}}}
    j = fed(
        identify(plan="pro"), track("Device Created or Updated", **device), track("User Deleted")
    )
    assert j.people == {} and j.devices == {} and j.events() == []
    assert j.deletions == [Deletion("person", ("u1",), "m2")]


def test_suppression_blocks_until_unsuppressed() -> None:
    """A suppressed person is deleted and ignored until unsuppressed."""
    j = fed(
        identify(plan="pro"),
        track("User Suppressed"),
        identify(plan="again"),
        track("User Unsuppressed"),
        identify(plan="back"),
    )
    assert j.people == {"u1": {"plan": "back"}}
    assert j.suppressions == [Suppression("u1", True, "m1"), Suppression("u1", False, "m3")]
    assert j.suppressed == frozenset()
    assert [d.message_id for d in j.dropped] == ["m2"]


@pytest.mark.parametrize("event", ["User Deleted", "User Suppressed", "User Unsuppressed"])
def test_person_actions_need_a_user_id(event: str) -> None:
    """The person actions read only userId; an anonymous one is dropped."""
    j = fed(track(event, None, anonymousId="an1"))
    assert [d.event for d in j.dropped] == [event] and "userId" in j.dropped[0].reason


# Devices


@pytest.mark.parametrize("event", ["Application Installed", "Application Opened"])
def test_app_install_and_open_create_a_device_and_an_event(event: str) -> None:
    """Installed / Opened with token and type make a device, and land as an event too."""
    ctx = {"device": {"token": "tok", "type": "android"}}
    j = fed(
        track(event, context=ctx, timestamp="2024-01-02T00:00:00Z", properties={"version": "2"})
    )
    assert j.devices == {("u1", "tok"): Device("u1", "tok", "android", 1704153600, {}, "m0")}
    assert [e.name for e in j.events("u1")] == [event]


def test_app_events_without_device_fields_lose_the_device() -> None:
    """Without token, type or userId the device action drops the call; the event still lands."""
    j = fed(
        track("Application Installed"),
        track(
            "Application Opened",
            None,
            anonymousId="an1",
            context={"device": {"token": "t", "type": "ios"}},
        ),
    )
    assert j.devices == {}
    assert reasons(j) == [
        "createUpdateDevice needs context.device.token and context.device.type",
        "createUpdateDevice needs userId",
    ]
    assert len(j.events()) == 2


def test_device_created_or_updated_keeps_properties_as_attributes() -> None:
    """Customer.io's device event stores properties on the device and is not an activity event."""
    ctx = {"device": {"token": "tok", "type": "ios"}}
    j = fed(track("Device Created or Updated", context=ctx, properties={"app_version": "1.2"}))
    assert j.devices[("u1", "tok")].attributes == {"app_version": "1.2"}
    assert j.events() == []


def test_device_without_platform_is_dropped() -> None:
    """Device Created or Updated without context.device.type makes no device."""
    j = fed(track("Device Created or Updated", context={"device": {"token": "tok"}}))
    assert j.devices == {} and reasons(j) == ["createUpdateDevice needs context.device.type"]


@pytest.mark.parametrize(
    ("event", "is_event"), [("Device Deleted", False), ("Application Uninstalled", True)]
)
def test_device_deletion(event: str, is_event: bool) -> None:
    """Device Deleted and Application Uninstalled delete the device (token, no platform needed)."""
    ctx = {"device": {"token": "tok", "type": "ios"}}
    j = fed(
        track("Device Created or Updated", context=ctx),
        track(event, context={"device": {"token": "tok"}}),
    )
    assert j.devices == {}
    assert j.deletions == [Deletion("device", ("u1", "tok"), "m1")]
    assert bool(j.events()) is is_event


def test_batch_context_applies_to_calls() -> None:
    """A /batch request's own context fills in each call's context, the call's members winning."""
    j = Journeys()
    j.ingest(
        [track("Device Created or Updated", context={"device": {"token": "tok"}})],
        context={"device": {"type": "ios", "token": "ignored"}},
    )
    assert list(j.devices) == [("u1", "tok")] and j.devices[("u1", "tok")].platform == "ios"


# Report Delivery Event


def test_report_delivery_event_needs_no_person() -> None:
    """Every metric lands, with actionName / actionValue, without a person and without an event."""
    j = fed(
        *(
            track(
                "Report Delivery Event",
                None,
                anonymousId="x",
                properties={
                    "deliveryId": f"d{i}",
                    "metric": m,
                    "actionName": "btn",
                    "actionValue": "ok",
                },
                timestamp="2024-01-02T00:00:00Z",
            )
            for i, m in enumerate(METRICS)
        )
    )
    assert [m.metric for m in j.delivery_metrics] == list(METRICS)
    assert j.delivery_metrics[0] == DeliveryMetric(
        "d0", "delivered", 1704153600, action_name="btn", action_value="ok", message_id="m0"
    )
    assert j.events() == [] and j.people == {} and j.anonymous == {}


def test_report_delivery_event_refuses_unknown_metrics() -> None:
    """An unknown metric or a missing deliveryId is dropped."""
    j = fed(
        track("Report Delivery Event", properties={"deliveryId": "d", "metric": "read"}),
        track("Report Delivery Event", properties={"metric": "opened"}),
    )
    assert j.delivery_metrics == [] and len(j.dropped) == 2


# Journeys limits


def test_identify_attribute_limits() -> None:
    """More than 300 attributes, a name over 150 bytes, a value over 1,000 bytes: dropped."""
    ok = {f"a{i}": i for i in range(300)}
    j = fed(
        identify("ok", **ok),
        identify("many", **ok, extra=1),
        identify("name", **{"n" * 151: 1}),
        identify("value", bio="é" * 501),
        identify("edge", **{"n" * 150: "v" * 1000}),
    )
    assert set(j.people) == {"ok", "edge"}
    assert [d.reason for d in j.dropped] == [
        "301 attributes in one call; Journeys takes at most 300",
        "an attribute name is over 150 bytes",
        "attribute 'bio' is over 1000 bytes",
    ]


def test_event_limits() -> None:
    """An event name over 100 bytes or data over 100,000 bytes is dropped."""
    j = fed(track("e" * 101), track("e" * 100), track("big", properties={"blob": "x" * 100_001}))
    assert [e.name for e in j.events()] == ["e" * 100]
    assert reasons(j) == ["event name is over 100 bytes", "event data is over 100000 bytes"]


@pytest.mark.parametrize(
    "call",
    [
        identify(""),
        track("E", " "),
        {"type": "group", "groupId": "", "traits": {}},
        {"type": "page", "userId": "", "properties": {"url": "https://x.io"}},
    ],
)
def test_empty_ids_are_dropped(call: dict[str, Any]) -> None:
    """Journeys refuses empty ids."""
    j = fed(call)
    assert j.people == {} and j.objects == {} and j.page_views == []
    assert "empty" in j.dropped[0].reason


def test_reasons_never_quote_values() -> None:
    """Drop reasons name fields, never the values sent."""
    secret = "s3cret-value"
    j = fed(
        identify(bio=secret * 100),
        track(secret * 10),
        {"type": "group", "groupId": "g", "traits": {"flat": secret}},
        {"type": "page", "userId": "u1", "properties": {"title": secret}},
    )
    assert len(j.dropped) == 4
    assert not any(secret in d.reason for d in j.dropped)


# The model as a whole


def test_reset_forgets_everything() -> None:
    """reset() empties every record."""
    j = fed(identify(plan="x"), track("E"), {"type": "page", "userId": "u1", "properties": {}})
    j.reset()
    assert (j.people, j.events(), j.dropped, j.event_ids) == ({}, [], [], frozenset())


def test_properties_are_copies() -> None:
    """Changing what a property returned does not change the model."""
    j = fed(identify(plan="x"))
    j.people["u1"]["plan"] = "changed"
    person = j.person("u1")
    assert person is not None
    person["plan"] = "changed"
    assert j.person("u1") == {"plan": "x"}


def test_concurrent_ingest_keeps_every_call() -> None:
    """Many threads feeding the model at once lose nothing and corrupt nothing."""
    j = Journeys()

    def feed(worker: int) -> None:
        for i in range(200):
            j.ingest(
                [track("E", f"u{worker}", messageId=f"{worker}-{i}"), identify(f"u{worker}", n=i)]
            )

    threads = [threading.Thread(target=feed, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(j.event_ids) == 1600 and len(j.events()) == 1600
    assert j.people == {f"u{w}": {"n": 199} for w in range(8)}


def test_landed_tells_applied_calls_from_dropped_ones() -> None:
    """landed() is True for calls that changed something, also in part, False for drops."""
    j = fed(
        identify(plan="pro"),
        {"type": "page", "userId": "u1", "properties": {}},
        {"type": "group", "groupId": "g", "traits": {"flat": 1}},
        track("Application Installed"),
        track("E", messageId="m0"),
    )
    assert j.landed_ids == {"m0", "m2", "m3"}
    assert j.landed("m0") and not j.landed("m1") and not j.landed("nope")
    assert [d.partial for d in j.dropped] == [False, True, False]


def test_long_page_urls_are_not_held_to_the_event_name_limit() -> None:
    """The 100-byte name limit is for custom events; a page view is named by a long URL."""
    url = "https://example.com/" + "p" * 200
    j = fed({"type": "page", "userId": "u1", "properties": {"url": url}})
    assert [v.name for v in j.page_views] == [url]


def test_events_by_email_land_on_the_person_with_that_email() -> None:
    """A track whose userId is an email address lands on the person holding that email."""
    j = fed(identify(email="a@example.com"), track("Clicked", "a@example.com"))
    assert [(e.name, e.person) for e in j.events("u1")] == [("Clicked", "u1")]
    assert j.people == {"u1": {"email": "a@example.com"}}
