"""Where each input value lands in Customer.io Journeys, for every operation, through the fake.

Each test sends a small frame through the library against :class:`FakeCio` and
reads :attr:`FakeCio.journeys`, the model of the Journeys destination's default
actions. The losses of issue 11 are tested as fixed: where an argument is
missing altogether or a constant is wrong, the call raises before anything is
sent; where a column holds a bad or missing value in some rows, those rows are
``invalid`` naming the column and the others land. Each check is also tested
with ``journeys=False``, which sends the frame and shows what the Journeys model
does with it.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

import pandas_cio  # noqa: F401  (registers df.cio)
from pandas_cio import Client
from pandas_cio.catalogue.events import DELIVERY_METRICS
from pandas_cio.errors import ColumnError, UnknownEventError
from pandas_cio.prepare.plan import RESERVED_EVENTS
from pandas_cio.testing import Deletion, Dropped, FakeCio, Merge, Suppression

JAN2 = "2024-01-02T00:00:00Z"
JAN2_UNIX = 1704153600
# The catalogue owns the list (tests/unit/catalogue pins it); every metric must land.
METRICS = DELIVERY_METRICS
ULID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
OFF = re.escape("journeys=False turns this check off")


def frame(**columns: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(columns)


def statuses(result: pd.DataFrame) -> list[str]:
    return [str(s) for s in result["status"]]


def error_of(result: pd.DataFrame, row: int = 0) -> str:
    value = result["error"].iloc[row]
    return "" if pd.isna(value) else str(value)


def dropped_by(fake: FakeCio, action: str) -> Dropped:
    """The one call the Journeys model dropped, checked to be dropped by ``action``."""
    (dropped,) = fake.journeys.dropped
    assert (dropped.by, dropped.action) == ("journeys", action)
    return dropped


@pytest.fixture
def fake(cio_fake: FakeCio) -> FakeCio:
    return cio_fake


@pytest.fixture
def client(cio_client: Client) -> Client:
    return cio_client


# People


def test_identify_traits_land_as_attributes(fake: FakeCio, client: Client) -> None:
    """Every trait column is an attribute; ISO dates become Unix seconds; email finds the person."""
    people = frame(id=["u1"], email=["a@example.com"], plan=["pro"], since=[JAN2], seats=[3])
    result = people.cio.identify(user_id="id", client=client)
    assert statuses(result) == ["sent"]
    expected = {"email": "a@example.com", "plan": "pro", "since": JAN2_UNIX, "seats": 3}
    assert fake.journeys.person("u1") == expected
    assert fake.journeys.person("a@example.com") == expected
    assert fake.journeys.dropped == []


def test_identify_datetime_column_lands_as_unix_seconds(fake: FakeCio, client: Client) -> None:
    """A datetime64 trait goes out as ISO-8601 and lands as Unix seconds."""
    people = frame(id=["u1"], trial_ends=pd.to_datetime([JAN2], utc=True))
    assert statuses(people.cio.identify(user_id="id", client=client)) == ["sent"]
    assert fake.journeys.person("u1") == {"trial_ends": JAN2_UNIX}


def test_identify_anonymous_id_is_an_attribute(fake: FakeCio, client: Client) -> None:
    """An anonymous_id column with a user id lands as the anonymous_id attribute."""
    people = frame(id=["u1"], anon=["an1"], plan=["pro"])
    people.cio.identify(user_id="id", anonymous_id="anon", client=client)
    assert fake.journeys.person("u1") == {"plan": "pro", "anonymous_id": "an1"}


def test_identify_empty_id_is_invalid(fake: FakeCio, client: Client) -> None:
    """An empty user id (Journeys refuses empty ids) is invalid before sending."""
    result = frame(id=["", "u2"], plan=["a", "b"]).cio.identify(user_id="id", client=client)
    assert statuses(result) == ["invalid", "sent"] and "user_id" in error_of(result)
    assert list(fake.journeys.people) == ["u2"]


def test_alias_merges_the_previous_profile(fake: FakeCio, client: Client) -> None:
    """alias merges previous_id's profile into user_id's."""
    frame(id=["old"], city=["Oslo"]).cio.identify(user_id="id", client=client)
    result = frame(new=["u1"], old=["old"]).cio.alias(
        user_id="new", previous_id="old", client=client
    )
    assert statuses(result) == ["sent"]
    assert fake.journeys.people == {"u1": {"city": "Oslo"}}
    assert fake.journeys.merges == [Merge("u1", "old", result["message_id"].iloc[0])]


def test_suppress_and_unsuppress(fake: FakeCio, client: Client) -> None:
    """suppress deletes and blocks the person; unsuppress lifts the block."""
    frame(id=["u1"], plan=["pro"]).cio.identify(user_id="id", client=client)
    sup = frame(id=["u1"]).cio.suppress(user_id="id", client=client)
    assert fake.journeys.person("u1") is None and fake.journeys.suppressed == {"u1"}
    uns = frame(id=["u1"]).cio.unsuppress(user_id="id", client=client)
    assert fake.journeys.suppressions == [
        Suppression("u1", True, sup["message_id"].iloc[0]),
        Suppression("u1", False, uns["message_id"].iloc[0]),
    ]
    assert fake.journeys.events() == []


def test_delete_removes_the_person(fake: FakeCio, client: Client) -> None:
    """delete removes the person; no event lands."""
    frame(id=["u1", "u2"], plan=["a", "b"]).cio.identify(user_id="id", client=client)
    result = frame(id=["u1"]).cio.delete(user_id="id", client=client)
    assert list(fake.journeys.people) == ["u2"]
    assert fake.journeys.deletions == [Deletion("person", ("u1",), result["message_id"].iloc[0])]


# Events, pages, screens


def test_track_properties_land_in_the_event(fake: FakeCio, client: Client) -> None:
    """Each property column is event data; the event id is the row's messageId; time in Unix."""
    events = frame(uid=["u1"], sku=["a1"], price=[9.5], at=[JAN2])
    result = events.cio.track(user_id="uid", event="Added to Cart", timestamp="at", client=client)
    (event,) = fake.journeys.events("u1")
    assert (event.name, event.data, event.timestamp) == (
        "Added to Cart",
        {"sku": "a1", "price": 9.5},
        JAN2_UNIX,
    )
    assert event.id == result["message_id"].iloc[0]


def test_track_anonymous_lands_on_anonymous_profile(fake: FakeCio, client: Client) -> None:
    """An anonymous_id-only event lands on the anonymous profile."""
    frame(a=["an1"], q=["shoes"]).cio.track(anonymous_id="a", event="Searched", client=client)
    (event,) = fake.journeys.events("an1")
    assert (event.person, event.data) == (None, {"q": "shoes"})


def test_page_lands_named_by_its_url(fake: FakeCio, client: Client) -> None:
    """A page view is named by the url column; every property lands in its data."""
    views = frame(uid=["u1"], url=["https://x.io/pricing"], title=["Pricing"])
    assert statuses(views.cio.page(user_id="uid", name="Pricing", client=client)) == ["sent"]
    (view,) = fake.journeys.page_views
    assert (view.name, view.person) == ("https://x.io/pricing", "u1")
    assert view.data == {"url": "https://x.io/pricing", "title": "Pricing"}


def test_screen_lands_named_by_its_name(fake: FakeCio, client: Client) -> None:
    """A screen view is named by the name column; other columns are its data."""
    views = frame(uid=["u1"], screen=["Settings"], tab=["privacy"])
    views.cio.screen(user_id="uid", name="screen", client=client)
    (view,) = fake.journeys.screen_views
    assert (view.name, view.person, view.data) == ("Settings", "u1", {"tab": "privacy"})


# Objects


def test_objects_upsert_creates_the_object(fake: FakeCio, client: Client) -> None:
    """objects.upsert creates the object under its type and id."""
    accounts = frame(account=["acme"], plan=["enterprise"])
    assert statuses(
        accounts.cio.objects.upsert(object_id="account", object_type_id=1, client=client)
    ) == ["sent"]
    assert ("1", "acme") in fake.journeys.objects


def test_objects_upsert_attributes_land(fake: FakeCio, client: Client) -> None:
    """Every attribute column lands on the object."""
    accounts = frame(account=["acme"], plan=["enterprise"], seats=[40], since=[JAN2])
    accounts.cio.objects.upsert(object_id="account", object_type_id=1, client=client)
    assert fake.journeys.objects[("1", "acme")] == {
        "plan": "enterprise",
        "seats": 40,
        "since": JAN2_UNIX,
    }


def test_objects_relate_with_relationship_attributes(fake: FakeCio, client: Client) -> None:
    """objects.relate relates the person, with the other columns as relationship attributes."""
    members = frame(uid=["u1"], account=["acme"], role=["admin"])
    members.cio.objects.relate(user_id="uid", object_id="account", object_type_id=1, client=client)
    assert fake.journeys.relationships == {("1", "acme", "u1"): {"role": "admin"}}


def test_objects_unrelate_removes_the_relationship(fake: FakeCio, client: Client) -> None:
    """objects.unrelate removes the relationship and keeps the object."""
    pair = frame(uid=["u1"], account=["acme"])
    pair.cio.objects.relate(user_id="uid", object_id="account", object_type_id=1, client=client)
    pair.cio.objects.unrelate(user_id="uid", object_id="account", object_type_id=1, client=client)
    assert fake.journeys.relationships == {} and ("1", "acme") in fake.journeys.objects
    assert [d.kind for d in fake.journeys.deletions] == ["relationship"]


def test_objects_delete_removes_the_object(fake: FakeCio, client: Client) -> None:
    """objects.delete removes the object and its relationships."""
    frame(uid=["u1"], account=["acme"]).cio.objects.relate(
        user_id="uid", object_id="account", object_type_id=1, client=client
    )
    frame(account=["acme"]).cio.objects.delete(object_id="account", object_type_id=1, client=client)
    assert fake.journeys.objects == {} and fake.journeys.relationships == {}
    assert [d.target for d in fake.journeys.deletions] == [("1", "acme")]


# Devices


def test_devices_register_lands_token_platform_attributes(fake: FakeCio, client: Client) -> None:
    """devices.register stores the device with its platform, attributes and last use."""
    phones = frame(uid=["u1"], tok=["t1"], os=["ios"], app_version=["1.2"], at=[JAN2])
    result = phones.cio.devices.register(
        user_id="uid", token="tok", platform="os", timestamp="at", client=client
    )
    device = fake.journeys.devices[("u1", "t1")]
    assert (device.platform, device.attributes, device.last_used) == (
        "ios",
        {"app_version": "1.2"},
        JAN2_UNIX,
    )
    assert device.message_id == result["message_id"].iloc[0]
    assert fake.journeys.events() == []


def test_devices_delete_removes_the_device(fake: FakeCio, client: Client) -> None:
    """devices.delete removes the device by token."""
    phones = frame(uid=["u1"], tok=["t1"], os=["android"])
    phones.cio.devices.register(user_id="uid", token="tok", platform="os", client=client)
    phones[["uid", "tok"]].cio.devices.delete(user_id="uid", token="tok", client=client)
    assert fake.journeys.devices == {}
    assert [d.target for d in fake.journeys.deletions] == [("u1", "t1")]


def test_devices_register_without_platform_raises(fake: FakeCio, client: Client) -> None:
    """devices.register() without platform= raises, naming it, and sends nothing."""
    phones = frame(uid=["u1"], tok=["t1"])
    with pytest.raises(
        ColumnError, match=rf"devices\.register\(\) needs platform=.*context\.device\.type.*{OFF}"
    ):
        phones.cio.devices.register(user_id="uid", token="tok", client=client)
    assert fake.requests == []


def test_devices_register_platform_gap_is_invalid(fake: FakeCio, client: Client) -> None:
    """A row with no value in the platform column is invalid, naming it; the others land."""
    phones = frame(uid=["u1", "u2", "u3"], tok=["t1", "t2", "t3"], os=["ios", None, "android"])
    result = phones.cio.devices.register(user_id="uid", token="tok", platform="os", client=client)
    assert statuses(result) == ["sent", "invalid", "sent"]
    assert error_of(result, 1).startswith("os (platform=): is missing")
    assert {k: d.platform for k, d in fake.journeys.devices.items()} == {
        ("u1", "t1"): "ios",
        ("u3", "t3"): "android",
    }


def test_devices_register_without_platform_journeys_off(fake: FakeCio, client: Client) -> None:
    """journeys=False sends the device without a type; Journeys drops it, naming the field."""
    phones = frame(uid=["u1"], tok=["t1"])
    result = phones.cio.devices.register(user_id="uid", token="tok", journeys=False, client=client)
    assert statuses(result) == ["sent"]
    assert [c["context"]["device"] for c in fake.calls] == [{"token": "t1"}]
    # The createUpdateDevice action needs context.device.type: no device lands.
    assert fake.journeys.devices == {}
    dropped = dropped_by(fake, "createUpdateDevice")
    assert "context.device.type" in dropped.reason
    assert dropped.message_id == result["message_id"].iloc[0]


def test_context_is_merged_deeply(fake: FakeCio, client: Client) -> None:
    """A context= device member joins the token and platform instead of replacing them."""
    phones = frame(uid=["u1"], tok=["t1"], os=["ios"])
    phones.cio.devices.register(
        user_id="uid",
        token="tok",
        platform="os",
        context={"device": {"model": "Pixel"}},
        client=client,
    )
    (call,) = fake.calls
    assert call["context"]["device"] == {"model": "Pixel", "token": "t1", "type": "ios"}
    assert ("u1", "t1") in fake.journeys.devices


# Semantic events


def test_semantic_ecommerce_order_lands_with_products(fake: FakeCio, client: Client) -> None:
    """A grouped order lands as one event whose products hold every line."""
    lines = frame(
        c=["c1", "c1"],
        order_id=["o1", "o1"],
        sku=["a", "b"],
        price=[9.5, 20.0],
        revenue=[29.5, 29.5],
    )
    result = lines.cio.semantic.ecommerce(
        "Order Completed",
        user_id="c",
        group_by="order_id",
        products=["sku", "price"],
        client=client,
    )
    assert statuses(result) == ["sent", "sent"]
    (event,) = fake.journeys.events("c1")
    assert event.name == "Order Completed"
    assert event.data == {
        "order_id": "o1",
        "revenue": 29.5,
        "products": [{"sku": "a", "price": 9.5}, {"sku": "b", "price": 20.0}],
    }


def test_semantic_email_event_lands(fake: FakeCio, client: Client) -> None:
    """An email event lands with its properties (the recipient rides in context)."""
    frame(u=["u1"], email_id=["e1"], addr=["a@example.com"]).cio.semantic.email(
        "Email Opened", user_id="u", email="addr", client=client
    )
    (event,) = fake.journeys.events("u1")
    assert (event.name, event.data) == ("Email Opened", {"email_id": "e1"})
    assert fake.calls[0]["context"]["traits"]["email"] == "a@example.com"


@pytest.mark.parametrize(
    ("category", "event", "columns"),
    [
        ("mobile", "Application Backgrounded", {"version": ["2.0"]}),
        ("video", "Video Playback Started", {"session_id": ["s1"], "position": [0]}),
        ("live_chat", "Live Chat Message Sent", {"conversation_id": ["k1"]}),
        ("ab_test", "Experiment Viewed", {"experiment_id": ["x1"], "variation_id": ["v1"]}),
    ],
)
def test_semantic_events_land_as_events(
    fake: FakeCio, client: Client, category: str, event: str, columns: dict[str, list[Any]]
) -> None:
    """Mobile, video, live chat and A/B test events land as events with their properties."""
    method = getattr(frame(u=["u1"], **columns).cio.semantic, category)
    assert statuses(method(event, user_id="u", client=client)) == ["sent"]
    (landed,) = fake.journeys.events("u1")
    assert (landed.name, landed.data) == (event, {k: v[0] for k, v in columns.items()})


def test_semantic_customerio_device_and_delivery(fake: FakeCio, client: Client) -> None:
    """customerio events reach their actions: a device, a suppression, a delivery metric."""
    sc = frame(u=["u1"], tok=["t1"], os=["android"]).cio.semantic
    sc.customerio(
        "Device Created or Updated", user_id="u", token="tok", platform="os", client=client
    )
    frame(u=["u2"]).cio.semantic.customerio("User Suppressed", user_id="u", client=client)
    delivery = frame(u=["u1"], deliveryId=["d1"], metric=["delivered"])
    delivery.cio.semantic.customerio("Report Delivery Event", user_id="u", client=client)
    assert list(fake.journeys.devices) == [("u1", "t1")]
    assert fake.journeys.suppressed == {"u2"}
    assert [(m.delivery_id, m.metric) for m in fake.journeys.delivery_metrics] == [
        ("d1", "delivered")
    ]
    assert fake.journeys.events() == []


# Losses at the destination (issue 11)


def test_app_installed_without_token_raises(fake: FakeCio, client: Client) -> None:
    """An app install without token= raises, naming the event and token=; nothing is sent."""
    installs = frame(u=["u1"], version=["1.0"])
    with pytest.raises(
        ColumnError, match=rf"Application Installed.*needs token=.*context\.device\.token.*{OFF}"
    ):
        installs.cio.semantic.mobile("Application Installed", user_id="u", client=client)
    assert fake.requests == []


def test_app_installed_token_gap_is_invalid(fake: FakeCio, client: Client) -> None:
    """A row with no value in the token column is invalid, naming it; the others make devices."""
    installs = frame(u=["u1", "u2"], tok=["t1", None], os=["ios", "ios"], version=["1.0", "1.0"])
    result = installs.cio.semantic.mobile(
        "Application Installed", user_id="u", token="tok", platform="os", client=client
    )
    assert statuses(result) == ["sent", "invalid"]
    assert error_of(result, 1).startswith("tok (token=): is missing")
    assert list(fake.journeys.devices) == [("u1", "t1")]
    assert [e.person for e in fake.journeys.events()] == ["u1"]


def test_app_installed_without_token_journeys_off(fake: FakeCio, client: Client) -> None:
    """journeys=False sends the install; the event lands but no device does, with a reason."""
    installs = frame(u=["u1"], version=["1.0"])
    result = installs.cio.semantic.mobile(
        "Application Installed", user_id="u", journeys=False, client=client
    )
    assert statuses(result) == ["sent"]
    # Journeys records the event, and its createUpdateDevice action drops the device.
    assert [(e.name, e.data) for e in fake.journeys.events("u1")] == [
        ("Application Installed", {"version": "1.0"})
    ]
    assert fake.journeys.devices == {}
    assert "context.device.token" in dropped_by(fake, "createUpdateDevice").reason


def test_anonymous_app_event_raises(fake: FakeCio, client: Client) -> None:
    """The device actions need a user id: anonymous_id= on an app event raises, sending nothing."""
    with pytest.raises(ColumnError, match=rf"cannot take anonymous_id=.*send user_id=.*{OFF}"):
        frame(a=["an1"]).cio.semantic.mobile("Application Opened", anonymous_id="a", client=client)
    assert fake.requests == []


def test_app_event_user_gap_is_invalid(fake: FakeCio, client: Client) -> None:
    """A row with no value in the user id column is invalid, naming it; the others land."""
    opens = frame(uid=["u1", None], tok=["t1", "t2"], os=["ios", "android"])
    result = opens.cio.semantic.mobile(
        "Application Opened", user_id="uid", token="tok", platform="os", client=client
    )
    assert statuses(result) == ["sent", "invalid"] and "uid" in error_of(result, 1)
    assert list(fake.journeys.devices) == [("u1", "t1")]


def test_anonymous_app_event_journeys_off(fake: FakeCio, client: Client) -> None:
    """journeys=False sends it; it lands as an anonymous event, and no device lands."""
    result = frame(a=["an1"]).cio.semantic.mobile(
        "Application Opened", anonymous_id="a", journeys=False, client=client
    )
    assert statuses(result) == ["sent"]
    assert [(e.name, e.anonymous_id) for e in fake.journeys.events("an1")] == [
        ("Application Opened", "an1")
    ]
    assert fake.journeys.devices == {}
    assert "userId" in dropped_by(fake, "createUpdateDevice").reason


def test_page_without_url_raises(fake: FakeCio, client: Client) -> None:
    """page() with no url= and no url column raises, naming url=; nothing is sent."""
    views = frame(uid=["u1"], title=["Pricing"])
    with pytest.raises(ColumnError, match=rf"page\(\) needs url= \(or a column 'url'\).*{OFF}"):
        views.cio.page(user_id="uid", name="Pricing", client=client)
    assert fake.requests == []


@pytest.mark.parametrize(("column", "args"), [("url", {}), ("address", {"url": "address"})])
def test_page_url_gap_is_invalid(
    fake: FakeCio, client: Client, column: str, args: dict[str, str]
) -> None:
    """A row with no url is invalid, naming the column; the others land named by their url."""
    urls = ["https://x.io/a", None, "https://x.io/c"]
    views = frame(uid=["u1", "u2", "u3"], **{column: urls})
    result = views.cio.page(user_id="uid", client=client, **args)
    assert statuses(result) == ["sent", "invalid", "sent"]
    # The reason names the column, and the argument when the column has another name.
    named = column if column == "url" else f"{column} (url=)"
    assert error_of(result, 1).startswith(f"{named}: is missing")
    assert [(v.name, v.person) for v in fake.journeys.page_views] == [
        ("https://x.io/a", "u1"),
        ("https://x.io/c", "u3"),
    ]


def test_page_without_url_journeys_off(fake: FakeCio, client: Client) -> None:
    """journeys=False sends the page without a url; Journeys drops it, naming properties.url."""
    views = frame(uid=["u1"], title=["Pricing"])
    result = views.cio.page(user_id="uid", name="Pricing", journeys=False, client=client)
    assert statuses(result) == ["sent"]
    assert [c["properties"] for c in fake.calls] == [{"title": "Pricing"}]
    assert fake.journeys.page_views == []
    dropped = dropped_by(fake, "trackPageView")
    assert "properties.url" in dropped.reason
    assert dropped.message_id == result["message_id"].iloc[0]


def test_screen_without_name_raises(fake: FakeCio, client: Client) -> None:
    """screen() without name= raises, naming name=; nothing is sent."""
    with pytest.raises(ColumnError, match=rf"screen\(\) needs name=.*{OFF}"):
        frame(uid=["u1"], tab=["privacy"]).cio.screen(user_id="uid", client=client)
    assert fake.requests == []


def test_screen_without_name_is_invalid(fake: FakeCio, client: Client) -> None:
    """A screen row whose name is missing is not sent, naming the name column."""
    views = frame(uid=["u1", "u2"], screen_name=["Home", None])
    result = views.cio.screen(user_id="uid", name="screen_name", client=client)
    assert statuses(result) == ["sent", "invalid"] and "screen_name" in error_of(result, 1)
    assert [(v.name, v.person) for v in fake.journeys.screen_views] == [("Home", "u1")]


def test_screen_name_gap_journeys_off(fake: FakeCio, client: Client) -> None:
    """journeys=False sends both rows; Journeys drops the nameless screen view with a reason."""
    views = frame(uid=["u1", "u2"], screen_name=["Home", None])
    result = views.cio.screen(user_id="uid", name="screen_name", journeys=False, client=client)
    assert statuses(result) == ["sent", "sent"]
    assert [(v.name, v.person) for v in fake.journeys.screen_views] == [("Home", "u1")]
    dropped = dropped_by(fake, "trackScreenView")
    assert "name" in dropped.reason and dropped.message_id == result["message_id"].iloc[1]


def test_group_deleted_raises_pointing_to_objects_delete(fake: FakeCio, client: Client) -> None:
    """Group Deleted is refused before sending, pointing to objects.delete; the object stays."""
    frame(account=["acme"]).cio.objects.upsert(object_id="account", object_type_id=1, client=client)
    sent_before = len(fake.requests)
    with pytest.raises(
        UnknownEventError, match=r"'Group Deleted' deletes nothing.*df\.cio\.objects\.delete\("
    ):
        frame(account=["acme"]).cio.semantic.customerio(
            "Group Deleted", object_id="account", object_type_id=1, client=client
        )
    assert len(fake.requests) == sent_before
    assert ("1", "acme") in fake.journeys.objects and fake.journeys.deletions == []


# The method each reserved name points to, as track() refuses it.
RESERVED = {
    "User Deleted": "df.cio.delete(",
    "User Suppressed": "df.cio.suppress(",
    "User Unsuppressed": "df.cio.unsuppress(",
    "Device Created or Updated": "df.cio.devices.register(",
    "Device Deleted": "df.cio.devices.delete(",
    "Object Deleted": "df.cio.objects.delete(",
    "Relationship Deleted": "df.cio.objects.unrelate(",
    "Group Deleted": "df.cio.objects.delete(",
    "Application Installed": "df.cio.semantic.mobile('Application Installed'",
    "Application Opened": "df.cio.semantic.mobile('Application Opened'",
    "Application Uninstalled": "df.cio.semantic.mobile('Application Uninstalled'",
    "Report Delivery Event": "df.cio.semantic.customerio('Report Delivery Event'",
}


def test_reserved_names_are_the_library_s() -> None:
    """The names tested here are exactly the ones the library refuses in track()."""
    assert set(RESERVED) == set(RESERVED_EVENTS)


@pytest.mark.parametrize("name", RESERVED)
def test_plain_track_raises_on_a_reserved_name(fake: FakeCio, client: Client, name: str) -> None:
    """track(event=<reserved name>) raises with the method to use, and sends nothing."""
    with pytest.raises(
        ColumnError,
        match=rf"track\(event={re.escape(repr(name))}\).*{re.escape(RESERVED[name])}.*{OFF}",
    ):
        frame(uid=["u1"]).cio.track(user_id="uid", event=name, client=client)
    assert fake.requests == []


@pytest.mark.parametrize("name", RESERVED)
def test_plain_track_reserved_name_in_a_column_is_invalid(
    fake: FakeCio, client: Client, name: str
) -> None:
    """A reserved name in an event column makes its row invalid with the pointer; others land."""
    frame(uid=["u1", "u2"], plan=["pro", "free"]).cio.identify(user_id="uid", client=client)
    events = frame(uid=["u1", "u2"], ev=["Signed Up", name])
    result = events.cio.track(user_id="uid", event="ev", client=client)
    assert statuses(result) == ["sent", "invalid"] and RESERVED[name] in error_of(result, 1)
    assert [c["event"] for c in fake.calls if c["type"] == "track"] == ["Signed Up"]
    assert [(e.name, e.person) for e in fake.journeys.events()] == [("Signed Up", "u1")]
    assert fake.journeys.people == {"u1": {"plan": "pro"}, "u2": {"plan": "free"}}
    assert fake.journeys.deletions == [] and fake.journeys.suppressions == []
    assert fake.journeys.devices == {} and fake.journeys.delivery_metrics == []


def test_plain_track_user_deleted_journeys_off_deletes(fake: FakeCio, client: Client) -> None:
    """journeys=False sends track(event="User Deleted"): Journeys deletes the person."""
    frame(uid=["u1", "u2"], plan=["pro", "free"]).cio.identify(user_id="uid", client=client)
    result = frame(uid=["u1"]).cio.track(
        user_id="uid", event="User Deleted", journeys=False, client=client
    )
    assert statuses(result) == ["sent"]
    # Not dropped: the deletePerson action takes it, as the check warned.
    assert fake.journeys.deletions == [Deletion("person", ("u1",), result["message_id"].iloc[0])]
    assert list(fake.journeys.people) == ["u2"] and fake.journeys.events() == []


def test_plain_track_group_deleted_journeys_off_is_an_event(fake: FakeCio, client: Client) -> None:
    """journeys=False sends track(event="Group Deleted"): it lands as a custom event only."""
    frame(account=["acme"]).cio.objects.upsert(object_id="account", object_type_id=1, client=client)
    result = frame(uid=["u1"]).cio.track(
        user_id="uid", event="Group Deleted", journeys=False, client=client
    )
    assert statuses(result) == ["sent"]
    assert [(e.name, e.person) for e in fake.journeys.events()] == [("Group Deleted", "u1")]
    assert ("1", "acme") in fake.journeys.objects and fake.journeys.deletions == []


def test_report_delivery_event_without_person_lands(fake: FakeCio, client: Client) -> None:
    """Every metric is accepted without a person, with actionName and actionValue."""
    report = frame(
        deliveryId=[f"d{i}" for i in range(len(METRICS))],
        metric=list(METRICS),
        actionName=["btn"] * len(METRICS),
        actionValue=["ok"] * len(METRICS),
    )
    result = report.cio.semantic.customerio("Report Delivery Event", client=client)
    assert statuses(result) == ["sent"] * len(METRICS)
    landed = fake.journeys.delivery_metrics
    assert [(m.metric, m.action_name, m.action_value) for m in landed] == [
        (m, "btn", "ok") for m in METRICS
    ]


def test_identical_rows_are_distinct_events(fake: FakeCio, client: Client) -> None:
    """Three Added to Cart rows, two identical: three events land, one id each."""
    carts = frame(uid=["u1", "u1", "u1"], sku=["a", "a", "b"])
    result = carts.cio.track(user_id="uid", event="Added to Cart", client=client)
    assert statuses(result) == ["sent"] * 3
    assert len(fake.journeys.events("u1")) == 3
    assert set(result["message_id"]) == fake.journeys.event_ids


def test_message_ids_are_ulids(fake: FakeCio, client: Client) -> None:
    """Each messageId (the Journeys event id) is a ULID."""
    result = frame(uid=["u1", "u2"]).cio.track(user_id="uid", event="Logged In", client=client)
    assert all(ULID.match(str(m)) for m in result["message_id"])


# Journeys limits


def test_identify_over_300_attributes_is_invalid(fake: FakeCio, client: Client) -> None:
    """A row with 301 traits is invalid, saying so; a row with 300 lands whole."""
    wide = frame(uid=["u1", "u2"], **{f"t{i}": [i, i if i < 300 else None] for i in range(301)})
    result = wide.cio.identify(user_id="uid", client=client)
    assert statuses(result) == ["invalid", "sent"] and "300 attributes" in error_of(result)
    assert list(fake.journeys.people) == ["u2"] and len(fake.journeys.person("u2") or {}) == 300


def test_long_attribute_name_is_invalid(fake: FakeCio, client: Client) -> None:
    """A trait column whose name is over 150 bytes makes the row invalid; nothing is sent."""
    result = frame(uid=["u1"], **{"n" * 151: ["v"]}).cio.identify(user_id="uid", client=client)
    assert statuses(result) == ["invalid"] and "150 bytes" in error_of(result)
    assert fake.requests == []


def test_long_attribute_name_journeys_off(fake: FakeCio, client: Client) -> None:
    """journeys=False sends it; Journeys drops the whole identify, saying why."""
    result = frame(uid=["u1"], **{"n" * 151: ["v"]}).cio.identify(
        user_id="uid", journeys=False, client=client
    )
    assert statuses(result) == ["sent"] and fake.journeys.people == {}
    assert "150 bytes" in dropped_by(fake, "createUpdatePerson").reason


def test_long_attribute_value_is_invalid(fake: FakeCio, client: Client) -> None:
    """A trait over 1,000 bytes makes its row invalid, naming the column; others are sent."""
    people = frame(uid=["u1", "u2"], bio=["é" * 501, "short"])
    result = people.cio.identify(user_id="uid", client=client)
    assert statuses(result) == ["invalid", "sent"] and "bio" in error_of(result)
    assert fake.journeys.people == {"u2": {"bio": "short"}}


def test_long_attribute_value_journeys_off(fake: FakeCio, client: Client) -> None:
    """journeys=False sends both rows; Journeys drops the long one, naming the attribute."""
    people = frame(uid=["u1", "u2"], bio=["é" * 501, "short"])
    result = people.cio.identify(user_id="uid", journeys=False, client=client)
    assert statuses(result) == ["sent", "sent"]
    assert fake.journeys.people == {"u2": {"bio": "short"}}
    assert "'bio'" in dropped_by(fake, "createUpdatePerson").reason


def test_long_event_name_raises(fake: FakeCio, client: Client) -> None:
    """A constant event name over 100 bytes raises, giving its size; nothing is sent."""
    with pytest.raises(
        ColumnError, match=rf"track\(\): event= is 101 bytes.*over 100 bytes.*{OFF}"
    ):
        frame(uid=["u1"]).cio.track(user_id="uid", event="E" * 101, client=client)
    assert fake.requests == []


def test_long_event_name_in_a_column_is_invalid(fake: FakeCio, client: Client) -> None:
    """An event cell over 100 bytes (counted in UTF-8) is invalid; 100 bytes lands."""
    events = frame(uid=["u1", "u2", "u3"], ev=["Short", "é" * 51, "é" * 50])
    result = events.cio.track(user_id="uid", event="ev", client=client)
    assert statuses(result) == ["sent", "invalid", "sent"]
    assert "event" in error_of(result, 1) and "100 bytes" in error_of(result, 1)
    assert [(e.name, e.person) for e in fake.journeys.events()] == [
        ("Short", "u1"),
        ("é" * 50, "u3"),
    ]


def test_long_event_name_journeys_off(fake: FakeCio, client: Client) -> None:
    """journeys=False sends the long name; Journeys drops the event, saying why."""
    result = frame(uid=["u1"]).cio.track(
        user_id="uid", event="E" * 101, journeys=False, client=client
    )
    assert statuses(result) == ["sent"] and [c["event"] for c in fake.calls] == ["E" * 101]
    assert fake.journeys.events() == []
    assert "100 bytes" in dropped_by(fake, "trackEvent").reason


def test_event_data_over_100kb_never_sent(fake: FakeCio, client: Client) -> None:
    """Event data over 100,000 bytes is over the 32 KB call limit too: too_large, never sent."""
    result = frame(uid=["u1"], blob=["x" * 100_001]).cio.track(
        user_id="uid", event="Big", client=client
    )
    assert statuses(result) == ["too_large"] and fake.calls == []


# Strict mode and rejection (the client's side)


def test_client_asks_for_strict_mode(fake: FakeCio, client: Client) -> None:
    """Every request carries X-Strict-Mode: 1 by default."""
    frame(uid=["u1"]).cio.track(user_id="uid", event="E", client=client)
    assert all(r.headers.get("X-Strict-Mode") == "1" for r in fake.requests)


def test_refused_call_is_rejected_and_the_rest_sent(client: Client) -> None:
    """A refused row is rejected with the service's reason; every other row is sent and lands."""
    with FakeCio(refuse=lambda call: "u3 refused" if call.get("userId") == "u3" else None) as fake:
        with Client(fake.api_key, base_url=fake.url) as own:
            result = frame(uid=[f"u{i}" for i in range(6)]).cio.track(
                user_id="uid", event="E", client=own
            )
        assert statuses(result) == ["sent"] * 3 + ["rejected"] + ["sent"] * 2
        assert "u3 refused" in error_of(result, 3)
        assert sorted(e.person or "" for e in fake.journeys.events()) == [
            "u0",
            "u1",
            "u2",
            "u4",
            "u5",
        ]
