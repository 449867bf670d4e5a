"""What Customer.io Journeys needs, checked before anything is sent (issue 11, item 2).

Each test here is a loss that was reported ``sent``: the Data Pipelines API
answered 200 and the Journeys destination dropped or misrouted the call.
They assert on the calls the fake recorded and on the result frame.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import pandas_cio
from pandas_cio.testing import FakeCio

OFF = "(journeys=False turns this check off)"


def calls(fake: FakeCio) -> list[dict[str, Any]]:
    """The calls the fake accepted, without their messageIds and the send's own stamp.

    No test here passes ``timestamp=``, so every ``timestamp`` is the stamp an
    event send puts on its calls (see :mod:`pandas_cio.prepare.stamping`).
    """
    return [
        {k: v for k, v in call.items() if k not in ("messageId", "timestamp")}
        for call in fake.calls
    ]


# Application Installed / Opened / Uninstalled ---------------------------------


def test_app_opened_carries_token_and_platform_in_context_device(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """token= and platform= land in context.device, where Journeys' device action reads them."""
    opens = pd.DataFrame(
        {"uid": ["u1", "u2", "u3"], "push": ["t1", None, "t3"], "os": ["ios", "android", None]}
    )
    result = opens.cio.semantic.mobile(
        "Application Opened", user_id="uid", token="push", platform="os", client=cio_client
    )
    assert result["status"].tolist() == ["sent", "invalid", "invalid"]
    assert result.loc[1, "error"].startswith("push (token=): is missing; ")
    assert result.loc[2, "error"].startswith("os (platform=): is missing; ")
    assert "createUpdateDevice" in result.loc[2, "error"]
    assert result.loc[2, "error"].endswith(OFF)
    assert calls(cio_fake) == [
        {
            "type": "track",
            "event": "Application Opened",
            "userId": "u1",
            "context": {"device": {"token": "t1", "type": "ios"}},
        }
    ]


def test_app_installed_needs_token_and_platform_arguments() -> None:
    """Without token= (or platform=) Journeys drops every row: raise before sending."""
    frame = pd.DataFrame({"uid": ["u1"], "push": ["t1"]})
    with pytest.raises(pandas_cio.ColumnError, match=r"needs token=.*context\.device\.token"):
        frame.cio.semantic.mobile("Application Installed", user_id="uid", dry_run=True)
    with pytest.raises(pandas_cio.ColumnError, match=r"needs platform=.*context\.device\.type"):
        frame.cio.semantic.mobile(
            "Application Installed", user_id="uid", token="push", dry_run=True
        )


def test_app_uninstalled_needs_the_token_but_not_the_platform(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """Uninstall goes to Journeys' deleteDevice action: user and token suffice."""
    gone = pd.DataFrame({"uid": ["u1"], "push": ["t1"]})
    result = gone.cio.semantic.mobile(
        "Application Uninstalled", user_id="uid", token="push", client=cio_client
    )
    assert result["status"].tolist() == ["sent"]
    assert calls(cio_fake)[0]["context"] == {"device": {"token": "t1"}}


@pytest.mark.parametrize(
    "event", ["Application Installed", "Application Opened", "Application Uninstalled"]
)
def test_anonymous_app_device_events_are_refused(event: str) -> None:
    """Anonymous installs can never land (Journeys' device actions need a user id)."""
    frame = pd.DataFrame({"anon": ["a1"], "push": ["t1"]})
    with pytest.raises(pandas_cio.ColumnError, match="cannot take anonymous_id=") as caught:
        frame.cio.semantic.mobile(event, anonymous_id="anon", token="push", dry_run=True)
    assert "journeys=False" in str(caught.value)


def test_app_events_without_journeys_go_as_the_api_takes_them(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """journeys=False: an anonymous install without a device is a plain event again."""
    apps = pd.DataFrame({"anon": ["a1"], "version": ["2.1"]})
    result = apps.cio.semantic.mobile(
        "Application Installed", anonymous_id="anon", client=cio_client, journeys=False
    )
    assert result["status"].tolist() == ["sent"]
    assert calls(cio_fake) == [
        {
            "type": "track",
            "event": "Application Installed",
            "anonymousId": "a1",
            "properties": {"version": "2.1"},
        }
    ]


def test_other_mobile_events_need_no_device() -> None:
    """Application Backgrounded is a plain event for Journeys too; anonymous is fine."""
    frame = pd.DataFrame({"anon": ["a1"]})
    result = frame.cio.semantic.mobile(
        "Application Backgrounded", anonymous_id="anon", dry_run=True
    )
    assert result["status"].tolist() == ["dry_run"]


# Pages, screens, devices ----------------------------------------------------------


def test_page_url_role_lands_in_properties_url(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """url= (a column) goes to properties.url; rows without one are invalid, naming the column."""
    views = pd.DataFrame({"uid": ["u1", "u2"], "link": ["https://x.io/a", None], "ms": [5, 6]})
    result = views.cio.page(user_id="uid", url="link", client=cio_client)
    assert result["status"].tolist() == ["sent", "invalid"]
    assert result.loc[1, "error"] == (
        "link (url=): is missing; Customer.io Journeys names page views by their url "
        f"and drops those without one {OFF}"
    )
    assert calls(cio_fake) == [
        {"type": "page", "userId": "u1", "properties": {"url": "https://x.io/a", "ms": 5}}
    ]


def test_page_url_as_a_constant(cio_fake: FakeCio, cio_client: pandas_cio.Client) -> None:
    """url= may be one address for every row."""
    views = pd.DataFrame({"uid": ["u1"]})
    views.cio.page(user_id="uid", url="https://x.io/pricing", client=cio_client)
    assert calls(cio_fake)[0]["properties"] == {"url": "https://x.io/pricing"}


def test_page_url_from_a_property_column_called_url(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """Without url=, a payload column 'url' serves, and is held to the same need."""
    views = pd.DataFrame({"uid": ["u1", "u2"], "url": ["https://x.io/a", None]})
    result = views.cio.page(user_id="uid", name="A", client=cio_client)
    assert result["status"].tolist() == ["sent", "invalid"]
    assert result.loc[1, "error"].startswith("url: is missing; ")
    assert calls(cio_fake)[0]["properties"] == {"url": "https://x.io/a"}


def test_page_without_any_url_raises_before_sending() -> None:
    """No url= and no url column: Journeys would drop every row."""
    views = pd.DataFrame({"uid": ["u1"], "title": ["Pricing"]})
    with pytest.raises(pandas_cio.ColumnError, match=r"page\(\) needs url= \(or a column 'url'\)"):
        views.cio.page(user_id="uid", name="Pricing", dry_run=True)
    result = views.cio.page(user_id="uid", name="Pricing", dry_run=True, journeys=False)
    assert result["status"].tolist() == ["dry_run"]


def test_page_url_twice_raises() -> None:
    """url= and a url column would both be properties.url: say so instead of picking one."""
    views = pd.DataFrame({"uid": ["u1"], "url": ["https://x.io/a"], "link": ["https://x.io/b"]})
    with pytest.raises(pandas_cio.ColumnError, match="url= and column 'url' would both be sent"):
        views.cio.page(user_id="uid", url="link", dry_run=True)


def test_screen_without_name_argument_raises() -> None:
    """A screen view without a name is dropped by Journeys: name= is needed."""
    frame = pd.DataFrame({"uid": ["u1"]})
    with pytest.raises(pandas_cio.ColumnError, match=r"screen\(\) needs name="):
        frame.cio.screen(user_id="uid", dry_run=True)


def test_device_register_needs_a_platform(cio_fake: FakeCio, cio_client: pandas_cio.Client) -> None:
    """devices.register: platform= is needed and a row without one is invalid."""
    phones = pd.DataFrame({"uid": ["u1", "u2"], "push": ["t1", "t2"], "os": ["ios", None]})
    with pytest.raises(pandas_cio.ColumnError, match=r"devices\.register\(\) needs platform="):
        phones.cio.devices.register(user_id="uid", token="push", dry_run=True)
    result = phones.cio.devices.register(
        user_id="uid", token="push", platform="os", client=cio_client
    )
    assert result["status"].tolist() == ["sent", "invalid"]
    assert result.loc[1, "error"].startswith("os (platform=): is missing; ")
    assert len(cio_fake.calls) == 1


# Reserved event names in plain track() ---------------------------------------------


@pytest.mark.parametrize(
    ("event", "method"),
    [
        ("User Deleted", "df.cio.delete(...)"),
        ("User Suppressed", "df.cio.suppress(...)"),
        ("User Unsuppressed", "df.cio.unsuppress(...)"),
        ("Device Created or Updated", "df.cio.devices.register(...)"),
        ("Device Deleted", "df.cio.devices.delete(...)"),
        ("Object Deleted", "df.cio.objects.delete(...)"),
        ("Relationship Deleted", "df.cio.objects.unrelate(...)"),
        ("Application Installed", "df.cio.semantic.mobile('Application Installed', ...)"),
        ("Application Opened", "df.cio.semantic.mobile('Application Opened', ...)"),
        ("Application Uninstalled", "df.cio.semantic.mobile('Application Uninstalled', ...)"),
        (
            "Report Delivery Event",
            "df.cio.semantic.customerio('Report Delivery Event', ...)",
        ),
    ],
)
def test_a_reserved_constant_event_raises_with_the_method_to_use(event: str, method: str) -> None:
    """track(event='User Deleted') would silently delete people: refused, pointing to delete."""
    frame = pd.DataFrame({"uid": ["u1"]})
    with pytest.raises(pandas_cio.ColumnError) as caught:
        frame.cio.track(user_id="uid", event=event, dry_run=True)
    message = str(caught.value)
    assert message.startswith(f"track(event={event!r}): ")
    assert method in message


def test_group_deleted_in_track_points_to_objects_delete() -> None:
    """track('Group Deleted') deletes nothing; the pointer is objects.delete."""
    frame = pd.DataFrame({"uid": ["u1"]})
    with pytest.raises(pandas_cio.ColumnError, match=r"df\.cio\.objects\.delete"):
        frame.cio.track(user_id="uid", event="Group Deleted", dry_run=True)


def test_reserved_names_in_an_event_column_mark_their_rows(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """A column value that Journeys routes elsewhere makes that row invalid; others go."""
    events = pd.DataFrame(
        {
            "uid": ["u1", "u2", "u3", "u4"],
            "name": ["Signed Up", "User Suppressed", "Application Opened", "user deleted"],
        }
    )
    result = events.cio.track(user_id="uid", event="name", client=cio_client)
    assert result["status"].tolist() == ["sent", "invalid", "invalid", "sent"]
    assert result.loc[1, "error"].startswith(
        "name (event=): 'User Suppressed' is not a plain event"
    )
    assert "df.cio.suppress(...)" in result.loc[1, "error"]
    assert "df.cio.semantic.mobile('Application Opened', ...)" in result.loc[2, "error"]
    assert [c["event"] for c in cio_fake.calls] == ["Signed Up", "user deleted"]


def test_reserved_names_go_with_journeys_off(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """journeys=False: another destination may want 'User Deleted' as a plain event."""
    events = pd.DataFrame({"uid": ["u1"], "name": ["User Deleted"]})
    result = events.cio.track(user_id="uid", event="name", client=cio_client, journeys=False)
    assert result["status"].tolist() == ["sent"]
    assert cio_fake.calls[0]["event"] == "User Deleted"


# Report Delivery Event ---------------------------------------------------------------


def test_report_delivery_event_takes_the_destinations_metrics_without_a_person(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """bounced, spammed, dropped, deferred are valid; no person is needed; actionName lands.

    The API's track schema wants a userId or anonymousId, so the unused
    default anonymousId fills in, as for Object Deleted.
    """
    metrics = pd.DataFrame(
        {
            "deliveryId": ["d1", "d2", "d3", "d4", "d5"],
            "metric": ["bounced", "spammed", "dropped", "deferred", "exploded"],
            "actionName": ["open", None, None, None, None],
        }
    )
    result = metrics.cio.semantic.customerio("Report Delivery Event", client=cio_client)
    assert result["status"].tolist() == ["sent"] * 4 + ["invalid"]
    assert result.loc[4, "error"].startswith("metric: must be one of delivered, opened")
    first = calls(cio_fake)[0]
    assert first == {
        "type": "track",
        "event": "Report Delivery Event",
        "anonymousId": "pandas_cio",
        "properties": {"deliveryId": "d1", "metric": "bounced", "actionName": "open"},
    }


# context= merged deeply ----------------------------------------------------------------


def test_context_constant_is_merged_deeply_with_the_device(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """context={'device': {'model': ...}} keeps the token and platform beside the model."""
    phones = pd.DataFrame({"uid": ["u1"], "push": ["t1"], "os": ["ios"]})
    phones.cio.devices.register(
        user_id="uid",
        token="push",
        platform="os",
        context={"device": {"model": "iPhone15,2"}, "app": {"version": "2.1"}},
        client=cio_client,
    )
    assert calls(cio_fake)[0]["context"] == {
        "device": {"token": "t1", "type": "ios", "model": "iPhone15,2"},
        "app": {"version": "2.1"},
    }


def test_context_setting_a_leaf_an_argument_sets_raises() -> None:
    """context's device.token and token= both: refused, naming both arguments."""
    phones = pd.DataFrame({"uid": ["u1"], "push": ["t1"], "os": ["ios"]})
    with pytest.raises(
        pandas_cio.ColumnError,
        match=r"context= sets context\.device\.token and token= sends context\.device\.token",
    ):
        phones.cio.devices.register(
            user_id="uid",
            token="push",
            platform="os",
            context={"device": {"token": "other"}},
            dry_run=True,
        )
    with pytest.raises(pandas_cio.ColumnError, match=r"context= sets context\.device and token="):
        phones.cio.devices.register(
            user_id="uid", token="push", platform="os", context={"device": "x"}, dry_run=True
        )


def test_context_without_fields_beneath_is_sent_as_given(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """An identify's context dict arrives whole, nested members and empty objects included."""
    people = pd.DataFrame({"id": ["u1"]})
    context = {"ip": "10.0.0.1", "library": {"name": "etl", "extra": {}}, "traits": {}}
    people.cio.identify(user_id="id", context=context, client=cio_client)
    assert calls(cio_fake)[0]["context"] == context


def test_context_column_is_merged_deeply_and_clashes_are_invalid(
    cio_fake: FakeCio, cio_client: pandas_cio.Client
) -> None:
    """A context column: device members kept beside the token; a row setting it too is invalid."""
    phones = pd.DataFrame(
        {
            "uid": ["u1", "u2", "u3"],
            "push": ["t1", "t2", "t3"],
            "ctx": [{"device": {"model": "Pixel"}}, {"device": {"token": "x"}}, {"device": "y"}],
        }
    )
    result = phones.cio.devices.register(
        user_id="uid", token="push", platform="android", context="ctx", client=cio_client
    )
    assert result["status"].tolist() == ["sent", "invalid", "invalid"]
    assert result.loc[1, "error"] == (
        "ctx (context=): sets context.device.token, which token= sends; give it in one place"
    )
    assert calls(cio_fake)[0]["context"] == {
        "device": {"model": "Pixel", "token": "t1", "type": "android"}
    }
    assert phones.loc[0, "ctx"] == {"device": {"model": "Pixel"}}  # the caller's dict is intact


def test_the_schema_refuses_reserved_names_and_missing_device_fields() -> None:
    """pandas_cio.schema() holds the same refusals as a send."""
    track = pandas_cio.schema("track", user_id="uid", event=pandas_cio.col("name"))
    with pytest.raises(Exception, match="routes to another action"):
        track.validate(pd.DataFrame({"uid": ["u1"], "name": ["User Deleted"]}), lazy=True)
    opened = pandas_cio.schema(
        "Application Opened", user_id="uid", token="push", platform=pandas_cio.col("os")
    )
    with pytest.raises(Exception, match=r"context\.device\.type"):
        opened.validate(pd.DataFrame({"uid": ["u1"], "push": ["t"], "os": [None]}), lazy=True)


def test_reserved_name_reasons_read_as_one_sentence() -> None:
    """Every reserved-name reason runs into its "(journeys=False ...)" note without a full stop."""
    from pandas_cio.prepare.plan import RESERVED_EVENTS

    for name, reason in RESERVED_EVENTS.items():
        assert not reason.endswith("."), name
    with pytest.raises(pandas_cio.ColumnError) as info:
        pd.DataFrame({"id": ["u1"]}).cio.track(user_id="id", event="Group Deleted", dry_run=True)
    assert "'Object Deleted' (journeys=False" in str(info.value)
